"""Tests that need no node: the error table, home resolution, and the client's requests
and answers against a mock transport."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

import talos_agent as t
from talos_agent._home import endpoint, parse_addr, resolve_home
from talos_agent.errors import error_for


def problem(kind: str, status: int, **extra: Any) -> bytes:
    doc = {"type": f"urn:talos:problem:{kind}", "title": "x", "status": status}
    return json.dumps({**doc, "detail": f"{kind} detail", "kind": kind, **extra}).encode()


@pytest.mark.parametrize(
    ("kind", "status", "cls"),
    [
        ("not_authorized", 403, t.NotAuthorized),
        ("revoked", 403, t.Revoked),
        ("expired", 403, t.Expired),
        ("replay", 403, t.Replay),
        ("untrusted_root", 403, t.Refused),  # unnamed refusal kind: by status
        ("rate_limited", 429, t.RateLimited),
        ("peer_not_found", 404, t.PeerNotFound),
        ("peer_unreachable", 502, t.PeerUnreachable),
        ("agent_error", 502, t.AgentError),
        ("sold_out", 502, t.CallFailed),  # an agent's own kind
        ("agent_timeout", 504, t.AgentTimeout),
        ("unavailable", 502, t.Unavailable),
        ("stopping", 503, t.Unavailable),
        ("bad_request", 400, t.BadRequest),
        ("unauthorized", 401, t.Unauthorized),
        ("too_large", 413, t.TooLarge),
        ("no_chain", 409, t.Conflict),
        ("internal", 500, t.InternalError),
        ("pending", 202, t.Pending),
        ("not_approved", 403, t.NotApproved),
    ],
)
def test_error_table(kind: str, status: int, cls: type[t.TalosError]) -> None:
    e = error_for(status, problem(kind, status, nonce="ab" * 16, atMs=7))
    assert type(e) is cls
    assert (e.kind, e.status, e.detail) == (kind, status, f"{kind} detail")
    assert (e.nonce, e.at_ms) == ("ab" * 16, 7)
    assert e.problem["status"] == status


def test_refusals_share_a_base() -> None:
    assert issubclass(t.Revoked, t.Refused) and issubclass(t.RateLimited, t.Refused)
    assert issubclass(t.AgentTimeout, t.CallFailed) and issubclass(t.Refused, t.TalosError)


def test_error_without_problem_document() -> None:
    e = error_for(405, b"Method Not Allowed")
    assert type(e) is t.TalosError and e.kind == "http_405" and e.detail == "Method Not Allowed"


def test_home_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALOS_HOME", str(tmp_path / "env"))
    assert resolve_home(None) == tmp_path / "env"
    assert resolve_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("TALOS_HOME")
    assert resolve_home(None) == Path.home() / ".talos"


def test_addresses(tmp_path: Path) -> None:
    assert parse_addr("127.0.0.1:7777\n", tmp_path) == ("http://127.0.0.1:7777", None)
    assert parse_addr("unix:/run/a.sock", tmp_path) == ("http://localhost", "/run/a.sock")
    assert parse_addr("unix", tmp_path) == ("http://localhost", str(tmp_path / "api.sock"))


def test_endpoint_prefers_api_addr_then_config(tmp_path: Path) -> None:
    (tmp_path / "api-token").write_text("abcd\n")
    (tmp_path / "config.toml").write_text('api = "127.0.0.1:9"\n')
    assert endpoint(tmp_path) == t.Endpoint("http://127.0.0.1:9", None, "abcd")
    (tmp_path / "api-addr").write_text(f"unix:{tmp_path}/s.sock")
    assert endpoint(tmp_path) == t.Endpoint("http://localhost", f"{tmp_path}/s.sock", "abcd")


EP = t.Endpoint("http://node", None, "tok")
DID = "did:key:z6MkExample"


def test_requests_and_typed_refusal() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path == "/v1/messages":
            return httpx.Response(200, json={"seq": 3})
        body = problem("revoked", 403, nonce="00" * 16, atMs=5)
        return httpx.Response(403, content=body, headers={"content-type": "application/problem+json"})

    node = t.Talos(EP, transport=httpx.MockTransport(handler))
    assert node.send(DID, "hi") == 3
    with pytest.raises(t.Revoked) as got:
        node.invoke(DID, "talos://booking/x", "book", {"n": 1}, chain=["tok1"])
    assert got.value.at_ms == 5
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert json.loads(seen[0].content) == {"to": DID, "data": "aGk="}
    assert json.loads(seen[1].content) == {
        "to": DID,
        "chain": ["tok1"],
        "resource": "talos://booking/x",
        "action": "book",
        "args": {"n": 1},
    }


def wire_call(i: int, resource: str) -> dict[str, Any]:
    return {
        "id": i,
        "from": DID,
        "resource": resource,
        "action": "book",
        "args": {"seat": i},
        "capability": "c",
        "scope": [],
    }


class Answers:
    """A fake node that hands out the given calls once and records the answers."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls
        self.answers: dict[int, dict[str, Any]] = {}
        self.done = threading.Event()

    def __call__(self, req: httpx.Request) -> httpx.Response:
        if req.url.path == "/v1/calls":
            after = int(req.url.params["after"])
            prefix = req.url.params["resource"].removesuffix("**")  # enough for these tests
            got = [c for c in self.calls if c["id"] > after and c["resource"].startswith(prefix)]
            return httpx.Response(200, json={"calls": got, "next": got[-1]["id"] if got else after})
        self.answers[int(req.url.path.rsplit("/", 1)[1])] = json.loads(req.content)
        if len(self.answers) == len(self.calls):
            self.done.set()
        return httpx.Response(204)


