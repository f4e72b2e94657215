from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="InvokeResult")


@_attrs_define
class InvokeResult:
    """
    Attributes:
        result (Any): the peer agent's answer (any JSON)
        nonce (str):
        at_ms (int):
        txn (Any | Unset): the transaction id, for a call under a transaction token
    """

    result: Any
    nonce: str
    at_ms: int
    txn: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        result = self.result

        nonce = self.nonce

        at_ms = self.at_ms

        txn = self.txn

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "result": result,
                "nonce": nonce,
                "atMs": at_ms,
            }
        )
        if txn is not UNSET:
            field_dict["txn"] = txn

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        result = d.pop("result")

        nonce = d.pop("nonce")

        at_ms = d.pop("atMs")

        txn = d.pop("txn", UNSET)

        invoke_result = cls(
            result=result,
            nonce=nonce,
            at_ms=at_ms,
            txn=txn,
        )

        invoke_result.additional_properties = d
        return invoke_result

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
