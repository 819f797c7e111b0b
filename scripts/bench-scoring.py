#!/usr/bin/env python3
"""Server speech benchmark, run by `make bench`: how long a learner waits
from the end of a take's upload to its score, how many takes one instance
scores a minute, and how long a material's transcription takes on the
server against the engine alone (and whether takes wait behind it).

Starts the release server (embedded PostgreSQL, local storage, models from
./models), uploads espeak-ng takes of three sentences (WebM/Opus, as a
browser records) through tus, and polls GET /recordings/{id}/assessments
every 20 ms. Baseline in the same run: the engine's own time for each take,
logged by the job (`assess_ms`), so the ratio is what the queue, storage
and polling add. Prints the numbers; copy them into BENCHMARKS.md.
"""
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/echoloop/target"))
BIN = os.path.join(TARGET, "release", "echoloop")
PORT = int(os.environ.get("BENCH_PORT", "18098"))
BASE = f"http://127.0.0.1:{PORT}"
SENTENCES = [
    "She keeps the window open in summer.",
    "We need a new pen for the test.",
    "My father reads the news every morning before work.",
]
ONE_BY_ONE = 12
BURST = 12
# Spoken material for the transcription run: the sentences, with pauses,
# until it lasts about this long.
MATERIAL_SECONDS = 300
MATERIAL_SENTENCES = [
    "The weather is lovely today.",
    "My brother lives in a small town near the coast.",
    "Please close the door behind you when you leave.",
    "We took the early train to the city and walked to the museum.",
    "Nobody knew where the old map had come from.",
]


def request(method, path, token=None, body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if isinstance(body, (dict, list)):
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    with urllib.request.urlopen(req) as res:
        raw = res.read()
        return res.status, res.headers, (json.loads(raw) if raw and res.headers.get("content-type", "").startswith("application/json") else None)


def take(work, index, sentence):
    wav, webm = f"{work}/t{index}.wav", f"{work}/t{index}.webm"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", wav, sentence], check=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav,
                    "-ar", "48000", "-c:a", "libopus", webm], check=True)
    return open(webm, "rb").read()


def upload(token, segment, audio):
    recording = str(uuid.uuid4())
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    [("target", "recording"), ("recording_id", recording), ("segment_id", segment)])
    _, headers, _ = request("POST", "/api/v1/uploads", token, b"", {
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(audio)), "Upload-Metadata": meta})
    request("PATCH", headers["Location"].removeprefix(BASE), token, audio, {
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    return recording


def material_media(work):
    """An m4a of the sentences with 1.2 s pauses, about MATERIAL_SECONDS long."""
    wav, m4a = f"{work}/material.wav", f"{work}/material.m4a"
    one_round = " <break time=\"1200ms\"/> ".join(MATERIAL_SENTENCES)
    rounds = max(1, MATERIAL_SECONDS // 18)
    ssml = "<speak>" + " <break time=\"1200ms\"/> ".join([one_round] * rounds) + "</speak>"
    subprocess.run(["espeak-ng", "-m", "-v", "en-us", "-w", wav, ssml], check=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav, "-c:a", "aac", m4a], check=True)
    seconds = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", m4a],
                                   check=True, capture_output=True, text=True).stdout)
    return m4a, seconds


