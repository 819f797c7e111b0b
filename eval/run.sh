#!/usr/bin/env bash
# `make eval-speech`. Evaluates the built-in pronunciation assessor on speech
# synthesised at run time with espeak-ng (see crates/speech/examples/eval.rs)
# and prints a Markdown report (precision/recall per error type, score
# distributions, Spearman's rho, timings). `-v` also prints one line per
# take to stderr; `--no-transcript`, `--held-out`, `--timing-only`: see
# eval/README.md. Then Whisper transcription against faster-whisper
# (eval/transcribe.sh; run it alone for its options).
#
# Needs: espeak-ng, ffmpeg, python3 + pip (for the model download).
# Takes about five minutes on 2 cores after the build (one without the
# transcript cross-check), plus 10–15 minutes for transcription.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
scripts/fetch-ctranslate2.sh
# The cross-synthesiser set (`--synth flite`) speaks with Debian's flite.
if [[ " $* " == *" flite "* ]] && ! command -v flite >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then echo "--synth flite needs Debian's flite: apt-get install flite" >&2; exit 1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends flite >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target}"
nice -n 19 cargo build --quiet --release -p echoloop-speech --example eval
nice -n 19 "$CARGO_TARGET_DIR/release/examples/eval" "$@"
echo
eval/transcribe.sh
