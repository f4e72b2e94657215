"""`Talos` (sync) and `AsyncTalos`: the node's API through the generated client.

Each method is one generated operation (`_generated/api/...`) plus `_ok`, which turns any
answer that is not the documented success into the typed exception for its `kind`. The
two classes mirror each other line for line; only `await` differs.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import inspect
import json
import logging
import os
import re
import threading
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Sequence,
)
from typing import Any, Self, TypeVar

import httpx
import websockets.asyncio.client as ws_async
import websockets.sync.client as ws_sync
from websockets.exceptions import InvalidStatus

from ._generated.api.audit import (
    audit_checkpoint,
    audit_events,
    audit_head,
    audit_proof,
)
from ._generated.api.calls import answer_call, invoke, list_calls
from ._generated.api.capabilities import (
    approve,
    decline_approval,
    delegate_capability,
    file_report,
    get_reputation,
    issue_capability,
    list_approvals,
    revoke_capability,
)
from ._generated.api.messages import ack_messages, read_messages, send_message
from ._generated.api.node import get_node, list_peers
from ._generated.client import AuthenticatedClient
from ._generated.models import (
    AckMessagesBody,
    Answer,
    ApprovalAsk,
    ApprovalGiven,
    ApprovalList,
    Calls,
    Checkpoint,
    DelegateCapabilityBody,
    Deleted,
    FileReport,
    FileReportKind,
    Events,
    Head,
    InclusionProof,
    Invoke,
    InvokeArgs,
    InvokeResult,
    IssueCapabilityBody,
    Issued,
    NodeInfo,
    Peers,
    ReportFiled,
    Reputation,
    RevokeCapabilityBody,
    Send,
    Sent,
)
from ._generated.models import Inbox as WireInbox
from ._generated.models import Message as WireMessage
from ._generated.models import Revoked as RevokedAnswer
from ._generated.types import UNSET, Response, Unset
from ._home import Endpoint, endpoint
from ._types import (
    Call,
    CapabilityLike,
    ChainLike,
    Inbox,
    Message,
    caps,
    chain_of,
)
from .errors import NodeUnreachable, TalosError, error_for

log = logging.getLogger("talos_agent")

T = TypeVar("T")
AsyncHandler = Callable[[Call], Any | Awaitable[Any]]

# Longer than the node's longest long-poll (60 s) and its agent timeout, so a wait never
# ends on our side first.
DEFAULT_TIMEOUT = 90.0
# The node accepts an agent's own failure kind when it is 1-32 of [a-z_]...
_KIND = re.compile(r"[a-z_]{1,32}")
# ...and not one of the node's own kinds (docs/api.md, "Kinds an agent may not give"): a
# caller must never take an agent's failure for a refusal, so such a kind (a Revoked
# re-raised from a nested call, say) is answered as `agent_error`.
NODE_KINDS = frozenset({
    "ok", "rate_limited", "busy", "not_holder", "not_attested", "over_budget", "low_reputation",
    "pending", "not_approved",
    "denied", "unavailable", "agent_timeout", "unanswered", "bad_alg", "bad_header", "bad_signature", "bad_typ", "broken_chain",
    "empty_chain", "expired", "invocation_mismatch", "malformed_claims", "malformed_jws",
    "not_authorized", "not_yet_valid", "replay", "revoked", "too_deep", "too_large",
    "unknown_kid", "untrusted_root", "widening", "wrong_audience",
    # the node's API kinds (error::OWN_KINDS): a PeerUnreachable re-raised, say
    "bad_request", "unauthorized", "not_found", "peer_not_found", "no_chain",
    "peer_unreachable", "net", "anchor", "audit_failing", "stopping", "internal",
    "unknown_group", "not_creator", "group_conflict", "group_limit", "handshake_failed",
    "delivery", "bad_card",
})  # fmt: skip
# How many call ids serve() remembers having taken (the node holds at most 1,024 calls).
_MAX_TAKEN = 8192


def _ok(resp: Response[Any], want: type[T]) -> T:
    """The parsed success, or the typed exception for the problem the node answered."""
    if 200 <= resp.status_code < 300 and isinstance(resp.parsed, want):
        return resp.parsed
    raise error_for(resp.status_code, resp.content)


def _done(resp: Response[Any]) -> None:
    if not 200 <= resp.status_code < 300:
        raise error_for(resp.status_code, resp.content)


@contextlib.contextmanager
def _reaching(ep: Endpoint) -> Iterator[None]:
    # A node that is not running is a TalosError too, so callers catch one family.
    try:
        yield
    except httpx.TransportError as e:
        where = ep.uds or ep.base_url
        raise NodeUnreachable("node_unreachable", 0, f"{where}: {e!r}", {}) from e


@contextlib.contextmanager
def _ws_reaching(ep: Endpoint) -> Iterator[None]:
    # The WebSocket's handshake answers like any request: a refusal is its problem
    # document, no answer at all is NodeUnreachable.
    try:
        yield
    except InvalidStatus as e:
        raise error_for(e.response.status_code, bytes(e.response.body)) from e
    except OSError as e:
        where = ep.uds or ep.base_url
        raise NodeUnreachable("node_unreachable", 0, f"{where}: {e!r}", {}) from e


def _u(v: T | None) -> T | Unset:
    return UNSET if v is None else v


def _b64(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def _invoke_body(
    to: str,
    resource: str,
    action: str,
    args: dict[str, Any] | None,
    chain: ChainLike,
    nonce: str | None,
    at_ms: int | None,
) -> Invoke:
    return Invoke(
        to=to,
        resource=resource,
        action=action,
        args=InvokeArgs.from_dict(args or {}),
        chain=chain_of(chain),
        nonce=_u(nonce),
        at_ms=_u(at_ms),
    )


def _inbox(w: WireInbox) -> Inbox:
    return Inbox([Message.of(m) for m in w.messages], w.next_)


def _failure(e: BaseException) -> Answer:
    """A handler's exception as an answer: its message, and its `kind` when the node
    accepts it from an agent (`agent_error` otherwise)."""
    kind = getattr(e, "kind", "agent_error")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind) or kind in NODE_KINDS:
        kind = "agent_error"
    return Answer(error=str(e) or type(e).__name__, kind=kind)


def _success(result: Any) -> Answer:
    # None is sent as `"result": null` (the node tells a null result from a missing one).
    return Answer(result=result)


def _ws_target(ep: Endpoint, from_: int) -> tuple[str, dict[str, str]]:
    url = ep.base_url.replace("http://", "ws://", 1) + f"/v1/messages/stream?from={from_}"
    return url, {"Authorization": f"Bearer {ep.token}"}


class _Handlers:
    """The decorator's registry, shared by both clients."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[Call], Any]] = {}
        # Patterns may overlap: each loop sees every call its pattern matches, and the
        # first to take a call handles it (a handler never runs twice for one call).
        self._taken: set[int] = set()
        self._taken_order: collections.deque[int] = collections.deque()
        self._taken_lock = threading.Lock()

    def _take(self, call_id: int) -> bool:
        with self._taken_lock:
            if call_id in self._taken:
                return False
            self._taken.add(call_id)
            self._taken_order.append(call_id)
            if len(self._taken_order) > _MAX_TAKEN:
                self._taken.discard(self._taken_order.popleft())
            return True

    def handles(self, pattern: str) -> Callable[[Callable[[Call], T]], Callable[[Call], T]]:
        """`@node.handles("talos://booking/**")`: `serve()` hands every call whose
        resource the pattern matches to the function and answers with its return value
        (an exception becomes an error answer with the exception's `kind`)."""

        def register(fn: Callable[[Call], T]) -> Callable[[Call], T]:
            self._handlers[pattern] = fn
            return fn

        return register


