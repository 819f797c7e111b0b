#!/usr/bin/env bash
# Content API and media storage benchmarks (issue 4), run by `make bench`:
#   1. a 1 GiB upload through the API (tus PATCH, local storage) vs `dd` of
#      the same file to the same disk, and the server's peak RSS;
#   2. putting 20,000 segments in one request;
#   3. reading a segment list back at a fixed rate (examples/loadgen.rs).
# Prints the numbers; copy them into BENCHMARKS.md ("Content API" section).
set -euo pipefail

target=${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target}
bin=$target/release/echoloop
loadgen=$target/release/examples/loadgen
[[ -x $bin && -x $loadgen ]] || { echo "build first: cargo build --release -p echoloop-server --bin echoloop --example loadgen" >&2; exit 1; }

# Under /var/tmp: on disk, not tmpfs, and the same disk for dd and the server.
work=$(mktemp -d /var/tmp/echoloop-bench.XXXXXX)
chmod 755 "$work" # the embedded PostgreSQL runs as user postgres
port=${BENCH_PORT:-18099}
base=http://127.0.0.1:$port
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

mkdir -p "$work/web"
ECHOLOOP_DATA=$work/data ECHOLOOP_WEB_DIR=$work/web ECHOLOOP_LOG=warn \
ECHOLOOP_FREE_LARGE_MEDIA_BACKUP=true ECHOLOOP_FREE_STORAGE_MB=100000 \
ECHOLOOP_REGISTER_LIMIT_PER_IP=0 \
    "$bin" serve --listen 127.0.0.1:$port &
server_pid=$!
for _ in $(seq 1 120); do
    curl -fs "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.5
done

token=$(curl -fs -X POST "$base/api/v1/accounts" -H 'content-type: application/json' \
    -d "{\"email\":\"bench-$RANDOM@example.com\",\"password\":\"correct horse battery staple\",\"native_language\":\"en\"}" | json "['token']")
