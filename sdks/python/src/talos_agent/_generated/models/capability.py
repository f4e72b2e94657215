from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capability_cav import CapabilityCav


T = TypeVar("T", bound="Capability")


@_attrs_define
class Capability:
    """
    Attributes:
        res (str): resource pattern, e.g. talos://booking/flights/*
        act (list[str]):
        cav (CapabilityCav | Unset):
    """

    res: str
    act: list[str]
    cav: CapabilityCav | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        res = self.res

        act = self.act

        cav: dict[str, Any] | Unset = UNSET
        if not isinstance(self.cav, Unset):
            cav = self.cav.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "res": res,
                "act": act,
            }
        )
        if cav is not UNSET:
            field_dict["cav"] = cav

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capability_cav import CapabilityCav

        d = dict(src_dict)
        res = d.pop("res")

        act = cast(list[str], d.pop("act"))

        _cav = d.pop("cav", UNSET)
        cav: CapabilityCav | Unset
        if isinstance(_cav, Unset):
            cav = UNSET
        else:
            cav = CapabilityCav.from_dict(_cav)

        capability = cls(
            res=res,
            act=act,
            cav=cav,
        )

        capability.additional_properties = d
        return capability

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
