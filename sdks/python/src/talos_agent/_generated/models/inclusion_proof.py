from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="InclusionProof")


@_attrs_define
class InclusionProof:
    """RFC 9162 inclusion proof, base64 hashes

    Attributes:
        leaf_idx (int):
        tree_size (int):
        root (str):
        leaf_hash (str):
        proof (list[str]):
    """

    leaf_idx: int
    tree_size: int
    root: str
    leaf_hash: str
    proof: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        leaf_idx = self.leaf_idx

        tree_size = self.tree_size

        root = self.root

        leaf_hash = self.leaf_hash

        proof = self.proof

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "leafIdx": leaf_idx,
                "treeSize": tree_size,
                "root": root,
                "leafHash": leaf_hash,
                "proof": proof,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        leaf_idx = d.pop("leafIdx")

        tree_size = d.pop("treeSize")

        root = d.pop("root")

        leaf_hash = d.pop("leafHash")

        proof = cast(list[str], d.pop("proof"))

        inclusion_proof = cls(
            leaf_idx=leaf_idx,
            tree_size=tree_size,
            root=root,
            leaf_hash=leaf_hash,
            proof=proof,
        )

        inclusion_proof.additional_properties = d
        return inclusion_proof

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
