from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CapabilityCavApv")


@_attrs_define
class CapabilityCavApv:
    """each call is held until `k` of the approvers `by` approve it (FORMAT.md §3.5-§3.6)

    Attributes:
        by (list[str]): approver did:keys, ascending, 1 to 8
        k (int):
    """

    by: list[str]
    k: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by = self.by

        k = self.k

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "by": by,
                "k": k,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        by = cast(list[str], d.pop("by"))

        k = d.pop("k")

        capability_cav_apv = cls(
            by=by,
            k=k,
        )

        capability_cav_apv.additional_properties = d
        return capability_cav_apv

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