def upload_material_media(token, material, data):
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    [("target", "material"), ("material_id", material)])
    _, headers, _ = request("POST", "/api/v1/uploads", token, b"", {
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    request("PATCH", headers["Location"].removeprefix(BASE), token, data, {
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})


def transcription(token, work, segment, take_audio):
    """Server transcription of a material against `echoloop transcribe` on
    the same file, and a take's scoring wait while it runs."""
    path, seconds = material_media(work)
    material = str(uuid.uuid4())
    request("POST", "/api/v1/materials", token, {
        "id": material, "type": "audio", "source_type": "local_upload", "title": "spoken", "language": "en"})
    upload_material_media(token, material, open(path, "rb").read())
    start = time.monotonic()
    request("POST", f"/api/v1/materials/{material}/transcription", token)
    time.sleep(1.0)
    # A take uploaded while the material is transcribed.
    during = wait(token, [upload(token, segment, take_audio)])[0]
    while True:
        _, _, status = request("GET", f"/api/v1/materials/{material}/transcription", token)
        if status["state"] != "pending":
            break
        time.sleep(0.1)
    server_s = time.monotonic() - start
    if status["state"] != "done":
        sys.exit(f"transcription ended {status}")
    started = time.monotonic()
    subprocess.run([BIN, "transcribe", path, "--model", "tiny.en", "--format", "json"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli_s = time.monotonic() - started
    print(f"transcription of {seconds:.0f} s of speech (tiny.en, {status['segments']} segments): "
          f"server {server_s:.1f} s (RTF {server_s / seconds:.3f}, from the request to the segments stored); "
          f"`echoloop transcribe` on the same file {cli_s:.1f} s (RTF {cli_s / seconds:.3f}, model load included); "
          f"ratio {server_s / cli_s:.2f}")
    print(f"a take uploaded meanwhile was scored {during * 1000:.0f} ms after its upload")


def state(token, recording):
    _, _, body = request("GET", f"/api/v1/recordings/{recording}/assessments", token)
    return body["scoring"]["state"]


def wait(token, recordings):
    """Seconds from now until each recording is scored."""
    start, done = time.monotonic(), {}
    while len(done) < len(recordings):
        for r in recordings:
            if r not in done:
                s = state(token, r)
                if s == "failed":
                    sys.exit(f"scoring failed for {r}")
                if s == "done":
                    done[r] = time.monotonic() - start
        time.sleep(0.02)
    return [done[r] for r in recordings]


def ms(values):
    v = sorted(x * 1000 for x in values)
    return f"median {statistics.median(v):.0f} ms ({v[0]:.0f}–{v[-1]:.0f})"


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("build first: cargo build --release -p echoloop-server --bin echoloop")
    work = tempfile.mkdtemp(dir="/var/tmp", prefix="echoloop-bench-scoring.")
    os.chmod(work, 0o755)  # the embedded PostgreSQL runs as user postgres
    os.makedirs(f"{work}/web")
    log = open(f"{work}/server.log", "w")
    env = dict(os.environ, ECHOLOOP_DATA=f"{work}/data", ECHOLOOP_WEB_DIR=f"{work}/web",
               ECHOLOOP_LOG="info", ECHOLOOP_LOG_FORMAT="json", ECHOLOOP_JOB_POLL_MS="50",
               ECHOLOOP_FREE_ASSESSMENTS_PER_DAY="1000", ECHOLOOP_REGISTER_LIMIT_PER_IP="0",
               ECHOLOOP_FREE_LARGE_MEDIA_BACKUP="true", ECHOLOOP_FREE_ASR_MINUTES="600")
    server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{PORT}"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(240):
            try:
                if request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        print(f"== machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
        _, _, account = request("POST", "/api/v1/accounts", None, {
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "correct horse battery staple", "native_language": "en"})
        token = account["token"]
        material = str(uuid.uuid4())
        request("POST", "/api/v1/materials", token, {
            "id": material, "type": "audio", "source_type": "local_upload", "title": "bench", "language": "en-US"})
        _, _, listed = request("PUT", f"/api/v1/materials/{material}/segments", token, {"segments": [
            {"start_time": i * 5000, "end_time": i * 5000 + 4000, "text": s} for i, s in enumerate(SENTENCES)]})
        segments = [s["id"] for s in listed["segments"]]
        audio = [take(work, i, s) for i, s in enumerate(SENTENCES)]

        # The first take also loads the models.
        first = wait(token, [upload(token, segments[0], audio[0])])[0]
        print(f"first take after start (models loaded on first use): {first * 1000:.0f} ms")

        waits = []
        for i in range(ONE_BY_ONE):
            k = i % len(SENTENCES)
            waits += wait(token, [upload(token, segments[k], audio[k])])
        log.flush()
        logged = open(f"{work}/server.log").read()
        engine = [int(m) / 1000 for m in re.findall(r'"assess_ms":(\d+)', logged)][1:]
        engines = sorted(set(re.findall(r'"engine":"([^"]+)"', logged)))
        print(f"engines: {', '.join(engines)}")
        print(f"{ONE_BY_ONE} takes one at a time, upload done → score readable: {ms(waits)}")
        print(f"  engine alone (job log, same takes): {ms(engine)}; "
              f"ratio of medians {statistics.median(waits) / statistics.median(engine):.2f}")

        # A learner back online: the takes go up one after another while
        # the worker scores the first ones; timed from the first upload.
        start = time.monotonic()
        recordings = [upload(token, segments[i % 3], audio[i % 3]) for i in range(BURST)]
        uploaded = time.monotonic() - start
        total = uploaded + max(wait(token, recordings))
        print(f"{BURST} takes uploaded back to back ({uploaded:.1f} s): all scored {total:.1f} s after the first "
              f"upload began = {BURST / total * 60:.0f} takes/min on one instance")
        rss = next(int(l.split()[1]) for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM"))
        print(f"server peak RSS with the models loaded: {rss // 1024} MiB")
        transcription(token, work, segments[0], audio[0])
        rss = next(int(l.split()[1]) for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM"))
        print(f"server peak RSS after the transcription: {rss // 1024} MiB")
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
