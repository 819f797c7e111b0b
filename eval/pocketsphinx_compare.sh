#!/usr/bin/env bash
# `make eval-acoustic`. The assessor's acoustic model (hama, PyPI) beside
# Debian's pocketsphinx + pocketsphinx-en-us on espeak-ng speech synthesised
# at run time: phone error rate of free phone recognition, separation of
# minimal-pair substitutions in forced alignment, speed and memory, and
# hama on French/Spanish/German (eval/pocketsphinx_compare.py says how).
# Prints Markdown; results go to BENCHMARKS.md by hand.
#
# Installs what is missing: pocketsphinx, pocketsphinx-en-us,
# pocketsphinx-testdata (its real recordings), espeak-ng, sox (Debian, as
# root; for this evaluation only, not for `make test`), the hama wheel
# (scripts/fetch-models.sh, pinned and checksummed) and numpy into a venv
# under ~/.cache/echoloop/.
# Options: --quick (smoke test), --keep DIR (keep audio and logs).
# Takes 10-15 minutes on 2 cores, most of it pocketsphinx's
# context-dependent phone loop.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real (not synthetic) English recordings with transcripts come with
# pocketsphinx-testdata (1.8 MB).
eval/need-debian.sh pocketsphinx pocketsphinx-en-us pocketsphinx-testdata espeak-ng sox

scripts/fetch-models.sh
cache="${ECHOLOOP_MODEL_CACHE:-$HOME/.cache/echoloop/models}"
HAMA_WHEEL="$cache/hama-1.7.0-py3-none-any.whl" # downloaded and checked by fetch-models.sh
NUMPY_VERSION=2.4.6
venv="${ECHOLOOP_ACOUSTIC_VENV:-$HOME/.cache/echoloop/acoustic-venv}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import numpy, hama.asr" 2>/dev/null; then
  echo "installing numpy $NUMPY_VERSION and hama 1.7.0 into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "numpy==$NUMPY_VERSION" "$HAMA_WHEEL"
fi

exec nice -n 10 "$venv/bin/python" eval/pocketsphinx_compare.py --python "$venv/bin/python" "$@"
