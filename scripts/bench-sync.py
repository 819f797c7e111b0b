#!/usr/bin/env python3
"""Sync benchmark, run by `make bench` (docs/api/sync.md).

Pull: a learner with 10 materials of 20,000 segments each (200,010 rows)
starts a new device: it pulls every change from cursor 0 in pages of
1,000. The baseline, in the same run against the same server: reading the
same rows through the resource endpoints the way the backup-era client
would (the material list, then each segment list). Then the steady state:
a pull after one change, and an empty pull, each timed 50 times.

Push: 500 changes a device made offline — 100 new materials, 200 progress
writes on them, 200 saved words — as one `POST /sync/push`, against the
same 500 writes as resource requests (POST /materials, PUT …/progress,
PUT /vocabulary/{id}) one after another on one connection, each on a
fresh account, three rounds alternating (the words' dictionary rows are
made beforehand, so neither side pays for their pronunciation).

BENCH_SYNC_PARTS=push (or pull) runs one half. Prints the numbers; copy
them into BENCHMARKS.md ("Sync pull", "Sync push").
"""

import gzip
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/echoloop/target"))
BIN = TARGET / "release/echoloop"
PORT = int(os.environ.get("BENCH_PORT", "18097"))
MATERIALS = 10
SEGMENTS = 20_000
PARTS = os.environ.get("BENCH_SYNC_PARTS", "pull,push").split(",")
PUSH_MATERIALS, PUSH_PROGRESS, PUSH_WORDS = 100, 200, 200


