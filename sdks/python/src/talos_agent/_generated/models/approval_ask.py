from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ApprovalAsk")


@_attrs_define
class ApprovalAsk:
    """A call another node holds until this agent approves it (crates/capability/FORMAT.md §3.5-§3.6)

    Attributes:
        id (str): the request id, 32 hex
        holder (str): did:key:z6Mk...
        caller (str): the caller's DID
        resource (str):
        action (str):
        args (str): SHA-256 of the arguments' JCS form, hex
        request (str): the call digest the approval signs, hex
        exp (int): when the request lapses (Unix seconds)
    """

    id: str
    holder: str
    caller: str
    resource: str
    action: str
    args: str
    request: str
    exp: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        holder = self.holder

        caller = self.caller

        resource = self.resource

        action = self.action

        args = self.args

        request = self.request

        exp = self.exp

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "holder": holder,
                "caller": caller,
                "resource": resource,
                "action": action,
                "args": args,
                "request": request,
                "exp": exp,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        holder = d.pop("holder")

        caller = d.pop("caller")

        resource = d.pop("resource")

        action = d.pop("action")

        args = d.pop("args")

        request = d.pop("request")

        exp = d.pop("exp")

        approval_ask = cls(
            id=id,
            holder=holder,
            caller=caller,
            resource=resource,
            action=action,
            args=args,
            request=request,
            exp=exp,
        )

        approval_ask.additional_properties = d
        return approval_ask

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
