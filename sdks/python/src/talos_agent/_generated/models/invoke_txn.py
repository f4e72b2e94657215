from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capability import Capability


T = TypeVar("T", bound="InvokeTxn")


@_attrs_define
class InvokeTxn:
    """
    Attributes:
        purp (str):
        azd (list[Capability]):
        sub (str | Unset): did:key:z6Mk...
    """

    purp: str
    azd: list[Capability]
    sub: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        purp = self.purp

        azd = []
        for azd_item_data in self.azd:
            azd_item = azd_item_data.to_dict()
            azd.append(azd_item)

        sub = self.sub

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "purp": purp,
                "azd": azd,
            }
        )
        if sub is not UNSET:
            field_dict["sub"] = sub

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capability import Capability

        d = dict(src_dict)
        purp = d.pop("purp")

        azd = []
        _azd = d.pop("azd")
        for azd_item_data in _azd:
            azd_item = Capability.from_dict(azd_item_data)

            azd.append(azd_item)

        sub = d.pop("sub", UNSET)

        invoke_txn = cls(
            purp=purp,
            azd=azd,
            sub=sub,
        )

        invoke_txn.additional_properties = d
        return invoke_txn

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
