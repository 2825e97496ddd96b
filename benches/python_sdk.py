"""Workload 1 of the benchmarks through the official Python SDK (twelvelabs==0.3.2).

Run by benches/python_sdk.sh, which installs the SDK in a throwaway virtualenv and points
TWELVELABS_BASE_URL at the bench's loopback server. Prints one line per workload in the format
of `cargo bench --bench sdk -- --compare`: `<name>: <µs> µs/req (median of <rounds>)`.
"""

import os
import statistics
import sys
import time

from twelvelabs import TwelveLabs

INDEX = "666599d4e6fb7df29de0f89c"


def main() -> None:
    n, rounds = int(sys.argv[1]), int(sys.argv[2])
    client = TwelveLabs(api_key="tlk_BENCH")
    assert client.base_url.startswith("http://127.0.0.1:"), client.base_url
    workloads = {
        "python-get": lambda: client.index.retrieve(INDEX),
        # The SDK's current form (query_text) posts multipart to /search; the server answers
        # the same search result either way.
        "python-search": lambda: client.search.query(
            INDEX, ["visual"], query_text="A woman wearing makeup"
        ),
    }
    index = workloads["python-get"]()
    assert index.id == INDEX, index
    for name, call in workloads.items():
        for _ in range(n // 10):  # warm up
            call()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(n):
                call()
            times.append((time.perf_counter() - started) * 1e6 / n)
        print(f"{name}: {statistics.median(times):.1f} µs/req (median of {rounds})", flush=True)


if __name__ == "__main__":
    if not os.environ.get("TWELVELABS_BASE_URL"):
        sys.exit("TWELVELABS_BASE_URL is not set: run benches/python_sdk.sh")
    main()
