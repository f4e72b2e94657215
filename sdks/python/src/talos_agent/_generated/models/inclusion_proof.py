from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="InclusionProof")


@_attrs_define
class InclusionProof:
    """RFC 9162 inclusion proof, base64 hashes

    Attributes:
        leaf_idx (int | Unset):
        tree_size (int | Unset):
        root (str | Unset):
        leaf_hash (str | Unset):
        proof (list[str] | Unset):
    """

    leaf_idx: int | Unset = UNSET
    tree_size: int | Unset = UNSET
    root: str | Unset = UNSET
    leaf_hash: str | Unset = UNSET
    proof: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        leaf_idx = self.leaf_idx

        tree_size = self.tree_size

        root = self.root

        leaf_hash = self.leaf_hash

        proof: list[str] | Unset = UNSET
        if not isinstance(self.proof, Unset):
            proof = self.proof

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if leaf_idx is not UNSET:
            field_dict["leafIdx"] = leaf_idx
        if tree_size is not UNSET:
            field_dict["treeSize"] = tree_size
        if root is not UNSET:
            field_dict["root"] = root
        if leaf_hash is not UNSET:
            field_dict["leafHash"] = leaf_hash
        if proof is not UNSET:
            field_dict["proof"] = proof

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        leaf_idx = d.pop("leafIdx", UNSET)

        tree_size = d.pop("treeSize", UNSET)

        root = d.pop("root", UNSET)

        leaf_hash = d.pop("leafHash", UNSET)

        proof = cast(list[str], d.pop("proof", UNSET))

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
