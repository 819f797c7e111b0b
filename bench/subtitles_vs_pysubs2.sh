#!/usr/bin/env bash
# Times echoloop-core's subtitle parsing against Python's pysubs2 on the same
# generated files in the same run (a 2-hour film as SRT/VTT/ASS, ~10 MB
# SRT/VTT). Needs `pip install pysubs2`. Prints a Markdown table.
#
# Both sides time parsing from text already in memory: pysubs2 from the
# decoded string (SSAFile.from_string), echoloop from the bytes, so its time
# also includes encoding and format detection. "import+segment" adds
# sentence segmentation, which pysubs2 does not do.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/echoloop/target}"
python3 -c "import pysubs2" 2>/dev/null || python3 -m pip install --quiet pysubs2
cargo bench -j "${CARGO_BUILD_JOBS:-1}" -q -p echoloop-core --bench subtitles -- --dir "$dir" > "$dir/rust.tsv"

python3 - "$dir" <<'PY'
import statistics, sys, time
import pysubs2

directory = sys.argv[1]
rust = {}
with open(f"{directory}/rust.tsv") as tsv:
    next(tsv)
    for line in tsv:
        case, size, cues, ms = line.rstrip("\n").split("\t")
        rust[case] = (int(size), int(cues), float(ms))

print(f"pysubs2 {pysubs2.__version__}, Python {sys.version.split()[0]}")
print()
print("| file | bytes | cues | pysubs2 ms | echoloop parse ms | speed-up | echoloop parse+segment ms |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in ["film.srt", "film.vtt", "film.ass", "big.srt", "big.vtt"]:
    with open(f"{directory}/{name}", encoding="utf-8") as f:
        text = f.read()
    fmt = {"srt": "srt", "vtt": "vtt", "ass": "ass"}[name.rsplit(".", 1)[1]]
    runs = 3 if len(text) > 1_000_000 else 15
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
        times.append((time.perf_counter() - started) * 1000)
    py = statistics.median(times)
    size, cues, parse = rust[f"parse {name}"]
    _, _, full = rust[f"import+segment {name}"]
    print(f"| {name} | {size:,} | {cues:,} (pysubs2: {len(subs):,}) | {py:.1f} | {parse:.2f} | {py / parse:.0f}x | {full:.2f} |")
PY
