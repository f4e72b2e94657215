from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_txn_chain_item import CallTxnChainItem


T = TypeVar("T", bound="CallTxn")


@_attrs_define
class CallTxn:
    """
    Attributes:
        id (str | Unset):
        sub (str | Unset):
        purp (str | Unset):
        hops (int | Unset):
        chain (list[CallTxnChainItem] | Unset): each hop's claims, first hop first
    """

    id: str | Unset = UNSET
    sub: str | Unset = UNSET
    purp: str | Unset = UNSET
    hops: int | Unset = UNSET
    chain: list[CallTxnChainItem] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sub = self.sub

        purp = self.purp

        hops = self.hops

        chain: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.chain, Unset):
            chain = []
            for chain_item_data in self.chain:
                chain_item = chain_item_data.to_dict()
                chain.append(chain_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if sub is not UNSET:
            field_dict["sub"] = sub
        if purp is not UNSET:
            field_dict["purp"] = purp
        if hops is not UNSET:
            field_dict["hops"] = hops
        if chain is not UNSET:
            field_dict["chain"] = chain

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.call_txn_chain_item import CallTxnChainItem

        d = dict(src_dict)
        id = d.pop("id", UNSET)

        sub = d.pop("sub", UNSET)

        purp = d.pop("purp", UNSET)

        hops = d.pop("hops", UNSET)

        _chain = d.pop("chain", UNSET)
        chain: list[CallTxnChainItem] | Unset = UNSET
        if _chain is not UNSET:
            chain = []
            for chain_item_data in _chain:
                chain_item = CallTxnChainItem.from_dict(chain_item_data)

                chain.append(chain_item)

        call_txn = cls(
            id=id,
            sub=sub,
            purp=purp,
            hops=hops,
            chain=chain,
        )

        call_txn.additional_properties = d
        return call_txn

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
