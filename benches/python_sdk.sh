#!/usr/bin/env bash
# Workload 1 (sequential GET /indexes/{id} and POST /search) through the official Python SDK
# (twelvelabs==0.3.2) beside this crate and raw reqwest, all against one loopback server
# process (`cargo bench --bench sdk -- --serve`). Not part of CI. Needs python3 with venv and
# PyPI. Usage: benches/python_sdk.sh [requests per round, default 2000] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
rounds=${2:-5}
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "installing twelvelabs==0.3.2 into a throwaway virtualenv..." >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check twelvelabs==0.3.2

cargo bench --bench sdk --no-run --message-format=json >"$work/build.json"
exe=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "sdk" and m.get("executable"):
        print(m["executable"])
' "$work/build.json" | tail -1)

"$exe" --serve >"$work/base" &
server=$!
for _ in $(seq 100); do [ -s "$work/base" ] && break; sleep 0.1; done
base=$(head -1 "$work/base")
echo "server: $base" >&2

"$exe" --compare sdk-get,raw-get,sdk-search,raw-search "$n" "$rounds" --base "$base" | tee "$work/ours"
TWELVELABS_BASE_URL="${base%/v1.2}" "$work/venv/bin/python" benches/python_sdk.py "$n" "$rounds" | tee "$work/python"

python3 - "$work/ours" "$work/python" <<'PY'
import re, sys
t = {}
for f in sys.argv[1:]:
    for line in open(f):
        m = re.match(r"(\S+): ([\d.]+) µs/req", line)
        if m:
            t[m.group(1)] = float(m.group(2))
print()
print("| workload | Python SDK 0.3.2 | this SDK | raw reqwest | Python / this SDK |")
print("|---|---|---|---|---|")
for w, label in (("get", "sequential GET /indexes/{id}"), ("search", "sequential POST /search")):
    py, ours, raw = t[f"python-{w}"], t[f"sdk-{w}"], t[f"raw-{w}"]
    print(f"| {label} | {py:.0f} µs/req | {ours:.0f} µs/req | {raw:.0f} µs/req | {py / ours:.1f}× |")
PY
