from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capability import Capability
    from ..models.peer_invoke_args import PeerInvokeArgs
    from ..models.peer_invoke_txn import PeerInvokeTxn


T = TypeVar("T", bound="PeerInvoke")


@_attrs_define
class PeerInvoke:
    """`/v1/invoke`'s body without `to` (the peer is the path's DID). Exactly one of `chain`, `txn` and `within`.

    Attributes:
        resource (str):
        action (str):
        chain (list[str] | Unset): capability tokens (compact JWS), root first
        txn (PeerInvokeTxn | Unset):
        within (int | Unset): the id of the call being handled: its transaction token is replaced for this hop
        azd (list[Capability] | Unset): with `within`: narrower authorization for the next hop
        args (PeerInvokeArgs | Unset):
        nonce (str | Unset): 32 hex digits; with `atMs`, to retry a call idempotently (a second call with it is refused
            as a replay)
        at_ms (int | Unset):
        detached (bool | Unset): attach a detached invocation signed by this agent
        traceparent (str | Unset): the caller's W3C trace context (`00-<32 hex>-<16 hex>-<2 hex>`), passed to the callee
            and recorded in its `call_answered` audit event
    """

    resource: str
    action: str
    chain: list[str] | Unset = UNSET
    txn: PeerInvokeTxn | Unset = UNSET
    within: int | Unset = UNSET
    azd: list[Capability] | Unset = UNSET
    args: PeerInvokeArgs | Unset = UNSET
    nonce: str | Unset = UNSET
    at_ms: int | Unset = UNSET
    detached: bool | Unset = UNSET
    traceparent: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        resource = self.resource

        action = self.action

        chain: list[str] | Unset = UNSET
        if not isinstance(self.chain, Unset):
            chain = self.chain

        txn: dict[str, Any] | Unset = UNSET
        if not isinstance(self.txn, Unset):
            txn = self.txn.to_dict()

        within = self.within

        azd: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.azd, Unset):
            azd = []
            for azd_item_data in self.azd:
                azd_item = azd_item_data.to_dict()
                azd.append(azd_item)

        args: dict[str, Any] | Unset = UNSET
        if not isinstance(self.args, Unset):
            args = self.args.to_dict()

        nonce = self.nonce

        at_ms = self.at_ms

        detached = self.detached

        traceparent = self.traceparent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "resource": resource,
                "action": action,
            }
        )
        if chain is not UNSET:
            field_dict["chain"] = chain
        if txn is not UNSET:
            field_dict["txn"] = txn
        if within is not UNSET:
            field_dict["within"] = within
        if azd is not UNSET:
            field_dict["azd"] = azd
        if args is not UNSET:
            field_dict["args"] = args
        if nonce is not UNSET:
            field_dict["nonce"] = nonce
        if at_ms is not UNSET:
            field_dict["atMs"] = at_ms
        if detached is not UNSET:
            field_dict["detached"] = detached
        if traceparent is not UNSET:
            field_dict["traceparent"] = traceparent

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capability import Capability
        from ..models.peer_invoke_args import PeerInvokeArgs
        from ..models.peer_invoke_txn import PeerInvokeTxn

        d = dict(src_dict)
        resource = d.pop("resource")

        action = d.pop("action")

        chain = cast(list[str], d.pop("chain", UNSET))

        _txn = d.pop("txn", UNSET)
        txn: PeerInvokeTxn | Unset
        if isinstance(_txn, Unset):
            txn = UNSET
        else:
            txn = PeerInvokeTxn.from_dict(_txn)

        within = d.pop("within", UNSET)

        _azd = d.pop("azd", UNSET)
        azd: list[Capability] | Unset = UNSET
        if _azd is not UNSET:
            azd = []
            for azd_item_data in _azd:
                azd_item = Capability.from_dict(azd_item_data)

                azd.append(azd_item)

        _args = d.pop("args", UNSET)
        args: PeerInvokeArgs | Unset
        if isinstance(_args, Unset):
            args = UNSET
        else:
            args = PeerInvokeArgs.from_dict(_args)

        nonce = d.pop("nonce", UNSET)

        at_ms = d.pop("atMs", UNSET)

        detached = d.pop("detached", UNSET)

        traceparent = d.pop("traceparent", UNSET)

        peer_invoke = cls(
            resource=resource,
            action=action,
            chain=chain,
            txn=txn,
            within=within,
            azd=azd,
            args=args,
            nonce=nonce,
            at_ms=at_ms,
            detached=detached,
            traceparent=traceparent,
        )

        peer_invoke.additional_properties = d
        return peer_invoke

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
