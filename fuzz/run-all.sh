#!/usr/bin/env bash
# Runs every subtitle fuzz target one after the other for SECONDS each
# (default 600), seeded with the test fixtures. Stable Rust: RUSTC_BOOTSTRAP
# lets cargo-fuzz pass its sanitizer flags. Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(srt vtt ass ttml json3 srv3 lrc import); fi
target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target-fuzz}"
work="${FUZZ_WORK_DIR:-$HOME/.cache/echoloop/fuzz}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus" "$work/artifacts/$target"
  cp ../crates/core/tests/fixtures/subtitles/* "$corpus/"
  echo "== $target: ${seconds}s ($(date -u +%H:%M:%S))"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --target-dir "$target_dir" "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|panicked|SUMMARY|Test unit written' || true
done