auth=(-H "Authorization: Bearer $token")
new_material() {
    local id
    id=$(python3 -c 'import uuid; print(uuid.uuid4())')
    curl -fs "${auth[@]}" -X POST "$base/api/v1/materials" -H 'content-type: application/json' \
        -d "{\"id\":\"$id\",\"type\":\"audio\",\"source_type\":\"local_upload\",\"title\":\"bench\"}" >/dev/null
    echo "$id"
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(date -u +%Y-%m-%dT%H:%MZ)"

# 1. 1 GiB upload vs dd.
big=$work/big.wav
ffmpeg -hide_banner -loglevel error -f lavfi -i "sine=frequency=440:sample_rate=48000" -ac 2 -t 5592.4 "$big"
size=$(stat -c %s "$big")
cat "$big" >/dev/null # both runs read from the page cache
rss_before=$(awk '/VmHWM/{print $2}' /proc/$server_pid/status)
for run in 1 2; do
    sync
    dd_out=$(dd if="$big" of="$work/dd.out" bs=8M conv=fsync 2>&1 | tail -1)
    rm -f "$work/dd.out"
    dd_secs=$(echo "$dd_out" | sed -E 's/.* copied, ([0-9.]+) s.*/\1/')
    material=$(new_material)
    meta="target $(printf material | base64),material_id $(printf %s "$material" | base64)"
    location=$(curl -fs -D - -o /dev/null "${auth[@]}" -X POST "$base/api/v1/uploads" \
        -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" -H "Upload-Metadata: $meta" |
        awk 'tolower($1)=="location:"{print $2}' | tr -d '\r')
    sync
    api_secs=$(curl -fs -o /dev/null -w '%{time_total}' "${auth[@]}" -X PATCH -T "$big" "$base$location" \
        -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream')
    stored=$(curl -fs "${auth[@]}" "$base/api/v1/materials/$material" | json "['media_size']")
    [[ $stored == "$size" ]] || { echo "upload incomplete: $stored of $size" >&2; exit 1; }
    python3 - "$size" "$dd_secs" "$api_secs" <<'PY'
import sys
size, dd, api = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
mib = size / 2**20
print(f"upload 1 GiB: dd {mib/dd:.0f} MiB/s ({dd:.2f} s), API {mib/api:.0f} MiB/s ({api:.2f} s, incl. fsync + ffprobe) = {100*dd/api:.0f}% of dd")
PY
done
rss_after=$(awk '/VmHWM/{print $2}' /proc/$server_pid/status)
echo "server peak RSS: $((rss_before / 1024)) MiB before the uploads, $((rss_after / 1024)) MiB after"
# The uploads leave gigabytes of dirty pages; written back during the next
# measurements they would slow every commit's WAL flush.
rm -f "$big"
sync

# 2. 20,000 segments in one PUT.
python3 - "$work" <<'PY'
import json, sys
def segments(n):
    return {"segments": [{"start_time": i * 1000, "end_time": i * 1000 + 900,
                          "text": f"This is sentence number {i} of the benchmark material.",
                          "translation": f"Ceci est la phrase numéro {i}."} for i in range(n)]}
json.dump(segments(20000), open(f"{sys.argv[1]}/seg20k.json", "w"))
json.dump(segments(500), open(f"{sys.argv[1]}/seg500.json", "w"))
PY
# Eleven runs each: one run moves by ±20 % on this kind of machine.
runs=11
summary() { python3 -c 'import statistics,sys; t=sorted(float(x)*1000 for x in sys.argv[1:]); print(f"median {statistics.median(t):.0f} ms, {t[0]:.0f}–{t[-1]:.0f} ms, {sum(x >= 300 for x in t)} of {len(t)} at 300 ms or more")' "$@"; }
times=()
for _ in $(seq $runs); do
    material=$(new_material)
    times+=("$(curl -fs -o /dev/null -w '%{time_total}' "${auth[@]}" -X PUT -H 'content-type: application/json' \
        --data-binary @"$work/seg20k.json" "$base/api/v1/materials/$material/segments")")
done
echo "PUT 20,000 segments (new material), $runs runs: $(summary "${times[@]}")"
times=()
for _ in $(seq $runs); do
    material=$(new_material)
    times+=("$(curl -fs -o /dev/null -w '%{time_total}' "${auth[@]}" -X PUT -H 'content-type: application/json' \
        -H 'Accept-Encoding: gzip' -H 'Prefer: return=minimal' \
        --data-binary @"$work/seg20k.json" "$base/api/v1/materials/$material/segments")")
done
echo "PUT 20,000 segments (new material) as the web client sends it (Prefer: return=minimal), $runs runs: $(summary "${times[@]}")"
times=()
for _ in 1 2 3; do
    times+=("$(curl -fs -o /dev/null -w '%{time_total}' "${auth[@]}" -X PUT -H 'content-type: application/json' \
        --data-binary @"$work/seg20k.json" "$base/api/v1/materials/$material/segments")")
done
echo "PUT 20,000 segments again (unchanged re-import), seconds: ${times[*]}"

# 3. Reads at a fixed rate.
etag=$(curl -fs -D - -o /dev/null "${auth[@]}" "$base/api/v1/materials/$material/segments" | awk 'tolower($1)=="etag:"{print $2}' | tr -d '\r')
bytes=$(curl -fs "${auth[@]}" "$base/api/v1/materials/$material/segments" | wc -c)
echo "GET 20,000 segments, revalidated (If-None-Match → 304) at 500/s for 10 s:"
"$loadgen" "$base/api/v1/materials/$material/segments" 500 10 "Authorization: Bearer $token" "If-None-Match: $etag"
gzbytes=$(curl -fs -H 'Accept-Encoding: gzip' "${auth[@]}" "$base/api/v1/materials/$material/segments" | wc -c)
echo "GET 20,000 segments, full body gzip ($gzbytes bytes) at 500/s for 10 s:"
"$loadgen" "$base/api/v1/materials/$material/segments" 500 10 "Authorization: Bearer $token" "Accept-Encoding: gzip"
echo "GET 20,000 segments, full body identity ($bytes bytes) at 100/s for 10 s:"
"$loadgen" "$base/api/v1/materials/$material/segments" 100 10 "Authorization: Bearer $token"
small=$(new_material)
curl -fs -o /dev/null "${auth[@]}" -X PUT -H 'content-type: application/json' --data-binary @"$work/seg500.json" \
    "$base/api/v1/materials/$small/segments"
echo "GET 500 segments, full body at 500/s for 10 s:"
"$loadgen" "$base/api/v1/materials/$small/segments" 500 10 "Authorization: Bearer $token"
