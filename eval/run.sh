#!/usr/bin/env bash
# `make eval-speech`. Evaluates the built-in pronunciation assessor on speech
# synthesised at run time with espeak-ng (see crates/speech/examples/eval/)
# and prints a Markdown report (precision/recall per error type, score
# distributions, Spearman's rho, timings). `-v` also prints one line per
# take to stderr; `--no-transcript`, `--held-out`, `--synth flite`,
# `--recorded`, `--timing-only`: see eval/README.md. Without options it
# then evaluates the recorded set too, and Whisper transcription against
# faster-whisper (eval/transcribe.sh, synthetic and recorded; run it alone
# for its options).
#
# Needs: espeak-ng, ffmpeg, python3 + pip (for the model download); the
# recorded set installs Debian's asterisk-core-sounds-en(-g722) and
# wamerican, `--synth flite` flite (as root).
# Without options, after the build: about 15 minutes on 2 quiet cores
# (assessor sets 5, transcription with the three-hour file 10).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
scripts/fetch-ctranslate2.sh
# The cross-synthesiser set (`--synth flite`) speaks with Debian's flite;
# the recorded set reads Debian's recorded prompts and word list.
recorded=(asterisk-core-sounds-en-g722 asterisk-core-sounds-en wamerican)
[[ " $* " == *" flite "* ]] && eval/need-debian.sh flite
[[ $# -eq 0 || " $* " == *" --recorded "* ]] && eval/need-debian.sh "${recorded[@]}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target}"
nice -n 19 cargo build --quiet --release -p echoloop-speech --example eval
nice -n 19 "$CARGO_TARGET_DIR/release/examples/eval" "$@"
if [[ $# -eq 0 ]]; then
  echo
  nice -n 19 "$CARGO_TARGET_DIR/release/examples/eval" --recorded --no-timing
  echo
  eval/transcribe.sh
  echo
  eval/transcribe.sh --recorded
fi