class Client:
    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
        self.token = None

    def call(self, method, path, body=None, gzip_ok=True):
        headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.getheader("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        if response.status >= 400:
            sys.exit(f"{method} {path}: {response.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    if not BIN.exists():
        sys.exit(f"build first: cargo build --release -p echoloop-server ({BIN})")
    work = Path(tempfile.mkdtemp(prefix="echoloop-bench-sync.", dir="/var/tmp"))
    work.chmod(0o755)  # the embedded PostgreSQL runs as user postgres
    (work / "web").mkdir()
    env = dict(os.environ, ECHOLOOP_DATA=str(work / "data"), ECHOLOOP_WEB_DIR=str(work / "web"),
               ECHOLOOP_LOG="warn", ECHOLOOP_REGISTER_LIMIT_PER_IP="0", ECHOLOOP_SCORING="false",
               ECHOLOOP_TRANSCRIPTION="false")
    server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{PORT}"], env=env)
    try:
        for _ in range(240):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                probe.request("GET", "/readyz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        run(Client())
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def run(client):
    cores = os.cpu_count()
    print(f"== machine: {cores} cores, {platform.machine()}, "
          f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, load {os.getloadavg()[0]:.1f}")
    if "pull" in PARTS:
        run_pull(client)
    if "push" in PARTS:
        run_push(client)


def sign_up(client):
    account = client.call("POST", "/accounts", {
        "email": f"bench-sync-{uuid.uuid4().hex[:8]}@example.com",
        "password": "correct horse battery staple", "native_language": "en"})
    client.token = account["token"]


def hlc(ms, counter, node):
    return f"{ms:013d}-{counter:04x}-{node:016x}"


def offline_work():
    """The same 500 writes for both sides: (materials, progress, words)."""
    materials = [str(uuid.uuid4()) for _ in range(PUSH_MATERIALS)]
    progress = [(materials[i % PUSH_MATERIALS], "completed" if i >= PUSH_MATERIALS else "in_progress")
                for i in range(PUSH_PROGRESS)]
    words = [(str(uuid.uuid4()), f"shadowing{i}") for i in range(PUSH_WORDS)]
    return materials, progress, words


def material_body(m):
    return {"type": "audio", "source_type": "local_upload", "title": f"offline {m}", "language": "en-US"}


def run_push(client):
    # The words' shared dictionary rows (and their IPA) exist before either side saves them.
    sign_up(client)
    for word_id, word in offline_work()[2]:
        client.call("PUT", f"/vocabulary/{word_id}", {"word": word, "language": "en"})

    def as_push():
        materials, progress, words = offline_work()
        now, node, n = int(time.time() * 1000), 0xbe9c, 0
        changes = []
        for m, material in enumerate(materials):
            changes.append({"kind": "material", "op": "upsert", "id": material, "hlc": hlc(now, n, node),
                            "data": material_body(m)})
            n += 1
        for material, status in progress:
            changes.append({"kind": "progress", "op": "upsert", "id": material, "hlc": hlc(now, n, node),
                            "data": {"last_segment_index": 0, "status": status}})
            n += 1
        for word_id, word in words:
            changes.append({"kind": "vocabulary_item", "op": "upsert", "id": word_id, "hlc": hlc(now, n, node),
                            "data": {"word": word, "language": "en"}})
            n += 1
        assert len(changes) == 500
        seconds, answer = timed(lambda: client.call("POST", "/sync/push", {"changes": changes}))
        statuses = {result["status"] for result in answer["results"]}
        assert statuses == {"applied"}, [r for r in answer["results"] if r["status"] != "applied"][:3]
        return seconds

    def as_resources():
        materials, progress, words = offline_work()

        def send():
            for m, material in enumerate(materials):
                client.call("POST", "/materials", dict(material_body(m), id=material))
            for material, status in progress:
                client.call("PUT", f"/materials/{material}/progress",
                            {"last_segment_index": 0, "status": status})
            for word_id, word in words:
                client.call("PUT", f"/vocabulary/{word_id}", {"word": word, "language": "en"})
        seconds, _ = timed(send)
        return seconds

    pushes, resources = [], []
    for _ in range(3):
        sign_up(client)
        pushes.append(as_push())
        sign_up(client)
        resources.append(as_resources())
    push_s, resource_s = statistics.median(pushes), statistics.median(resources)
    print(f"push of 500 changes ({PUSH_MATERIALS} materials, {PUSH_PROGRESS} progress, {PUSH_WORDS} words) "
          f"in one request: median {push_s * 1000:.0f} ms ({', '.join(f'{s * 1000:.0f}' for s in pushes)})")
    print(f"baseline, the same 500 writes as resource requests: median {resource_s * 1000:.0f} ms "
          f"({', '.join(f'{s * 1000:.0f}' for s in resources)}); resources / push = {resource_s / push_s:.1f}")


def run_pull(client):
    account = client.call("POST", "/accounts", {
        "email": f"bench-sync-{uuid.uuid4().hex[:8]}@example.com",
        "password": "correct horse battery staple", "native_language": "en"})
    client.token = account["token"]
    for m in range(MATERIALS):
        material = str(uuid.uuid4())
        client.call("POST", "/materials", {"id": material, "type": "audio",
                                           "source_type": "local_upload", "title": f"bench {m}"})
        client.call("PUT", f"/materials/{material}/segments", {"segments": [
            {"start_time": i * 1000, "end_time": i * 1000 + 900,
             "text": f"This is sentence number {i} of benchmark material {m}.",
             "translation": f"Ceci est la phrase numéro {i}."} for i in range(SEGMENTS)]})
    rows = MATERIALS * (SEGMENTS + 1)

    def full_pull():
        cursor, count, pages, more = 0, 0, 0, True
        while more:
            page = client.call("GET", f"/sync/pull?cursor={cursor}&limit=1000")
            count += len(page["changes"])
            pages += 1
            cursor, more = page["next_cursor"], page["more"]
        return count, pages, cursor

    def by_resource():
        count, cursor = 0, None
        ids = []
        while True:
            page = client.call("GET", "/materials?limit=200" + (f"&cursor={cursor}" if cursor else ""))
            ids += [item["id"] for item in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        count += len(ids)
        for material in ids:
            count += len(client.call("GET", f"/materials/{material}/segments")["segments"])
        return count

    pulls, lists = [], []
    for _ in range(3):
        seconds, (count, pages, last) = timed(full_pull)
        assert count == rows, (count, rows)
        pulls.append(seconds)
        seconds, count = timed(by_resource)
        assert count == rows, (count, rows)
        lists.append(seconds)
    pull_s, list_s = statistics.median(pulls), statistics.median(lists)
    print(f"new device, {rows:,} rows: full pull in {pages} pages of 1,000: median {pull_s:.2f} s "
          f"({', '.join(f'{s:.2f}' for s in pulls)}), {rows / pull_s:,.0f} rows/s")
    print(f"baseline, same rows through the material list + {MATERIALS} segment lists: median {list_s:.2f} s "
          f"({', '.join(f'{s:.2f}' for s in lists)}); pull / baseline = {pull_s / list_s:.2f}")

    material = client.call("GET", "/materials?limit=1")["items"][0]["id"]
    one, empty = [], []
    for n in range(50):
        client.call("PATCH", f"/materials/{material}", {"title": f"renamed {n}"})
        seconds, page = timed(lambda: client.call("GET", f"/sync/pull?cursor={last}"))
        assert len(page["changes"]) == 1, page
        last = page["next_cursor"]
        one.append(seconds * 1000)
        seconds, page = timed(lambda: client.call("GET", f"/sync/pull?cursor={last}"))
        assert page["changes"] == [], page
        empty.append(seconds * 1000)
    print(f"pull after one change (50 runs): median {statistics.median(one):.1f} ms, max {max(one):.1f} ms; "
          f"empty pull: median {statistics.median(empty):.1f} ms, max {max(empty):.1f} ms")


if __name__ == "__main__":
    main()
