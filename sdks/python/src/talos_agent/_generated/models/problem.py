from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """RFC 9457 problem details

    Attributes:
        type_ (str): urn:talos:problem:<kind>
        title (str):
        status (int):
        detail (str):
        kind (str): stable: what a client branches on (docs/api.md lists every kind)
        nonce (str | Unset): a refused or failed call: its nonce, to retry it as the same call
        at_ms (int | Unset): a refused or failed call: its time
        txn (Any | Unset): a refused or failed call: its transaction id, if any
        approval (str | Unset): a call held for approval (`pending`) or refused `not_approved`: the approval request's
            id, 32 hex
    """

    type_: str
    title: str
    status: int
    detail: str
    kind: str
    nonce: str | Unset = UNSET
    at_ms: int | Unset = UNSET
    txn: Any | Unset = UNSET
    approval: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        kind = self.kind

        nonce = self.nonce

        at_ms = self.at_ms

        txn = self.txn

        approval = self.approval

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
                "kind": kind,
            }
        )
        if nonce is not UNSET:
            field_dict["nonce"] = nonce
        if at_ms is not UNSET:
            field_dict["atMs"] = at_ms
        if txn is not UNSET:
            field_dict["txn"] = txn
        if approval is not UNSET:
            field_dict["approval"] = approval

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        kind = d.pop("kind")

        nonce = d.pop("nonce", UNSET)

        at_ms = d.pop("atMs", UNSET)

        txn = d.pop("txn", UNSET)

        approval = d.pop("approval", UNSET)

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            kind=kind,
            nonce=nonce,
            at_ms=at_ms,
            txn=txn,
            approval=approval,
        )

        problem.additional_properties = d
        return problem

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
