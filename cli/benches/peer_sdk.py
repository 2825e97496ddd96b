#!/usr/bin/env python3
"""The peer of `twelvelabs ingest` in `cli/benches/ingest.rs`'s library-scale section: the best
script a Python user would write with the official SDK (twelvelabs==0.3.2, the last release for
the v1.2 API). It uploads every video under DIR through a ThreadPoolExecutor of 8, then waits on
every task at once: every SLEEP seconds one `GET /tasks/{id}` per task not yet done, through the
same pool. No manifest, no hashing: a re-run uploads everything again.

Run it alone against any v1.2 API (the fake, e.g. `cargo run --example fake_server`):

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install twelvelabs==0.3.2
    TWELVELABS_BASE_URL=http://127.0.0.1:4010 TWELVE_LABS_API_KEY=tlk_local \\
        /tmp/peer/bin/python cli/benches/peer_sdk.py DIR --index INDEX_ID

or from the benchmark, interleaved with the tool at 200 and 2,000 files:

    cargo bench -p twelvelabs-cli --bench ingest -- --scale-only --sizes 200,2000 \\
        --peer-python /tmp/peer/bin/python

The last line on stdout is a JSON summary like the tool's (`{"event":"summary",...}`).
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from twelvelabs import TwelveLabs

VIDEO_EXTENSIONS = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--index", required=True)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--sleep", type=float, default=0.5, help="seconds between two polls")
    a = p.parse_args()
    start = time.monotonic()
    # TWELVELABS_BASE_URL (the host root) is read by the SDK itself.
    tl = TwelveLabs(api_key=os.environ["TWELVE_LABS_API_KEY"])
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(a.dir)
        for name in names
        if os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS
    )
    with ThreadPoolExecutor(max_workers=a.concurrency) as pool:
        tasks = list(pool.map(lambda f: tl.task.create(a.index, file=f), files))
        pending = {t.id for t in tasks if t.status not in ("ready", "failed")}
        failed = sum(t.status == "failed" for t in tasks)
        while pending:
            time.sleep(a.sleep)
            for t in pool.map(tl.task.retrieve, list(pending)):
                if t.status in ("ready", "failed"):
                    pending.discard(t.id)
                    failed += t.status == "failed"
    print(json.dumps({
        "event": "summary",
        "files": len(files),
        "uploaded": len(tasks),
        "ready": len(tasks) - failed,
        "already_ready": 0,
        "failed": failed,
        "elapsed_secs": time.monotonic() - start,
    }))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
