#!/usr/bin/env bash
# Regenerates crates/speech/src/calibration.tsv from native synthetic speech.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
scripts/fetch-ctranslate2.sh
out="$(mktemp)"
nice -n 19 cargo run --quiet --release -p echoloop-speech --example calibrate > "$out"
mv "$out" crates/speech/src/calibration.tsv
echo "wrote crates/speech/src/calibration.tsv" >&2
