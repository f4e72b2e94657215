from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capability import Capability


T = TypeVar("T", bound="DelegateCapabilityBody")


@_attrs_define
class DelegateCapabilityBody:
    """
    Attributes:
        parent (list[str]):
        to (str): did:key:z6Mk...
        cap (list[Capability]):
        ttl (int | Unset):
    """

    parent: list[str]
    to: str
    cap: list[Capability]
    ttl: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        parent = self.parent

        to = self.to

        cap = []
        for cap_item_data in self.cap:
            cap_item = cap_item_data.to_dict()
            cap.append(cap_item)

        ttl = self.ttl

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "parent": parent,
                "to": to,
                "cap": cap,
            }
        )
        if ttl is not UNSET:
            field_dict["ttl"] = ttl

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capability import Capability

        d = dict(src_dict)
        parent = cast(list[str], d.pop("parent"))

        to = d.pop("to")

        cap = []
        _cap = d.pop("cap")
        for cap_item_data in _cap:
            cap_item = Capability.from_dict(cap_item_data)

            cap.append(cap_item)

        ttl = d.pop("ttl", UNSET)

        delegate_capability_body = cls(
            parent=parent,
            to=to,
            cap=cap,
            ttl=ttl,
        )

        delegate_capability_body.additional_properties = d
        return delegate_capability_body

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
