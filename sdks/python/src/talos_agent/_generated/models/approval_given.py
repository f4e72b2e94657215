from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ApprovalGiven")


@_attrs_define
class ApprovalGiven:
    """An approval signed, audited (`approval_granted`) and taken by the holder's node

    Attributes:
        id (str):
        holder (str): did:key:z6Mk...
        request (str):
        approval (str): SHA-256 of the approval's compact JWS, hex
    """

    id: str
    holder: str
    request: str
    approval: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        holder = self.holder

        request = self.request

        approval = self.approval

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "holder": holder,
                "request": request,
                "approval": approval,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        holder = d.pop("holder")

        request = d.pop("request")

        approval = d.pop("approval")

        approval_given = cls(
            id=id,
            holder=holder,
            request=request,
            approval=approval,
        )

        approval_given.additional_properties = d
        return approval_given

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
