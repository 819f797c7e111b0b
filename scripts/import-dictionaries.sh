#!/usr/bin/env bash
# Imports every FreeDict dictionary installed under /usr/share/dictd into the
# server's database, once per file (a stamp under the data directory
# remembers which edition was imported). `make run` calls it before
# serving, so the word panel has meanings on the embedded defaults.
#
#   scripts/import-dictionaries.sh ECHOLOOP_BIN
#
# Environment: ECHOLOOP_DATA (default ./data), DATABASE_URL (optional),
# ECHOLOOP_DICTIONARIES (default /usr/share/dictd).
set -euo pipefail

bin=${1:?usage: $0 ECHOLOOP_BIN}
data=${ECHOLOOP_DATA:-./data}
dir=${ECHOLOOP_DICTIONARIES:-/usr/share/dictd}
stamps=$data/.dictionaries
migrated=false

shopt -s nullglob
for index in "$dir"/freedict-*-*.index; do
    name=$(basename "$index" .index)
    pair=${name#freedict-}
    from=${pair%-*}
    to=${pair#*-}
    stamp=$stamps/$name-$(stat -c %s-%Y "$index")
    [[ -f $stamp ]] && continue
    if ! $migrated; then
        "$bin" migrate --data-dir "$data"
        migrated=true
    fi
    echo "importing the $from → $to dictionary ($index)"
    "$bin" dict import --data-dir "$data" --from "$from" --to "$to" "$index"
    mkdir -p "$stamps"
    rm -f "$stamps/$name"-*
    touch "$stamp"
done
