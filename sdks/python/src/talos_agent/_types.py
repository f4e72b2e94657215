"""The few types the SDK adds over the generated models: where the wire form is awkward
to use directly (base64 bodies, free-form JSON objects wrapped in generated classes)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._generated.models import Call as WireCall
from ._generated.models import Capability, Issued
from ._generated.models import Message as WireMessage
from ._generated.types import Unset


@dataclass(frozen=True)
class Message:
    """A message in the inbox: `index` is its place there (read on from `index + 1`)."""

    index: int
    sender: str
    seq: int
    data: bytes
    group: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @staticmethod
    def of(m: WireMessage) -> Message:
        return Message(
            index=m.index,
            sender=m.from_,
            seq=m.seq,
            data=base64.b64decode(m.data),
            group=None if isinstance(m.group, Unset) else m.group,
        )


@dataclass(frozen=True)
class Inbox:
    messages: list[Message]
    next: int


@dataclass(frozen=True)
class Call:
    """A call the callee's node let through to this agent, to answer."""

    id: int
    sender: str
    resource: str
    action: str
    args: dict[str, Any]
    capability: str
    scope: list[dict[str, Any]] = field(default_factory=list)
    txn: dict[str, Any] | None = None
    traceparent: str | None = None

    @staticmethod
    def of(c: WireCall) -> Call:
        return Call(
            id=c.id,
            sender=c.from_,
            resource=c.resource,
            action=c.action,
            args=c.args.to_dict(),
            capability=c.capability,
            scope=[s.to_dict() for s in c.scope],
            txn=None if isinstance(c.txn, Unset) else c.txn.to_dict(),
            traceparent=None if isinstance(c.traceparent, Unset) else c.traceparent,
        )


CapabilityLike = Capability | Mapping[str, Any]
ChainLike = Issued | Sequence[str]


def capability(res: str, *act: str) -> Capability:
    """`capability("talos://booking/**", "book")`: a grant of actions on a resource pattern."""
    return Capability(res=res, act=list(act))


def caps(items: Sequence[CapabilityLike]) -> list[Capability]:
    return [c if isinstance(c, Capability) else Capability.from_dict(c) for c in items]


def chain_of(chain: ChainLike) -> list[str]:
    return list(chain.chain) if isinstance(chain, Issued) else list(chain)

