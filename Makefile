# The two commands: `make run` and `make test`. Both install what is missing
# (scripts/install-deps.sh), build, and go. Build caches live outside the
# clone so CI and fresh checkouts reuse them.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/echoloop/target
export npm_config_cache ?= $(HOME)/.cache/npm
export CARGO_TERM_COLOR ?= never

WASM_OUT := web/src/wasm/pkg
WASM_FILE := $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/release/echoloop_wasm.wasm
RELEASE_BIN := $(CARGO_TARGET_DIR)/release/echoloop
DEBUG_BIN := $(CARGO_TARGET_DIR)/debug/echoloop

.PHONY: help run test deps deps-run web-deps wasm web build build-debug \
        test-rust test-web test-e2e lint fmt bench eval-speech \
        eval-acoustic

help:
	@echo "make run    build and serve on http://localhost:8080 (embedded PostgreSQL under ./data)"
	@echo "make test   every test: Rust, web unit, browser end-to-end"
	@echo "make lint   rustfmt, clippy, eslint"
	@echo "make bench  benchmarks (results go to BENCHMARKS.md by hand)"

run: deps-run build
	scripts/import-dictionaries.sh $(RELEASE_BIN)
	$(RELEASE_BIN) serve --listen $${ECHOLOOP_LISTEN:-127.0.0.1:8080}

test: deps lint test-rust test-web test-e2e

deps:
	@scripts/install-deps.sh

deps-run:
	@scripts/install-deps.sh --run-only

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --prefer-offline --no-audit --no-fund
	@touch $@

web-deps: web/node_modules/.package-lock.json

# cargo decides whether the module is stale; wasm-bindgen runs only when it
# changed, so an unchanged tree does not trigger a web rebuild.
wasm:
	cargo build -p echoloop-wasm --release --target wasm32-unknown-unknown
	@if [[ ! $(WASM_OUT)/echoloop_wasm_bg.wasm -nt $(WASM_FILE) ]]; then \
		echo "wasm-bindgen → $(WASM_OUT)"; \
		wasm-bindgen --target web --out-dir $(WASM_OUT) $(WASM_FILE); \
	fi

WEB_SOURCES = $(shell find web/src web/public web/index.html web/vite.config.ts web/package.json web/tsconfig*.json -type f 2>/dev/null)

web/dist/index.html: $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

web: web-deps wasm
	@$(MAKE) --no-print-directory web/dist/index.html

build: web
	cargo build --release -p echoloop-server

build-debug:
	cargo build -p echoloop-server

test-rust:
	cargo test --workspace --all-targets

test-web: web-deps wasm build-debug
	cd web && npm run lint && ECHOLOOP_BIN=$(DEBUG_BIN) npm test

test-e2e: web build-debug
	cd web && ECHOLOOP_BIN=$(DEBUG_BIN) npm run e2e

lint: web-deps wasm
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p echoloop-wasm -p echoloop-core --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all
	cd web && npx eslint --fix . || true

bench: deps web
	bench/subtitles_vs_pysubs2.sh
	cargo build --release -p echoloop-server --bin echoloop --example loadgen
	scripts/bench-content.sh
	scripts/bench-scoring.py
	cargo run --release -p echoloop-speech --example bench_phone_recogniser
	scripts/bench-sync.py
	cd web && npm run bench

# Speech quality and speed on speech synthesised at run time (results go to
# BENCHMARKS.md by hand): the assessor, then Whisper beside faster-whisper.
eval-speech: deps
	eval/run.sh

# The assessor's acoustic model (hama) beside Debian's pocketsphinx, on
# espeak-ng speech and pocketsphinx's real test recordings (decision 0012;
# results go to BENCHMARKS.md by hand). Installs pocketsphinx and its model
# for this target only.
eval-acoustic:
	eval/pocketsphinx_compare.sh
