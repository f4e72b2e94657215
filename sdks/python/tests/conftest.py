"""Real `talos up` processes for the end-to-end tests: temp homes, the ready line read
from stdout (then stdout kept drained), killed at teardown. Waits poll for progress
under a generous overall deadline; nothing sleeps a fixed time to wait for state."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from talos_agent import Talos

PASS = "python-sdk-test-passphrase"
TCP0 = "/ip4/127.0.0.1/tcp/0"
T = TypeVar("T")


def talos_bin() -> Path:
    """`$TALOS_BIN`, else the debug build under `$CARGO_TARGET_DIR` (default
    `~/.cache/talos-target`)."""
    if env := os.environ.get("TALOS_BIN"):
        return Path(env)
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "talos-target")
    return Path(target) / "debug" / "talos"


def require_bin() -> Path:
    b = talos_bin()
    if not b.is_file():
        if os.environ.get("TALOS_E2E") == "require":
            pytest.fail(f"no talos binary at {b} (set TALOS_BIN)")
        pytest.skip(f"no talos binary at {b} (set TALOS_BIN, or build it)")
    return b


def poll(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    """`check()` until it returns something other than None/False, else fail."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got is not None and got is not False:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)  # the pace of polling, not a wait for state


def node_env() -> dict[str, str]:
    return {**os.environ, "TALOS_PASSPHRASE": PASS, "RUST_LOG": "info,libp2p_kad=warn"}


def talos(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(require_bin()), "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=node_env(),
        timeout=120,
        check=False,
    )


@dataclass
class NodeProc:
    home: Path
    proc: subprocess.Popen[str]
    ready: dict[str, Any]
    clients: list[Talos] = field(default_factory=list)

    @property
    def did(self) -> str:
        return str(self.ready["did"])

    @property
    def peer_id(self) -> str:
        return str(self.ready["peerId"])

    @property
    def addr(self) -> str:
        return str(self.ready["listen"][0])

    def client(self) -> Talos:
        c = Talos.connect(self.home)
        self.clients.append(c)
        return c

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


def set_config(home: Path, settings: dict[str, str]) -> None:
    """Sets `key = value` on the lines `talos init` wrote in config.toml."""
    path = home / "config.toml"
    lines = path.read_text().splitlines()
    for key, value in settings.items():
        at = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
        assert at, f"no {key} in config.toml"
        lines[at[0]] = f"{key} = {value}"
    path.write_text("\n".join(lines) + "\n")


def start_node(
    root: Path,
    name: str,
    bootstrap: str | None = None,
    config: dict[str, str] | None = None,
    api: str = "127.0.0.1:0",
) -> NodeProc:
    """`talos init` (loopback TCP for the API and the network, no mDNS), `config`
    settings, and `talos up`."""
    home = root / name
    flags = ["--mdns", "false", "--api", api, "--listen", TCP0]
    if bootstrap:
        flags += ["--bootstrap", bootstrap]
    out = talos(home, "init", *flags)
    assert out.returncode == 0, f"init failed: {out.stderr}"
    set_config(home, config or {})
    log = open(home / "node.log", "ab")  # noqa: SIM115 - handed to the child, closed below
    proc = subprocess.Popen(
        [str(require_bin()), "--home", str(home), "up"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=node_env(),
        text=True,
    )
    log.close()
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        # Reads every line, so the node never blocks on a full pipe.
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        line = lines.get(timeout=90)
    except queue.Empty:
        proc.kill()
        raise AssertionError(f"no ready line from {home}") from None
    if line is None:
        raise AssertionError(f"talos up exited early:\n{(home / 'node.log').read_text()[-3000:]}")
    ready = json.loads(line)
    assert ready["event"] == "ready", ready
    return NodeProc(home, proc, ready)


def connected(a: NodeProc, b: NodeProc) -> bool:
    """Whether `a` lists `b` among its connected peers."""
    with Talos.connect(a.home) as node:
        return b.peer_id in node.peers()


def start_pair(root: Path, config: dict[str, str] | None = None) -> tuple[NodeProc, NodeProc]:
    a = start_node(root, "a", config=config)
    try:
        b = start_node(root, "b", bootstrap=a.addr, config=config)
    except BaseException:
        a.stop()
        raise
    poll("A and B to connect", lambda: connected(a, b) and connected(b, a))
    return a, b


@pytest.fixture(scope="session")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProc, NodeProc]]:
    """Two nodes shared by the e2e tests (each test uses its own resources and reads
    the inbox from where it stands, so they do not interfere)."""
    require_bin()
    a, b = start_pair(tmp_path_factory.mktemp("nodes"))
    yield a, b
    b.stop()
    a.stop()

