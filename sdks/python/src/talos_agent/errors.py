"""Typed exceptions for the node's RFC 9457 problem documents.

The node's `kind` is the stable thing to branch on (docs/api.md), so every exception is
chosen from ONE table keyed by kind, with a fallback by HTTP status for kinds this SDK
does not name (an agent's own kinds such as `sold_out`, new node kinds).
"""

from __future__ import annotations

import json
from typing import Any


class TalosError(Exception):
    """An error answer of the node: its `kind`, HTTP `status`, `detail` and the whole
    problem document. A refused or failed call also carries `nonce`, `at_ms` and `txn`,
    which let the caller retry it as the same call (a retry is refused as a replay)."""

    def __init__(self, kind: str, status: int, detail: str, problem: dict[str, Any]) -> None:
        super().__init__(f"{kind} ({status}): {detail}")
        self.kind = kind
        self.status = status
        self.detail = detail
        self.problem = problem
        nonce = problem.get("nonce")
        at_ms = problem.get("atMs")
        self.nonce: str | None = nonce if isinstance(nonce, str) else None
        self.at_ms: int | None = at_ms if isinstance(at_ms, int) else None
        self.txn: Any = problem.get("txn")


class NodeUnreachable(TalosError):
    """The node's API did not answer at all (is `talos up` running?)."""


class BadRequest(TalosError):
    """400: malformed body, query or path."""


class Unauthorized(TalosError):
    """401: no API token or a wrong one."""


class NotFound(TalosError):
    """404: no such call, proof index, record or route."""


class PeerNotFound(NotFound):
    """404: no session with the peer and no directory record of it."""


class Conflict(TalosError):
    """409: e.g. `no_chain`, `group_conflict`."""


class TooLarge(TalosError):
    """413: a message, answer or call over its bound."""


class Refused(TalosError):
    """403/429: the callee's node refused the call (see `kind`, `nonce`, `at_ms`)."""


class Pending(TalosError):
    """202: the callee's node holds the call until its approvers approve it (`apv`);
    `approval` is the request id. Send the same call again once it is approved."""

    @property
    def approval(self) -> str | None:
        a = self.problem.get("approval")
        return a if isinstance(a, str) else None


class NotApproved(Refused):
    """403: the call's approval request lapsed before enough approvers approved it."""


class NotAuthorized(Refused):
    """The capability does not cover this resource and action."""


class Revoked(Refused):
    """The capability (or one in its chain) was revoked."""


class Expired(Refused):
    """The capability has expired."""


class Replay(Refused):
    """A call with this nonce was already seen."""


class RateLimited(Refused):
    """429: the callee's rate limit."""


class NotAttested(Refused):
    """403: the capability asks for an attestation credential the caller lacks."""


class OverBudget(Refused):
    """403: the call would take the capability's hard budget over its limit."""


class LowReputation(Refused):
    """403: the callee's node scores the caller below its min_reputation."""


class InternalError(TalosError):
    """500: a fault of the node or its host."""


class CallFailed(TalosError):
    """502: the peer's agent or node failed the call. An agent's own kinds land here."""


class AgentError(CallFailed):
    """The peer's agent answered with an error."""


class PeerUnreachable(CallFailed):
    """The peer could not be reached."""


class Unavailable(CallFailed):
    """The peer's node could not hand the call over, or (503) this node's delivery,
    network, chain or audit log is failing, or it is stopping."""


class AgentTimeout(CallFailed):
    """504: the peer's agent did not answer in time."""


# The one table: kind → exception. Unlisted kinds fall back on _BY_STATUS.
_BY_KIND: dict[str, type[TalosError]] = {
    "bad_request": BadRequest,
    "unauthorized": Unauthorized,
    "not_found": NotFound,
    "peer_not_found": PeerNotFound,
    "too_large": TooLarge,
    "not_authorized": NotAuthorized,
    "revoked": Revoked,
    "expired": Expired,
    "replay": Replay,
    "rate_limited": RateLimited,
    "not_attested": NotAttested,
    "over_budget": OverBudget,
    "low_reputation": LowReputation,
    "pending": Pending,
    "not_approved": NotApproved,
    "internal": InternalError,
    "agent_error": AgentError,
    "peer_unreachable": PeerUnreachable,
    "unavailable": Unavailable,
    "agent_timeout": AgentTimeout,
    "node_unreachable": NodeUnreachable,
}

_BY_STATUS: dict[int, type[TalosError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Refused,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    429: RateLimited,
    500: InternalError,
    502: CallFailed,
    503: Unavailable,
    504: AgentTimeout,
}


def error_for(status: int, body: bytes) -> TalosError:
    """The exception for an error answer (a problem document, or anything else a proxy
    or an older node may have sent)."""
    problem: dict[str, Any]
    try:
        parsed = json.loads(body)
        problem = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        problem = {}
    kind = problem.get("kind")
    if not isinstance(kind, str):
        kind = f"http_{status}"
    detail = problem.get("detail")
    if not isinstance(detail, str):
        detail = body.decode("utf-8", "replace")[:500]
    cls = _BY_KIND.get(kind) or _BY_STATUS.get(status) or TalosError
    return cls(kind, status, detail, problem)
