from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capability_cav_att_clm import CapabilityCavAttClm


T = TypeVar("T", bound="CapabilityCavAtt")


@_attrs_define
class CapabilityCavAtt:
    """the caller must present an attestation credential by one of `iss` (FORMAT.md §3.5)

    Attributes:
        iss (list[str]): attester did:keys, ascending
        clm (CapabilityCavAttClm | Unset): claims the credential must state
    """

    iss: list[str]
    clm: CapabilityCavAttClm | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        iss = self.iss

        clm: dict[str, Any] | Unset = UNSET
        if not isinstance(self.clm, Unset):
            clm = self.clm.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "iss": iss,
            }
        )
        if clm is not UNSET:
            field_dict["clm"] = clm

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capability_cav_att_clm import CapabilityCavAttClm

        d = dict(src_dict)
        iss = cast(list[str], d.pop("iss"))

        _clm = d.pop("clm", UNSET)
        clm: CapabilityCavAttClm | Unset
        if isinstance(_clm, Unset):
            clm = UNSET
        else:
            clm = CapabilityCavAttClm.from_dict(_clm)

        capability_cav_att = cls(
            iss=iss,
            clm=clm,
        )

        capability_cav_att.additional_properties = d
        return capability_cav_att

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
