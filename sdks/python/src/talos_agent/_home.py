"""Where a node's API is: the home's `api-addr` (written by a running node), else the
`api` setting of its `config.toml`, and the bearer token in `api-token`."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Endpoint:
    """How to reach one node's API: a base URL, and a Unix socket when it listens on one
    (then the URL's host is only the Host header)."""

    base_url: str
    uds: str | None
    token: str


def resolve_home(home: str | os.PathLike[str] | None) -> Path:
    """The given directory, else `$TALOS_HOME`, else `~/.talos` (as the CLI does)."""
    if home is not None:
        return Path(home)
    env = os.environ.get("TALOS_HOME")
    if env:
        return Path(env)
    return Path.home() / ".talos"


def parse_addr(addr: str, home: Path) -> tuple[str, str | None]:
    """`unix` (the home's api.sock), `unix:PATH` or `host:port` → (base URL, socket)."""
    addr = addr.strip()
    if addr == "unix":
        return "http://localhost", str(home / "api.sock")
    if addr.startswith("unix:"):
        return "http://localhost", addr[len("unix:") :]
    return f"http://{addr}", None


def endpoint(home: str | os.PathLike[str] | None) -> Endpoint:
    h = resolve_home(home)
    try:
        addr = (h / "api-addr").read_text()
    except FileNotFoundError:
        with open(h / "config.toml", "rb") as f:
            api = tomllib.load(f).get("api", "unix")
        addr = api if isinstance(api, str) else "unix"
    token = (h / "api-token").read_text().strip()
    base_url, uds = parse_addr(addr, h)
    return Endpoint(base_url, uds, token)
