#!/usr/bin/env bash
# Evaluates Whisper transcription (crates/speech/examples/eval_transcribe.rs)
# on speech synthesised at run time with espeak-ng, side by side with the
# faster-whisper Python package on the same files, and prints a Markdown
# report (WER, sentence timing errors, language detection, bad input,
# real-time factor, peak memory). Options go to the harness:
#   --reps N      best of N runs per engine and model (default 1)
#   --skip-long   without the three-hour file (saves about 5 minutes)
#   --recorded    accuracy and language detection on real recorded prompts
#                 (Debian's asterisk-core-sounds-*, installed when missing)
#
# faster-whisper is installed into a venv under ~/.cache/echoloop (from the
# configured package index); without it the comparison columns are missing.
# Needs: espeak-ng, python3 (venv, pip). Takes 10–15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
scripts/fetch-ctranslate2.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target}"
if [[ " $* " == *" --recorded "* ]]; then
  packages=()
  for lang in en fr es it ru; do packages+=("asterisk-core-sounds-$lang-g722" "asterisk-core-sounds-$lang"); done
  eval/need-debian.sh "${packages[@]}"
fi

FASTER_WHISPER_VERSION=1.2.1
venv="${ECHOLOOP_FW_VENV:-$HOME/.cache/echoloop/fw-venv}"
python=()
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import faster_whisper" 2>/dev/null; then
  echo "installing faster-whisper $FASTER_WHISPER_VERSION into $venv (for the comparison)" >&2
  { python3 -m venv "$venv" && "$venv/bin/python" -m pip install --quiet \
      "faster-whisper==$FASTER_WHISPER_VERSION"; } >&2 \
    || echo "faster-whisper could not be installed; comparing nothing" >&2
fi
if "$venv/bin/python" -c "import faster_whisper" 2>/dev/null; then
  python=(--python "$venv/bin/python")
fi

nice -n 10 cargo build --quiet --release -p echoloop-speech --example eval_transcribe
"$CARGO_TARGET_DIR/release/examples/eval_transcribe" "${python[@]}" "$@"
