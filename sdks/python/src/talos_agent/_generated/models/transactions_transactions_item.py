from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.transactions_transactions_item_txn import (
        TransactionsTransactionsItemTxn,
    )


T = TypeVar("T", bound="TransactionsTransactionsItem")


@_attrs_define
class TransactionsTransactionsItem:
    """
    Attributes:
        at_ms (int | Unset):
        from_ (str | Unset): did:key:z6Mk...
        resource (str | Unset):
        action (str | Unset):
        txn (TransactionsTransactionsItemTxn | Unset):
    """

    at_ms: int | Unset = UNSET
    from_: str | Unset = UNSET
    resource: str | Unset = UNSET
    action: str | Unset = UNSET
    txn: TransactionsTransactionsItemTxn | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at_ms = self.at_ms

        from_ = self.from_

        resource = self.resource

        action = self.action

        txn: dict[str, Any] | Unset = UNSET
        if not isinstance(self.txn, Unset):
            txn = self.txn.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if at_ms is not UNSET:
            field_dict["atMs"] = at_ms
        if from_ is not UNSET:
            field_dict["from"] = from_
        if resource is not UNSET:
            field_dict["resource"] = resource
        if action is not UNSET:
            field_dict["action"] = action
        if txn is not UNSET:
            field_dict["txn"] = txn

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.transactions_transactions_item_txn import (
            TransactionsTransactionsItemTxn,
        )

        d = dict(src_dict)
        at_ms = d.pop("atMs", UNSET)

        from_ = d.pop("from", UNSET)

        resource = d.pop("resource", UNSET)

        action = d.pop("action", UNSET)

        _txn = d.pop("txn", UNSET)
        txn: TransactionsTransactionsItemTxn | Unset
        if isinstance(_txn, Unset):
            txn = UNSET
        else:
            txn = TransactionsTransactionsItemTxn.from_dict(_txn)

        transactions_transactions_item = cls(
            at_ms=at_ms,
            from_=from_,
            resource=resource,
            action=action,
            txn=txn,
        )

        transactions_transactions_item.additional_properties = d
        return transactions_transactions_item

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