class SoldOut(Exception):
    kind = "sold_out"


def test_serve_answers_results_and_errors() -> None:
    fake = Answers([wire_call(1, "talos://booking/a"), wire_call(2, "talos://booking/b"),
                    wire_call(3, "talos://booking/c"), wire_call(4, "talos://booking/d")])
    node = t.Talos(EP, transport=httpx.MockTransport(fake))

    @node.handles("talos://booking/**")
    def book(call: t.Call) -> dict[str, Any] | None:
        if call.resource.endswith("b"):
            raise SoldOut("no seats")
        if call.resource.endswith("c"):
            raise ValueError("Bad Kind")
        if call.resource.endswith("d"):
            return None
        return {"booked": call.args["seat"]}

    stop = threading.Event()
    server = threading.Thread(target=node.serve, kwargs={"stop": stop, "wait_ms": 10})
    server.start()
    assert fake.done.wait(10)
    stop.set()
    server.join(10)
    assert fake.answers == {
        1: {"result": {"booked": 1}},
        2: {"error": "no seats", "kind": "sold_out"},
        3: {"error": "Bad Kind", "kind": "agent_error"},
        4: {"result": None},
    }


def test_async_serve_awaits_handlers() -> None:
    fake = Answers([wire_call(5, "talos://booking/a")])

    async def run() -> None:
        async def handle(req: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0)  # a real node suspends here (its long-poll)
            return fake(req)

        node = t.AsyncTalos(EP, transport=httpx.MockTransport(handle))

        @node.handles("talos://booking/**")
        async def book(call: t.Call) -> str:
            return f"ok {call.args['seat']}"

        server = asyncio.create_task(node.serve(wait_ms=10))
        async with asyncio.timeout(10):
            while not fake.done.is_set():
                await asyncio.sleep(0.01)
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server

    asyncio.run(run())
    assert fake.answers == {5: {"result": "ok 5"}}


def test_serve_several_patterns() -> None:
    fake = Answers([wire_call(1, "talos://a/x"), wire_call(2, "talos://b/y")])
    node = t.Talos(EP, transport=httpx.MockTransport(fake))

    @node.handles("talos://a/**")
    def a(call: t.Call) -> str:
        return "a"

    @node.handles("talos://b/**")
    def b(call: t.Call) -> str:
        return "b"

    stop = threading.Event()
    server = threading.Thread(target=node.serve, kwargs={"stop": stop, "wait_ms": 10})
    server.start()
    assert fake.done.wait(10)
    stop.set()
    server.join(10)
    assert fake.answers == {1: {"result": "a"}, 2: {"result": "b"}}


def test_serve_raises_when_the_node_is_gone() -> None:
    def gone(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=req)

    node = t.Talos(EP, transport=httpx.MockTransport(gone))
    node.handles("talos://a/**")(lambda call: "a")
    with pytest.raises(t.NodeUnreachable):
        node.serve(wait_ms=10)


def test_overlapping_patterns_handle_a_call_once() -> None:
    fake = Answers([wire_call(1, "talos://a/x")])
    node = t.Talos(EP, transport=httpx.MockTransport(fake))
    ran: list[str] = []

    @node.handles("talos://a/**")
    def wide(call: t.Call) -> str:
        ran.append("wide")
        return "wide"

    @node.handles("talos://a/x**")
    def narrow(call: t.Call) -> str:
        ran.append("narrow")
        return "narrow"

    stop = threading.Event()
    server = threading.Thread(target=node.serve, kwargs={"stop": stop, "wait_ms": 10})
    server.start()
    assert fake.done.wait(10)
    stop.set()
    server.join(10)
    assert len(ran) == 1 and fake.answers == {1: {"result": ran[0]}}


class Nested(Exception):
    kind = "revoked"  # a node's own kind: a caller must not take it for its refusal


def test_node_kinds_are_not_forwarded() -> None:
    fake = Answers([wire_call(1, "talos://a/x")])
    node = t.Talos(EP, transport=httpx.MockTransport(fake))

    @node.handles("talos://a/**")
    def fails(call: t.Call) -> str:
        raise Nested("a nested call was revoked")

    stop = threading.Event()
    server = threading.Thread(target=node.serve, kwargs={"stop": stop, "wait_ms": 10})
    server.start()
    assert fake.done.wait(10)
    stop.set()
    server.join(10)
    assert fake.answers == {1: {"error": "a nested call was revoked", "kind": "agent_error"}}