class Talos(_Handlers):
    """A blocking client of one node's API."""

    def __init__(
        self,
        ep: Endpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = ep
        self._client = AuthenticatedClient(
            base_url=ep.base_url,
            token=ep.token,
            timeout=httpx.Timeout(timeout),
            httpx_args={"transport": transport or httpx.HTTPTransport(uds=ep.uds)},
        )

    @classmethod
    def connect(
        cls, home: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Talos:
        """The node whose home is `home`, else `$TALOS_HOME`, else `~/.talos`."""
        return cls(endpoint(home), timeout=timeout)

    @property
    def api(self) -> AuthenticatedClient:
        """The generated client, for operations this class does not wrap (groups,
        batches, sessions, ...): `from talos_agent._generated.api.groups import
        list_groups; list_groups.sync_detailed(client=node.api)`."""
        return self._client

    def close(self) -> None:
        self._client.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- node ---------------------------------------------------------------------
    def node(self) -> NodeInfo:
        with _reaching(self.endpoint):
            return _ok(get_node.sync_detailed(client=self._client), NodeInfo)

    def peers(self) -> list[str]:
        """The PeerIds this node is connected to now."""
        with _reaching(self.endpoint):
            return _ok(list_peers.sync_detailed(client=self._client), Peers).connected

    # --- messages -----------------------------------------------------------------
    def send(self, to: str, data: bytes | str) -> int:
        """Sends `data` to the agent `to`; returns its seq once the node stored it."""
        with _reaching(self.endpoint):
            body = Send(to=to, data=_b64(data))
            return _ok(send_message.sync_detailed(client=self._client, body=body), Sent).seq

    def read(self, from_: int = 0, *, max: int | None = None, wait_ms: int = 0) -> Inbox:
        """Messages from inbox index `from_` on; waits up to `wait_ms` for the first."""
        with _reaching(self.endpoint):
            r = read_messages.sync_detailed(
                client=self._client, from_=from_, max_=_u(max), wait_ms=wait_ms
            )
            return _inbox(_ok(r, WireInbox))

    def ack(self, through: int) -> int:
        """Deletes every inbox entry up to index `through`; returns how many went."""
        with _reaching(self.endpoint):
            body = AckMessagesBody(through=through)
            return _ok(ack_messages.sync_detailed(client=self._client, body=body), Deleted).deleted

    def stream(self, from_: int = 0) -> Generator[Message, None, None]:
        """Every message from inbox index `from_` on, as it arrives (a WebSocket)."""
        url, headers = _ws_target(self.endpoint, from_)
        with _ws_reaching(self.endpoint):
            if self.endpoint.uds:
                ws = ws_sync.unix_connect(self.endpoint.uds, url, additional_headers=headers)
            else:
                ws = ws_sync.connect(url, additional_headers=headers)
        with ws:
            for frame in ws:
                yield Message.of(_wire_message(frame))

    # --- calls --------------------------------------------------------------------
    def invoke(
        self,
        to: str,
        resource: str,
        action: str,
        args: dict[str, Any] | None = None,
        *,
        chain: ChainLike,
        nonce: str | None = None,
        at_ms: int | None = None,
    ) -> InvokeResult:
        """Calls agent `to` under the capability `chain` (root first); raises the typed
        refusal or failure (`Refused`, `AgentError`, ...) when it does not succeed."""
        body = _invoke_body(to, resource, action, args, chain, nonce, at_ms)
        with _reaching(self.endpoint):
            return _ok(invoke.sync_detailed(client=self._client, body=body), InvokeResult)

    def calls(
        self,
        after: int = 0,
        *,
        wait_ms: int = 0,
        resource: str | None = None,
        max: int | None = None,
    ) -> tuple[list[Call], int]:
        """Calls waiting for this agent with an id past `after` (and the next cursor)."""
        with _reaching(self.endpoint):
            r = list_calls.sync_detailed(
                client=self._client,
                after=after,
                wait_ms=wait_ms,
                resource=_u(resource),
                max_=_u(max),
            )
            got = _ok(r, Calls)
            return [Call.of(c) for c in got.calls], got.next_

    def answer(
        self, call_id: int, result: Any = None, *, error: str | None = None, kind: str | None = None
    ) -> None:
        """Answers call `call_id` with `result`, or fails it with `error` (and `kind`)."""
        body = Answer(error=error, kind=_u(kind)) if error is not None else Answer(result=result)
        self._answer(call_id, body)

    def _answer(self, call_id: int, body: Answer) -> None:
        with _reaching(self.endpoint):
            _done(answer_call.sync_detailed(call_id, client=self._client, body=body))

    def serve(self, *, stop: threading.Event | None = None, wait_ms: int = 1000) -> None:
        """Answers calls with the `@handles` functions until `stop` is set; `wait_ms`
        bounds how late a stop is seen. Calls for one pattern are handled one at a time,
        each pattern in its own thread; a loop's failure (the node gone) stops them all
        and is raised here."""
        if not self._handlers:
            raise ValueError("no handlers: register one with @node.handles(pattern)")
        stop = stop or threading.Event()
        failed: list[BaseException] = []

        def loop(pattern: str, fn: Callable[[Call], Any]) -> None:
            try:
                self._serve_one(pattern, fn, stop, wait_ms)
            except BaseException as e:  # noqa: BLE001 - handed to serve()'s caller below
                failed.append(e)
                stop.set()

        loops = [
            threading.Thread(target=loop, args=(p, f), daemon=True)
            for p, f in self._handlers.items()
        ]
        for t in loops:
            t.start()
        try:
            for t in loops:
                t.join()
        finally:
            stop.set()
        if failed:
            raise failed[0]

    def _serve_one(
        self, pattern: str, fn: Callable[[Call], Any], stop: threading.Event, wait_ms: int = 1000
    ) -> None:
        after = 0
        while not stop.is_set():
            try:
                got, after = self.calls(after, wait_ms=wait_ms, resource=pattern)
            except NodeUnreachable:
                if stop.is_set():
                    return
                raise
            for call in got:
                if not self._take(call.id):
                    continue
                try:
                    body = _success(fn(call))
                except Exception as e:  # noqa: BLE001 - any handler failure is an answer
                    body = _failure(e)
                try:
                    self._answer(call.id, body)
                except TalosError as e:
                    # Too large or otherwise refused: say so, so the caller is not left
                    # waiting for its timeout.
                    log.warning("answer to call %s refused: %s", call.id, e)
                    with contextlib.suppress(TalosError):
                        self._answer(call.id, _failure(e))

    # --- capabilities ---------------------------------------------------------------
    def issue(self, to: str, cap: Sequence[CapabilityLike], *, ttl: int | None = None) -> Issued:
        """A root capability from this agent to `to` (ttl in seconds, at most a day)."""
        body = IssueCapabilityBody(to=to, cap=caps(cap), ttl=_u(ttl))
        with _reaching(self.endpoint):
            return _ok(issue_capability.sync_detailed(client=self._client, body=body), Issued)

    def delegate(
        self, parent: ChainLike, to: str, cap: Sequence[CapabilityLike], *, ttl: int | None = None
    ) -> Issued:
        """Extends `parent` (a chain this agent holds) to `to`, no wider than it."""
        body = DelegateCapabilityBody(parent=chain_of(parent), to=to, cap=caps(cap), ttl=_u(ttl))
        with _reaching(self.endpoint):
            return _ok(delegate_capability.sync_detailed(client=self._client, body=body), Issued)

    def revoke(self, jti: str | Issued) -> RevokedAnswer:
        """Revokes a capability by its `jti`: this node refuses it from now on."""
        body = RevokeCapabilityBody(id=jti.jti if isinstance(jti, Issued) else jti)
        with _reaching(self.endpoint):
            r = revoke_capability.sync_detailed(client=self._client, body=body)
            return _ok(r, RevokedAnswer)

    # --- reputation ----------------------------------------------------------------
    def report(self, subject: str, kind: str, evidence: Sequence[str] = ()) -> ReportFiled:
        """Signs a misbehaviour report about `subject` (kind: `refused_storm`, `bad_answer`,
        `broken_attestation`, `protocol_violation` or `operator_report`; evidence: leaf
        hashes of this agent's audit events): kept, audited and gossiped."""
        body = _report_body(subject, kind, evidence)
        with _reaching(self.endpoint):
            return _ok(file_report.sync_detailed(client=self._client, body=body), ReportFiled)

    def reputation(self, did: str) -> Reputation:
        """`did`'s score (0..=1000) from the reports this node holds."""
        with _reaching(self.endpoint):
            r = get_reputation.sync_detailed(did, client=self._client)
            return _ok(r, Reputation)

    # --- approvals (apv) ------------------------------------------------------------
    def approvals(self) -> list[ApprovalAsk]:
        """The calls other nodes hold until this agent approves them."""
        with _reaching(self.endpoint):
            return _ok(list_approvals.sync_detailed(client=self._client), ApprovalList).approvals

    def approve(self, request_id: str) -> ApprovalGiven:
        """Approves a held call: signed, audited and handed to the holder's node."""
        with _reaching(self.endpoint):
            return _ok(approve.sync_detailed(request_id, client=self._client), ApprovalGiven)

    def decline(self, request_id: str) -> None:
        """Declines a held call (the holder refuses it `not_approved` when it lapses)."""
        with _reaching(self.endpoint):
            _done(decline_approval.sync_detailed(request_id, client=self._client))

    # --- audit --------------------------------------------------------------------
    def head(self) -> Head:
        with _reaching(self.endpoint):
            return _ok(audit_head.sync_detailed(client=self._client), Head)

    def checkpoint(self) -> Checkpoint:
        with _reaching(self.endpoint):
            return _ok(audit_checkpoint.sync_detailed(client=self._client), Checkpoint)

    def proof(self, index: int, *, size: int | None = None) -> InclusionProof:
        """The inclusion proof of leaf `index` (`.to_dict()` is what
        `talos audit verify-inclusion` reads)."""
        with _reaching(self.endpoint):
            r = audit_proof.sync_detailed(client=self._client, index=index, size=_u(size))
            return _ok(r, InclusionProof)

    def events(self, from_: int = 0, *, max: int | None = None) -> Events:
        with _reaching(self.endpoint):
            r = audit_events.sync_detailed(client=self._client, from_=from_, max_=_u(max))
            return _ok(r, Events)


class AsyncTalos(_Handlers):
    """The same client for asyncio."""

    def __init__(
        self,
        ep: Endpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = ep
        self._client = AuthenticatedClient(
            base_url=ep.base_url,
            token=ep.token,
            timeout=httpx.Timeout(timeout),
            httpx_args={"transport": transport or httpx.AsyncHTTPTransport(uds=ep.uds)},
        )

    @classmethod
    def connect(
        cls, home: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> AsyncTalos:
        """The node whose home is `home`, else `$TALOS_HOME`, else `~/.talos`."""
        return cls(endpoint(home), timeout=timeout)

    @property
    def api(self) -> AuthenticatedClient:
        """The generated client, for operations this class does not wrap."""
        return self._client

    async def aclose(self) -> None:
        await self._client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def node(self) -> NodeInfo:
        with _reaching(self.endpoint):
            return _ok(await get_node.asyncio_detailed(client=self._client), NodeInfo)

    async def peers(self) -> list[str]:
        with _reaching(self.endpoint):
            return _ok(await list_peers.asyncio_detailed(client=self._client), Peers).connected

    async def send(self, to: str, data: bytes | str) -> int:
        with _reaching(self.endpoint):
            body = Send(to=to, data=_b64(data))
            return _ok(await send_message.asyncio_detailed(client=self._client, body=body), Sent).seq

    async def read(self, from_: int = 0, *, max: int | None = None, wait_ms: int = 0) -> Inbox:
        with _reaching(self.endpoint):
            r = await read_messages.asyncio_detailed(
                client=self._client, from_=from_, max_=_u(max), wait_ms=wait_ms
            )
            return _inbox(_ok(r, WireInbox))

    async def ack(self, through: int) -> int:
        with _reaching(self.endpoint):
            body = AckMessagesBody(through=through)
            r = await ack_messages.asyncio_detailed(client=self._client, body=body)
            return _ok(r, Deleted).deleted

    async def stream(self, from_: int = 0) -> AsyncGenerator[Message, None]:
        """Every message from inbox index `from_` on, as it arrives (a WebSocket)."""
        url, headers = _ws_target(self.endpoint, from_)
        if self.endpoint.uds:
            ws = ws_async.unix_connect(self.endpoint.uds, url, additional_headers=headers)
        else:
            ws = ws_async.connect(url, additional_headers=headers)
        with _ws_reaching(self.endpoint):
            conn = await ws
        async with conn:
            async for frame in conn:
                yield Message.of(_wire_message(frame))

    async def invoke(
        self,
        to: str,
        resource: str,
        action: str,
        args: dict[str, Any] | None = None,
        *,
        chain: ChainLike,
        nonce: str | None = None,
        at_ms: int | None = None,
    ) -> InvokeResult:
        body = _invoke_body(to, resource, action, args, chain, nonce, at_ms)
        with _reaching(self.endpoint):
            r = await invoke.asyncio_detailed(client=self._client, body=body)
            return _ok(r, InvokeResult)

    async def calls(
        self,
        after: int = 0,
        *,
        wait_ms: int = 0,
        resource: str | None = None,
        max: int | None = None,
    ) -> tuple[list[Call], int]:
        with _reaching(self.endpoint):
            r = await list_calls.asyncio_detailed(
                client=self._client,
                after=after,
                wait_ms=wait_ms,
                resource=_u(resource),
                max_=_u(max),
            )
            got = _ok(r, Calls)
            return [Call.of(c) for c in got.calls], got.next_

    async def answer(
        self, call_id: int, result: Any = None, *, error: str | None = None, kind: str | None = None
    ) -> None:
        body = Answer(error=error, kind=_u(kind)) if error is not None else Answer(result=result)
        await self._answer(call_id, body)

    async def _answer(self, call_id: int, body: Answer) -> None:
        with _reaching(self.endpoint):
            _done(await answer_call.asyncio_detailed(call_id, client=self._client, body=body))

    async def serve(self, *, wait_ms: int = 30_000) -> None:
        """Answers calls with the `@handles` functions (plain or async) until cancelled."""
        if not self._handlers:
            raise ValueError("no handlers: register one with @node.handles(pattern)")
        async with asyncio.TaskGroup() as tg:
            for p, f in self._handlers.items():
                tg.create_task(self._serve_one(p, f, wait_ms))

    async def _serve_one(self, pattern: str, fn: AsyncHandler, wait_ms: int) -> None:
        after = 0
        while True:
            got, after = await self.calls(after, wait_ms=wait_ms, resource=pattern)
            for call in got:
                if not self._take(call.id):
                    continue
                try:
                    out = fn(call)
                    body = _success(await out if inspect.isawaitable(out) else out)
                except Exception as e:  # noqa: BLE001 - any handler failure is an answer
                    body = _failure(e)
                try:
                    await self._answer(call.id, body)
                except TalosError as e:
                    log.warning("answer to call %s refused: %s", call.id, e)
                    with contextlib.suppress(TalosError):
                        await self._answer(call.id, _failure(e))

    async def issue(
        self, to: str, cap: Sequence[CapabilityLike], *, ttl: int | None = None
    ) -> Issued:
        body = IssueCapabilityBody(to=to, cap=caps(cap), ttl=_u(ttl))
        with _reaching(self.endpoint):
            r = await issue_capability.asyncio_detailed(client=self._client, body=body)
            return _ok(r, Issued)

    async def delegate(
        self, parent: ChainLike, to: str, cap: Sequence[CapabilityLike], *, ttl: int | None = None
    ) -> Issued:
        body = DelegateCapabilityBody(parent=chain_of(parent), to=to, cap=caps(cap), ttl=_u(ttl))
        with _reaching(self.endpoint):
            r = await delegate_capability.asyncio_detailed(client=self._client, body=body)
            return _ok(r, Issued)

    async def revoke(self, jti: str | Issued) -> RevokedAnswer:
        body = RevokeCapabilityBody(id=jti.jti if isinstance(jti, Issued) else jti)
        with _reaching(self.endpoint):
            r = await revoke_capability.asyncio_detailed(client=self._client, body=body)
            return _ok(r, RevokedAnswer)

    async def report(
        self, subject: str, kind: str, evidence: Sequence[str] = ()
    ) -> ReportFiled:
        body = _report_body(subject, kind, evidence)
        with _reaching(self.endpoint):
            r = await file_report.asyncio_detailed(client=self._client, body=body)
            return _ok(r, ReportFiled)

    async def reputation(self, did: str) -> Reputation:
        with _reaching(self.endpoint):
            r = await get_reputation.asyncio_detailed(did, client=self._client)
            return _ok(r, Reputation)

    async def approvals(self) -> list[ApprovalAsk]:
        with _reaching(self.endpoint):
            r = await list_approvals.asyncio_detailed(client=self._client)
            return _ok(r, ApprovalList).approvals

    async def approve(self, request_id: str) -> ApprovalGiven:
        with _reaching(self.endpoint):
            r = await approve.asyncio_detailed(request_id, client=self._client)
            return _ok(r, ApprovalGiven)

    async def decline(self, request_id: str) -> None:
        with _reaching(self.endpoint):
            _done(await decline_approval.asyncio_detailed(request_id, client=self._client))

    async def head(self) -> Head:
        with _reaching(self.endpoint):
            return _ok(await audit_head.asyncio_detailed(client=self._client), Head)

    async def checkpoint(self) -> Checkpoint:
        with _reaching(self.endpoint):
            return _ok(await audit_checkpoint.asyncio_detailed(client=self._client), Checkpoint)

    async def proof(self, index: int, *, size: int | None = None) -> InclusionProof:
        with _reaching(self.endpoint):
            r = await audit_proof.asyncio_detailed(client=self._client, index=index, size=_u(size))
            return _ok(r, InclusionProof)

    async def events(self, from_: int = 0, *, max: int | None = None) -> Events:
        with _reaching(self.endpoint):
            r = await audit_events.asyncio_detailed(client=self._client, from_=from_, max_=_u(max))
            return _ok(r, Events)


def _report_body(subject: str, kind: str, evidence: Sequence[str]) -> FileReport:
    try:
        k = FileReportKind(kind)
    except ValueError as e:
        raise ValueError(f"unknown report kind {kind!r}") from e
    return FileReport(subject=subject, kind=k, evidence=list(evidence))


def _wire_message(frame: str | bytes) -> WireMessage:
    return WireMessage.from_dict(json.loads(frame))
