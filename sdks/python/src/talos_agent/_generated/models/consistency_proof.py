from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ConsistencyProof")


@_attrs_define
class ConsistencyProof:
    """
    Attributes:
        size1 (int | Unset):
        size2 (int | Unset):
        root1 (str | Unset):
        root2 (str | Unset):
        proof (list[str] | Unset):
    """

    size1: int | Unset = UNSET
    size2: int | Unset = UNSET
    root1: str | Unset = UNSET
    root2: str | Unset = UNSET
    proof: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        size1 = self.size1

        size2 = self.size2

        root1 = self.root1

        root2 = self.root2

        proof: list[str] | Unset = UNSET
        if not isinstance(self.proof, Unset):
            proof = self.proof

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if size1 is not UNSET:
            field_dict["size1"] = size1
        if size2 is not UNSET:
            field_dict["size2"] = size2
        if root1 is not UNSET:
            field_dict["root1"] = root1
        if root2 is not UNSET:
            field_dict["root2"] = root2
        if proof is not UNSET:
            field_dict["proof"] = proof

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        size1 = d.pop("size1", UNSET)

        size2 = d.pop("size2", UNSET)

        root1 = d.pop("root1", UNSET)

        root2 = d.pop("root2", UNSET)

        proof = cast(list[str], d.pop("proof", UNSET))

        consistency_proof = cls(
            size1=size1,
            size2=size2,
            root1=root1,
            root2=root2,
            proof=proof,
        )

        consistency_proof.additional_properties = d
        return consistency_proof

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
