"""One call A → B through the SDK beside the same call through raw httpx requests.

    sdks/python/.venv/bin/python sdks/python/bench/bench_invoke.py [N]

Starts two nodes in a temp dir (their invoke rate limit raised so the bench measures
calls, not the limiter). For each path B's agent answers in a thread (the SDK's
`@handles` + `serve()`, or a hand-written long-poll + answer loop) and A calls in
sequence; after a warm-up the two paths alternate call by call, N calls each. Prints a
markdown table: p50 latency and throughput (N / the path's total time).
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
from conftest import NodeProc, start_pair

import talos_agent as t

WARMUP = 30


class Path_:
    """One way of making the call: `one(i)` makes call i; `close()` stops its server."""

    def __init__(self, one: Callable[[int], None], close: Callable[[], None]) -> None:
        self.one, self.close = one, close
        self.lat: list[float] = []

    def timed(self, i: int) -> None:
        s = time.perf_counter()
        self.one(i)
        self.lat.append(time.perf_counter() - s)

    def figures(self) -> tuple[float, float]:
        """(p50 ms, calls/s): calls are sequential, so throughput is n / total time."""
        return statistics.median(self.lat) * 1000, len(self.lat) / sum(self.lat)


def sdk_path(a: NodeProc, b: NodeProc) -> Path_:
    caller, callee = a.client(), b.client()
    cap = callee.issue(a.did, [t.capability("talos://bench/sdk/**", "echo")])

    @callee.handles("talos://bench/sdk/**")
    def echo(call: t.Call) -> Any:
        return call.args

    stop = threading.Event()
    server = threading.Thread(target=callee.serve, kwargs={"stop": stop, "wait_ms": 1000})
    server.start()

    def one(i: int) -> None:
        r = caller.invoke(b.did, "talos://bench/sdk/x", "echo", {"i": i}, chain=cap)
        assert r.result == {"i": i}

    def close() -> None:
        stop.set()
        server.join()

    return Path_(one, close)


def raw_path(a: NodeProc, b: NodeProc) -> Path_:
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

    def one(i: int) -> None:
        r = caller.post("/v1/invoke", json={
            "to": b.did, "chain": cap.chain, "resource": "talos://bench/raw/x",
            "action": "echo", "args": {"i": i}})
        assert r.status_code == 200 and r.json()["result"] == {"i": i}, r.text

    def close() -> None:
        stop.set()
        server.join()
        caller.close()
        callee.close()

    return Path_(one, close)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    root = Path(tempfile.mkdtemp(prefix="talos-bench-"))
    # Far above what one sequential caller reaches, so no call is rate limited.
    a, b = start_pair(root, config={"invoke_rate": "100000", "invoke_burst": "100000"})
    paths: list[Path_] = []
    try:
        paths = [sdk_path(a, b), raw_path(a, b)]
        for i in range(WARMUP):
            for p in paths:
                p.one(i)
        # Alternating call by call, so drift in the nodes (their logs grow, the machine's
        # load changes) falls on both paths alike.
        for i in range(n):
            for p in paths:
                p.timed(i)
    finally:
        for p in paths:
            p.close()
        b.stop()
        a.stop()
    sdk, raw = paths[0].figures(), paths[1].figures()
    print(f"invoke A → B, answered by B's agent: {n} sequential calls per path after "
          f"{WARMUP} warm-up, the two paths alternating\n")
    print("| path | p50 (ms) | throughput (calls/s) |")
    print("|---|---:|---:|")
    print(f"| talos_agent SDK (invoke + @handles/serve) | {sdk[0]:.2f} | {sdk[1]:.0f} |")
    print(f"| raw httpx (invoke + long-poll + answer) | {raw[0]:.2f} | {raw[1]:.0f} |")
    print(f"| SDK / raw | {sdk[0] / raw[0]:.2f}× | {sdk[1] / raw[1]:.2f}× |")


if __name__ == "__main__":
    main()
