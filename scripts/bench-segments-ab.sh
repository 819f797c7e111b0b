#!/usr/bin/env bash
# Same-run A/B of the 20,000-segment list PUT (issue 4): two `echoloop`
# binaries, each serving from its own embedded PostgreSQL, measured
# alternately request by request, so both see the same machine load.
#
#   scripts/bench-segments-ab.sh BASELINE_BIN CANDIDATE_BIN [ROUNDS]
#
# Each round puts 20,000 new segments into a new material on each server
# (identity answer, as curl asks; gzip, as a browser asks; gzip with
# `Prefer: return=minimal`, as the web client's sync sends it) and the same
# list again (unchanged re-import). Every round adds 60,000 rows to one
# user, as a library grows. Prints medians, minima and the ratio.
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 BASELINE_BIN CANDIDATE_BIN [ROUNDS]" >&2; exit 2; }
bins=("$1" "$2")
rounds=${3:-8}
for bin in "${bins[@]}"; do [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }; done

work=$(mktemp -d /var/tmp/echoloop-ab.XXXXXX)
chmod 755 "$work" # the embedded PostgreSQL runs as user postgres
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

bases=() tokens=()
for i in 0 1; do
    port=$((18110 + i))
    mkdir -p "$work/$i/web"
    ECHOLOOP_DATA=$work/$i/data ECHOLOOP_WEB_DIR=$work/$i/web ECHOLOOP_LOG=warn \
    ECHOLOOP_REGISTER_LIMIT_PER_IP=0 \
        "${bins[$i]}" serve --listen 127.0.0.1:$port &
    pids+=($!)
    bases+=("http://127.0.0.1:$port")
done
for i in 0 1; do
    for _ in $(seq 1 240); do curl -fs "${bases[$i]}/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
    tokens+=("$(curl -fs -X POST "${bases[$i]}/api/v1/accounts" -H 'content-type: application/json' \
        -d '{"email":"ab@example.com","password":"correct horse battery staple","native_language":"en"}' | json "['token']")")
done

python3 - "$work" <<'PY'
import json, sys
json.dump({"segments": [{"start_time": i * 1000, "end_time": i * 1000 + 900,
                         "text": f"This is sentence number {i} of the benchmark material.",
                         "translation": f"Ceci est la phrase numéro {i}."} for i in range(20000)]},
          open(f"{sys.argv[1]}/seg20k.json", "w"))
PY

# put I MATERIAL [curl options…] → seconds
put() {
    local i=$1 material=$2
    shift 2
    curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer ${tokens[$i]}" -X PUT \
        -H 'content-type: application/json' "$@" --data-binary @"$work/seg20k.json" \
        "${bases[$i]}/api/v1/materials/$material/segments"
}
new_material() {
    local i=$1 id
    id=$(python3 -c 'import uuid; print(uuid.uuid4())')
    curl -fs -H "Authorization: Bearer ${tokens[$i]}" -X POST "${bases[$i]}/api/v1/materials" \
        -H 'content-type: application/json' \
        -d "{\"id\":\"$id\",\"type\":\"audio\",\"source_type\":\"local_upload\",\"title\":\"ab\"}" >/dev/null
    echo "$id"
}

echo "== $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds"
results=$work/results.tsv
for round in $(seq 1 "$rounds"); do
    # Alternate which server goes first, so neither always meets a warmer cache.
    order=(0 1); ((round % 2)) || order=(1 0)
    for i in "${order[@]}"; do
        material=$(new_material "$i")
        printf '%s\tnew\t%s\n' "$i" "$(put "$i" "$material")" >>"$results"
        printf '%s\tunchanged\t%s\n' "$i" "$(put "$i" "$material")" >>"$results"
        material=$(new_material "$i")
        printf '%s\tnew-gzip\t%s\n' "$i" "$(put "$i" "$material" -H 'Accept-Encoding: gzip')" >>"$results"
        # As the web client sends it: gzip accepted, no list wanted back.
        material=$(new_material "$i")
        printf '%s\tnew-minimal\t%s\n' "$i" "$(put "$i" "$material" -H 'Accept-Encoding: gzip' -H 'Prefer: return=minimal')" >>"$results"
    done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
print("| measurement | baseline median (min) | candidate median (min) | ratio |")
print("| --- | --- | --- | --- |")
for kind in ("new", "new-gzip", "new-minimal", "unchanged"):
    t = [[float(s) * 1000 for b, k, s in rows if k == kind and b == str(i)] for i in (0, 1)]
    m = [statistics.median(x) for x in t]
    print(f"| PUT 20,000 ({kind}) | {m[0]:.0f} ms ({min(t[0]):.0f}) | {m[1]:.0f} ms ({min(t[1]):.0f}) | {m[1]/m[0]:.2f} |")
PY
