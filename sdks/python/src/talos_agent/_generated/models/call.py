from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_args import CallArgs
    from ..models.call_txn import CallTxn
    from ..models.capability import Capability


T = TypeVar("T", bound="Call")


@_attrs_define
class Call:
    """
    Attributes:
        id (int):
        from_ (str): did:key:z6Mk...
        resource (str):
        action (str):
        args (CallArgs):
        capability (str):
        scope (list[Capability]): what the call's authority grants (the chain leaf's capabilities, or the transaction
            token's authorization details)
        txn (CallTxn | Unset):
        traceparent (str | Unset): the caller's W3C trace context, when the call carried one
    """

    id: int
    from_: str
    resource: str
    action: str
    args: CallArgs
    capability: str
    scope: list[Capability]
    txn: CallTxn | Unset = UNSET
    traceparent: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        from_ = self.from_

        resource = self.resource

        action = self.action

        args = self.args.to_dict()

        capability = self.capability

        scope = []
        for scope_item_data in self.scope:
            scope_item = scope_item_data.to_dict()
            scope.append(scope_item)

        txn: dict[str, Any] | Unset = UNSET
        if not isinstance(self.txn, Unset):
            txn = self.txn.to_dict()

        traceparent = self.traceparent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "from": from_,
                "resource": resource,
                "action": action,
                "args": args,
                "capability": capability,
                "scope": scope,
            }
        )
        if txn is not UNSET:
            field_dict["txn"] = txn
        if traceparent is not UNSET:
            field_dict["traceparent"] = traceparent

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.call_args import CallArgs
        from ..models.call_txn import CallTxn
        from ..models.capability import Capability

        d = dict(src_dict)
        id = d.pop("id")

        from_ = d.pop("from")

        resource = d.pop("resource")

        action = d.pop("action")

        args = CallArgs.from_dict(d.pop("args"))

        capability = d.pop("capability")

        scope = []
        _scope = d.pop("scope")
        for scope_item_data in _scope:
            scope_item = Capability.from_dict(scope_item_data)

            scope.append(scope_item)

        _txn = d.pop("txn", UNSET)
        txn: CallTxn | Unset
        if isinstance(_txn, Unset):
            txn = UNSET
        else:
            txn = CallTxn.from_dict(_txn)

        traceparent = d.pop("traceparent", UNSET)

        call = cls(
            id=id,
            from_=from_,
            resource=resource,
            action=action,
            args=args,
            capability=capability,
            scope=scope,
            txn=txn,
            traceparent=traceparent,
        )

        call.additional_properties = d
        return call

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
