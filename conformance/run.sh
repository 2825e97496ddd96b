#!/usr/bin/env bash
# The conformance suite: the official Python SDK (twelvelabs==0.3.2) and the tour notebook's own
# code against the standalone fake, every response checked against openapi.yaml.
# Needs python3 (with venv) and PyPI. Usage: conformance/run.sh [path to the fake_server binary]
# Set CONFORMANCE_VENV to reuse a virtualenv between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv=${CONFORMANCE_VENV:-$work/venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r conformance/requirements.txt
fake=${1:-}
if [ -z "$fake" ]; then
  cargo build --locked --all-features --example fake_server
  fake=target/debug/examples/fake_server
fi
"$venv/bin/python" conformance/conform.py --fake "$fake" --notebook conformance/seed/tour-notebook.txt
