"""talos-agent: a typed client of a talos node's local agent API.

    from talos_agent import Talos
    node = Talos.connect()            # $TALOS_HOME or ~/.talos
    node.send(did, b"hello")
"""

from ._generated.models import (
    Capability,
    Checkpoint,
    Events,
    Head,
    InclusionProof,
    InvokeResult,
    Issued,
    NodeInfo,
    ReportFiled,
    Reputation,
)
from ._generated.models import Revoked as RevokedAnswer
from ._home import Endpoint, endpoint
from ._types import Call, Inbox, Message, capability
from .client import AsyncTalos, Talos
from .errors import (
    AgentError,
    AgentTimeout,
    BadRequest,
    CallFailed,
    Conflict,
    Expired,
    InternalError,
    LowReputation,
    NodeUnreachable,
    NotAttested,
    NotAuthorized,
    NotFound,
    OverBudget,
    PeerNotFound,
    PeerUnreachable,
    RateLimited,
    Refused,
    Replay,
    Revoked,
    TalosError,
    TooLarge,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "AgentError",
    "AgentTimeout",
    "AsyncTalos",
    "BadRequest",
    "Call",
    "CallFailed",
    "Capability",
    "Checkpoint",
    "Conflict",
    "Endpoint",
    "Events",
    "Expired",
    "Head",
    "Inbox",
    "InclusionProof",
    "InternalError",
    "InvokeResult",
    "Issued",
    "LowReputation",
    "Message",
    "NodeInfo",
    "NodeUnreachable",
    "NotAuthorized",
    "NotFound",
    "PeerNotFound",
    "PeerUnreachable",
    "RateLimited",
    "NotAttested",
    "OverBudget",
    "Refused",
    "Replay",
    "ReportFiled",
    "Reputation",
    "Revoked",
    "RevokedAnswer",
    "Talos",
    "TalosError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "capability",
    "endpoint",
]
