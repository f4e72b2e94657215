"""The SDK against two real nodes: A (the caller) and B (the callee, bootstrapped from A)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import NodeProc, connected, poll, start_node, talos, talos_bin

import talos_agent as t

Pair = tuple[NodeProc, NodeProc]


def inbox_end(node: t.Talos) -> int:
    """Where new messages will land: past everything already in the inbox."""
    got = node.read(0, max=1024)
    while got.messages:
        got = node.read(got.next, max=1024)
    return got.next


def test_send_read_and_stream(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    start = inbox_end(b)
    seq = a.send(b.node().did, b"hello over talos")
    assert seq >= 0

    def arrived() -> t.Message | None:
        got = b.read(start, wait_ms=2000)
        return got.messages[0] if got.messages else None

    m = poll("the message to reach B", arrived)
    assert (m.sender, m.data, m.text) == (a.node().did, b"hello over talos", "hello over talos")
    assert m.index >= start

    # The WebSocket stream from just past it sees the next message, and only that one.
    async def stream_one() -> t.Message:
        ab = t.AsyncTalos.connect(pair[1].home)
        try:
            it = ab.stream(m.index + 1)
            nxt = asyncio.ensure_future(anext(it))
            await asyncio.to_thread(a.send, pair[1].did, "second")
            async with asyncio.timeout(60):
                return await nxt
        finally:
            await ab.aclose()

    got = asyncio.run(stream_one())
    assert got.text == "second" and got.index > m.index

    # The sync stream replays from an index (the inbox is the truth).
    it = b.stream(m.index)
    assert [next(it).text, next(it).text] == ["hello over talos", "second"]
    it.close()
    assert b.ack(got.index) >= 2


@contextmanager
def serving(node: t.Talos) -> Iterator[None]:
    """`node.serve()` in a thread for the duration of the block."""
    stop = threading.Event()
    server = threading.Thread(target=node.serve, kwargs={"stop": stop, "wait_ms": 500})
    server.start()
    try:
        yield
    finally:
        stop.set()
        server.join(30)
        assert not server.is_alive()


class SoldOut(Exception):
    kind = "sold_out"


def test_invoke_answered_by_the_decorator(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    issued = b.issue(pair[0].did, [{"res": "talos://booking/**", "act": ["book"]}], ttl=600)
    assert len(issued.chain) == 1 and len(issued.jti) == 32
    seen: list[t.Call] = []

    @b.handles("talos://booking/**")
    def book(call: t.Call) -> dict[str, Any] | None:
        seen.append(call)
        if call.args.get("flight") == "NONE":
            return None
        if call.args.get("flight") == "FULL":
            raise SoldOut("no seats left")
        if call.args.get("flight") == "BUG":
            raise RuntimeError("handler bug")
        return {"booked": call.args["flight"], "for": call.sender}

    with serving(b):
        r = a.invoke(pair[1].did, "talos://booking/flights", "book", {"flight": "LH123"},
                     chain=issued)
        assert r.result == {"booked": "LH123", "for": pair[0].did}
        assert len(r.nonce) == 32 and r.at_ms > 0

        # The handler's exception reaches the caller with its kind.
        with pytest.raises(t.CallFailed) as failed:
            a.invoke(pair[1].did, "talos://booking/flights", "book", {"flight": "FULL"},
                     chain=issued.chain)
        assert failed.value.kind == "sold_out" and failed.value.status == 502
        assert "no seats left" in failed.value.detail
        with pytest.raises(t.AgentError) as bug:
            a.invoke(pair[1].did, "talos://booking/flights", "book", {"flight": "BUG"},
                     chain=issued)
        assert "handler bug" in bug.value.detail
        none = a.invoke(pair[1].did, "talos://booking/flights", "book", {"flight": "NONE"},
                        chain=issued)
        assert none.result is None

    assert [c.action for c in seen] == ["book"] * 4
    assert seen[0].resource == "talos://booking/flights"


def test_async_invoke_and_serve(pair: Pair) -> None:
    async def run() -> Any:
        async with t.AsyncTalos.connect(pair[0].home) as a, \
                t.AsyncTalos.connect(pair[1].home) as b:
            issued = await b.issue(pair[0].did, [t.capability("talos://async/**", "echo")])

            @b.handles("talos://async/**")
            async def echo(call: t.Call) -> Any:
                return call.args

            server = asyncio.create_task(b.serve(wait_ms=1000))
            try:
                async with asyncio.timeout(60):
                    r = await a.invoke(pair[1].did, "talos://async/x", "echo", {"n": [1, 2]},
                                       chain=issued)
            finally:
                server.cancel()
            return r.result

    assert asyncio.run(run()) == {"n": [1, 2]}


def test_refusals_are_typed(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    did_a, did_b = pair[0].did, pair[1].did
    weather = b.issue(did_a, [t.capability("talos://weather/**", "read")])

    # A capability for another resource, and for another action: B's node refuses.
    with pytest.raises(t.NotAuthorized) as e:
        a.invoke(did_b, "talos://booking/flights", "book", chain=weather)
    assert (e.value.kind, e.value.status) == ("not_authorized", 403)
    assert e.value.nonce is not None and e.value.at_ms is not None
    with pytest.raises(t.NotAuthorized):
        a.invoke(did_b, "talos://weather/today", "write", chain=weather)

    # A capability B never issued (A's own, for itself) is refused too.
    foreign = a.issue(did_a, [t.capability("talos://booking/**", "book")])
    with pytest.raises(t.Refused) as f:
        a.invoke(did_b, "talos://booking/flights", "book", chain=foreign)
    assert f.value.status == 403 and f.value.kind != "ok"

    # Revoked by its issuer: refused as `revoked` from then on.
    cap = b.issue(did_a, [t.capability("talos://revoke-me/**", "use")])
    first = b.revoke(cap)
    assert first.revoked and first.fresh
    assert not b.revoke(cap.jti).fresh
    with pytest.raises(t.Revoked) as r:
        a.invoke(did_b, "talos://revoke-me/x", "use", chain=cap)
    assert r.value.kind == "revoked" and isinstance(r.value, t.Refused)


def test_delegated_capability(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    root = b.issue(pair[0].did, [t.capability("talos://deleg/**", "get", "put")])
    # A narrows what it holds to itself: the chain grows by one and still works.
    narrow = a.delegate(root, pair[0].did, [t.capability("talos://deleg/only/*", "get")])
    assert narrow.chain[:1] == root.chain and len(narrow.chain) == 2

    @b.handles("talos://deleg/**")
    def get(call: t.Call) -> str:
        return call.resource

    with serving(b):
        assert a.invoke(pair[1].did, "talos://deleg/only/x", "get", chain=narrow).result == \
            "talos://deleg/only/x"
        with pytest.raises(t.NotAuthorized):
            a.invoke(pair[1].did, "talos://deleg/only/x", "put", chain=narrow)
    with pytest.raises(t.BadRequest):  # wider than the parent: A's node will not sign it
        a.delegate(root, pair[0].did, [t.capability("talos://other/**", "get")])


def test_wrong_token_and_missing_node(pair: Pair, tmp_path: Any) -> None:
    ep = pair[0].client().endpoint
    with pytest.raises(t.Unauthorized) as e:
        t.Talos(t.Endpoint(ep.base_url, ep.uds, "00" * 32)).node()
    assert e.value.status == 401
    with pytest.raises(t.Unauthorized):  # the stream's handshake too
        next(t.Talos(t.Endpoint(ep.base_url, ep.uds, "00" * 32)).stream())

    async def stream_refused() -> None:
        ab = t.AsyncTalos(t.Endpoint(ep.base_url, ep.uds, "00" * 32))
        await anext(ab.stream())

    with pytest.raises(t.Unauthorized):
        asyncio.run(stream_refused())
    with pytest.raises(t.NodeUnreachable):
        t.Talos(t.Endpoint("http://127.0.0.1:9", None, "x"), timeout=5).node()
    with pytest.raises(t.NodeUnreachable):
        next(t.Talos(t.Endpoint("http://127.0.0.1:9", None, "x")).stream())


def test_audit_proof_verifies_with_the_cli(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    cap = b.issue(pair[0].did, [t.capability("talos://audit/**", "ping")])

    @b.handles("talos://audit/**")
    def ping(call: t.Call) -> str:
        return "pong"

    with serving(b):
        assert a.invoke(pair[1].did, "talos://audit/x", "ping", chain=cap).result == "pong"

    # B's log holds the call: find a `capability_used` event through the SDK.
    def used() -> int | None:
        found, start = None, 0
        while True:
            page = b.events(start, max=256).events
            for ev in page:
                if "capability_used" in json.dumps(ev.event.to_dict()):
                    found = ev.index
            if len(page) < 256:
                return found
            start = page[-1].index + 1

    index = poll("a capability_used event in B's log", used)
    proof = b.proof(index)
    assert proof.leaf_idx == index
    wire = json.dumps(proof.to_dict())
    ok = talos(pair[1].home, "audit", "verify-inclusion", stdin=wire)
    assert ok.returncode == 0, ok.stderr + ok.stdout

    # The same proof with another leaf hash does not verify.
    bad = proof.to_dict()
    bad["leafHash"] = bad["root"] if bad["root"] != bad["leafHash"] else bad["proof"][0]
    refused = talos(pair[1].home, "audit", "verify-inclusion", stdin=json.dumps(bad))
    assert refused.returncode == 1, refused.stderr + refused.stdout

    cp = b.checkpoint()
    assert cp.note and cp.verifier_key
    assert b.head().tree_size > index


def test_example_run_sh(pair: Pair) -> None:
    """examples/python/run.sh end to end (its own two nodes; `pair` only gates on the
    binary being there)."""
    run_sh = Path(__file__).resolve().parents[3] / "examples" / "python" / "run.sh"
    env = {**os.environ, "TALOS_BIN": str(talos_bin())}
    out = subprocess.run(["bash", str(run_sh)], capture_output=True, text=True, env=env,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()[-3:]
    assert lines[0].startswith("book LH123: {'flight': 'LH123'"), out.stdout
    assert "sold_out" in lines[1] and "LH123 is full" in lines[1], out.stdout
    assert lines[2] == "cancel LH123: refused by booking's node (not_authorized)", out.stdout


def test_unix_socket_api(pair: Pair, tmp_path: Path) -> None:
    """A node whose API is on its Unix socket (`--api unix`): found through `api-addr`,
    reached over the socket for HTTP and for the WebSocket stream."""
    c = start_node(tmp_path, "u", bootstrap=pair[0].addr, api="unix")
    try:
        node = c.client()
        assert node.endpoint.uds is not None and node.endpoint.uds.endswith("api.sock")
        assert node.node().did == c.did
        poll("A and U to connect", lambda: connected(pair[0], c) and connected(c, pair[0]))
        pair[0].client().send(c.did, b"over the socket")
        it = node.stream(0)
        assert next(it).data == b"over the socket"
        it.close()

        async def via_async() -> bytes:
            async with t.AsyncTalos.connect(c.home) as an:
                assert (await an.node()).did == c.did
                got = await an.read(0, wait_ms=10_000)
                return got.messages[0].data

        assert asyncio.run(via_async()) == b"over the socket"
    finally:
        c.stop()


def test_generated_operations_through_api(pair: Pair) -> None:
    """An operation the SDK does not wrap, called through the generated module."""
    from talos_agent._generated.api.audit import audit_consistency
    from talos_agent._generated.models import ConsistencyProof

    b = pair[1].client()
    size = b.head().tree_size
    r = audit_consistency.sync_detailed(client=b.api, old=1, new=size)
    assert isinstance(r.parsed, ConsistencyProof) and r.parsed.size2 == size


def test_reputation_report_and_score(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    did_a, did_b = pair[0].did, pair[1].did
    # A's report about B: signed, audited, gossiped; a stranger's report (neither node
    # lists A as a seed) takes at most 50 points.
    filed = a.report(did_b, "bad_answer", ["ab" * 32])
    assert filed.subject == did_b and len(filed.commitment) == 64
    assert a.reputation(did_b).score == 950
    # Gossip reaches B once the two have exchanged subscriptions: file again (another
    # report, same cap) until one arrives.
    tries = [0]

    def arrived() -> bool:
        if b.reputation(did_b).reports >= 1:
            return True
        tries[0] += 1
        if tries[0] % 40 == 0:
            a.report(did_b, "bad_answer")
        return False

    poll("B to hold A's report", arrived)
    assert b.reputation(did_b).score == 950
    assert b.reputation(did_a).score == 1000
    with pytest.raises(t.BadRequest):
        a.report(did_a, "bad_answer")  # about itself
    with pytest.raises(ValueError):
        a.report(did_b, "spam")

    async def run() -> int:
        async with t.AsyncTalos.connect(pair[0].home) as x:
            await x.report(did_b, "refused_storm")
            return (await x.reputation(did_b)).reports

    assert asyncio.run(run()) >= 2


def test_a_held_call_goes_through_once_approved(pair: Pair) -> None:
    a, b = (n.client() for n in pair)
    # B holds each call under this capability until A approves it (here the caller is
    # its own approver, which only a test would do: it needs no third node).
    cap = {"res": "talos://approvals/**", "act": ["pay"], "cav": {"apv": {"by": [pair[0].did], "k": 1}}}
    issued = b.issue(pair[0].did, [cap], ttl=600)

    @b.handles("talos://approvals/**")
    def pay(call: t.Call) -> dict[str, Any]:
        return {"paid": call.args["amount"]}

    with serving(b):
        with pytest.raises(t.Pending) as held:
            a.invoke(pair[1].did, "talos://approvals/x", "pay", {"amount": 5}, chain=issued)
        request = held.value.approval
        assert held.value.status == 202 and request is not None and len(request) == 32

        def asked() -> bool:
            return any(x.id == request for x in a.approvals())

        poll("A to be asked", asked)
        ask = next(x for x in a.approvals() if x.id == request)
        assert (ask.holder, ask.caller, ask.action) == (pair[1].did, pair[0].did, "pay")
        given = a.approve(request)
        assert given.holder == pair[1].did and len(given.approval) == 64
        with pytest.raises(t.NotFound):
            a.approve(request)

        def paid() -> bool:
            try:
                r = a.invoke(pair[1].did, "talos://approvals/x", "pay", {"amount": 5}, chain=issued)
            except t.Pending:
                return False
            assert r.result == {"paid": 5}
            return True

        poll("the approved call to go through", paid)
        # Declining: the request is forgotten at the approver.
        with pytest.raises(t.Pending):
            a.invoke(pair[1].did, "talos://approvals/x", "pay", {"amount": 6}, chain=issued)
        poll("A to be asked again", lambda: len(a.approvals()) == 1)
        a.decline(a.approvals()[0].id)
        assert a.approvals() == []
