from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Issued")


@_attrs_define
class Issued:
    """
    Attributes:
        chain (list[str]): the capability chain, root first: what the holder passes to invoke
        jti (str): the leaf's id (32 hex digits): what revoke takes
        commitment (str): the leaf's commitment
    """

    chain: list[str]
    jti: str
    commitment: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        chain = self.chain

        jti = self.jti

        commitment = self.commitment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "chain": chain,
                "jti": jti,
                "commitment": commitment,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        chain = cast(list[str], d.pop("chain"))

        jti = d.pop("jti")

        commitment = d.pop("commitment")

        issued = cls(
            chain=chain,
            jti=jti,
            commitment=commitment,
        )

        issued.additional_properties = d
        return issued

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
