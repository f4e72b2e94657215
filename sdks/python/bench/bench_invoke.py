"""One call A → B through the SDK beside the same call through raw httpx requests.

    sdks/python/.venv/bin/python sdks/python/bench/bench_invoke.py [N]

Starts two nodes in a temp dir (their invoke rate limit raised so the bench measures
calls, not the limiter), then for each path: B's agent answers in a thread (the SDK's
`@handles` + `serve()`, or a hand-written long-poll + answer loop), A calls N times in
sequence after a warm-up. Prints a markdown table: p50 latency and throughput.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import NodeProc, start_pair  # noqa: E402

import talos_agent as t  # noqa: E402

WARMUP = 30


def measure(n: int, call: Callable[[int], Any]) -> tuple[float, float]:
    """(p50 ms, calls/s) of n sequential calls, after a warm-up."""
    for i in range(WARMUP):
        call(i)
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        call(i)
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    return statistics.median(lat) * 1000, n / total


def sdk_path(a: NodeProc, b: NodeProc, n: int) -> tuple[float, float]:
    caller, callee = a.client(), b.client()
    cap = callee.issue(a.did, [t.capability("talos://bench/sdk/**", "echo")])

    @callee.handles("talos://bench/sdk/**")
    def echo(call: t.Call) -> Any:
        return call.args

    stop = threading.Event()
    server = threading.Thread(target=callee.serve, kwargs={"stop": stop, "wait_ms": 1000})
    server.start()
    try:
        def one(i: int) -> None:
            r = caller.invoke(b.did, "talos://bench/sdk/x", "echo", {"i": i}, chain=cap)
            assert r.result == {"i": i}

        return measure(n, one)
    finally:
        stop.set()
        server.join()


def raw_path(a: NodeProc, b: NodeProc, n: int) -> tuple[float, float]:
    ea, eb = a.client().endpoint, b.client().endpoint
    cap = b.client().issue(a.did, [t.capability("talos://bench/raw/**", "echo")])
    caller = httpx.Client(base_url=ea.base_url, timeout=90,
                          headers={"Authorization": f"Bearer {ea.token}"})
    callee = httpx.Client(base_url=eb.base_url, timeout=90,
                          headers={"Authorization": f"Bearer {eb.token}"})
    stop = threading.Event()

    def serve() -> None:
        after = 0
        while not stop.is_set():
            got = callee.get("/v1/calls", params={
                "after": after, "waitMs": 1000, "resource": "talos://bench/raw/**"}).json()
            for c in got["calls"]:
                r = callee.post(f"/v1/calls/{c['id']}", json={"result": c["args"]})
                assert r.status_code == 204, r.text
            after = got["next"]

    server = threading.Thread(target=serve)
    server.start()
    try:
        def one(i: int) -> None:
            r = caller.post("/v1/invoke", json={
                "to": b.did, "chain": cap.chain, "resource": "talos://bench/raw/x",
                "action": "echo", "args": {"i": i}})
            assert r.status_code == 200 and r.json()["result"] == {"i": i}, r.text

        return measure(n, one)
    finally:
        stop.set()
        server.join()
        caller.close()
        callee.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    root = Path(tempfile.mkdtemp(prefix="talos-bench-"))
    # Far above what one sequential caller reaches, so no call is rate limited.
    a, b = start_pair(root, config={"invoke_rate": "100000", "invoke_burst": "100000"})
    try:
        sdk = sdk_path(a, b, n)
        raw = raw_path(a, b, n)
    finally:
        b.stop()
        a.stop()
    print(f"invoke A → B, answered by B's agent; {n} sequential calls after {WARMUP} warm-up\n")
    print("| path | p50 (ms) | throughput (calls/s) |")
    print("|---|---:|---:|")
    print(f"| talos_agent SDK (invoke + @handles/serve) | {sdk[0]:.2f} | {sdk[1]:.0f} |")
    print(f"| raw httpx (invoke + long-poll + answer) | {raw[0]:.2f} | {raw[1]:.0f} |")
    print(f"| SDK / raw | {sdk[0] / raw[0]:.2f}× | {sdk[1] / raw[1]:.2f}× |")


if __name__ == "__main__":
    main()
