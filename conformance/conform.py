"""The conformance run: independent clients against the standalone fake, every answer checked
against openapi.yaml.

    python conformance/conform.py --fake target/debug/examples/fake_server

Three parts, each against a fresh fake process:

1. `sdk_calls`: every resource method of the official Python SDK (twelvelabs==0.3.2);
2. `notebook`: the tour notebook's own `requests` code, its recorded answers compared field by
   field;
3. `sweep`: every operation of the spec with each status the fake answers it with.

Every response of the three goes through `specshapes.Checker` (strict: integer vs number, closed
objects). The run fails on any call that fails by the fake's fault, any recorded field that does
not match, any response that does not validate, and any operation or status left unchecked.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

# One client for every plain request (a new one per request costs a TLS context each).
HTTP = httpx.Client(timeout=30)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import notebook  # noqa: E402
import sdk_calls  # noqa: E402
import specshapes  # noqa: E402
import sweep  # noqa: E402

KEY = "tlk_CONFORMANCE"


@contextmanager
def fake(binary: str):
    """A fresh fake process on a free port; tasks take 100 s of the fake's clock."""
    proc = subprocess.Popen(
        [binary, "--port", "0", "--api-key", KEY, "--indexing-time", "100"],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    try:
        env = {}
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the fake exited with {proc.wait()}")
            line = line.strip()
            if line == "ready":
                break
            k, _, v = line.partition("=")
            env[k] = v
        base = env["TWELVELABS_BASE_URL"]
        assert env["TWELVE_LABS_API_KEY"] == KEY
        os.environ["TWELVELABS_BASE_URL"] = base

        def control(path: str, body: dict, method: str = "POST") -> dict:
            r = HTTP.request(method, f"{base}/_fake/{path}", json=body,
                              headers={"x-api-key": KEY})
            r.raise_for_status()
            return r.json()

        yield base, control
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fake", required=True, help="the fake_server example binary")
    ap.add_argument("--spec", default=str(HERE.parent / "openapi.yaml"))
    ap.add_argument("--notebook", default=str(HERE / "seed" / "tour-notebook.txt"))
    args = ap.parse_args()

    # The checks themselves first: each must catch the faults it is for.
    broken = specshapes.self_test(args.spec) + notebook.self_test()
    for p in broken:
        print(f"FAIL {p}")
    if broken:
        return 1
    checker = specshapes.Checker(args.spec)
    failed = False

    # 1. The official Python SDK.
    printed = io.StringIO()  # the SDK prints the errors it swallows
    with fake(args.fake) as (base, control), contextlib.redirect_stdout(printed):
        run = sdk_calls.run(base, KEY, checker)
    counts = {k: sum(1 for o in run.outcomes if o.kind == k) for k in ("ok", "expected", "sdk-bug", "FAKE")}
    print(f"== Official Python SDK twelvelabs {sdk_calls.sdk_version()}")
    print(f"{len(run.outcomes)} calls ({len(run.called)} of {len(run.all_methods)} SDK methods called directly, "
          f"{run.requests} HTTP requests): {counts['ok']} ok, {counts['expected']} expected errors, "
          f"{counts['sdk-bug']} known SDK bugs, {counts['FAKE']} failures of the fake")
    bugs = {o.detail for o in run.outcomes if o.kind == "sdk-bug"}
    for name in sorted(bugs):
        calls = [o.name for o in run.outcomes if o.detail == name]
        print(f"  SDK bug {name} ({', '.join(calls)}): {sdk_calls.SDK_BUGS[name]}")
    for o in run.outcomes:
        if o.kind == "FAKE":
            print(f"  FAIL {o.name}: {o.detail}")
            failed = True
    if run.missing:
        print(f"  FAIL SDK methods never called: {run.missing}")
        failed = True

    # 2. The tour notebook.
    text = Path(args.notebook).read_text(encoding="utf-8")
    with fake(args.fake) as (base, control):
        replay = notebook.Replay(base, KEY, checker, control)
        res = replay.run(text)
    print(f"\n== Tour notebook ({Path(args.notebook).name})")
    print(f"{res.cells} cells run, {res.requests} requests, {res.compared} recorded responses compared "
          f"(statuses {sum(1 for _, a, b in res.statuses if a == b)}/{len(res.statuses)} equal), "
          f"{res.matched} of {res.fields} recorded fields matched"
          + (f"; cell(s) {res.partial} recorded only in part (cut off in the notebook)" if res.partial else ""))
    for m in res.mismatches:
        print(f"  FAIL {m}")
        failed = True
    if res.compared < 20:
        print(f"  FAIL only {res.compared} recorded responses found in the notebook")
        failed = True

    # 3. Every operation and status.
    with fake(args.fake) as (base, control):
        expected, problems = sweep.sweep(base, KEY, checker, control)
    for p in problems:
        print(f"  FAIL sweep: {p}")
        failed = True

    # The spec check over everything above.
    coverage = checker.coverage()
    pairs = sum(len(v) for v in expected.values())
    print(f"\n== Shapes: {checker.checked} responses checked against openapi.yaml "
          f"({len(checker.op_ids())} operations, {pairs} operation/status pairs expected)")
    for f in checker.failures:
        print(f"  FAIL {f}")
        failed = True
    for op in checker.op_ids():
        want, got = expected.get(op, set()), coverage.get(op, set())
        if not want or want - got:
            print(f"  FAIL {op}: statuses not validated: {sorted(want - got) or 'none expected'}")
            failed = True
    # The README quotes these counts: keep it true.
    readme = " ".join((HERE.parent / "README.md").read_text(encoding="utf-8").split())
    measured = {
        "SDK calls": (len(run.outcomes), counts["ok"], counts["expected"], counts["sdk-bug"]),
        "notebook answers": (res.compared,),
        "shapes": (checker.checked, len(checker.op_ids())),
    }
    patterns = {
        "SDK calls": r"\((\d+) calls: (\d+) succeed, (\d+) fail with the error the API documents, (\d+) hit known bugs",
        "notebook answers": r"its (\d+) recorded answers match",
        "shapes": r"\((\d+) responses, (\d+) operations\)",
    }
    for what, pattern in patterns.items():
        m = re.search(pattern, readme)
        said = tuple(int(g) for g in m.groups()) if m else None
        if said != measured[what]:
            print(f"  FAIL README ({what}): says {said}, measured {measured[what]}")
            failed = True
    print("\nconformance: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
