from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConsistencyProof")


@_attrs_define
class ConsistencyProof:
    """
    Attributes:
        size1 (int):
        size2 (int):
        root1 (str):
        root2 (str):
        proof (list[str]):
    """

    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        size1 = self.size1

        size2 = self.size2

        root1 = self.root1

        root2 = self.root2

        proof = self.proof

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "size1": size1,
                "size2": size2,
                "root1": root1,
                "root2": root2,
                "proof": proof,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        size1 = d.pop("size1")

        size2 = d.pop("size2")

        root1 = d.pop("root1")

        root2 = d.pop("root2")

        proof = cast(list[str], d.pop("proof"))

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
