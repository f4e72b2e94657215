from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SessionsSessionsItem")


@_attrs_define
class SessionsSessionsItem:
    """
    Attributes:
        peer (str): did:key:z6Mk...
        sent (int):
        received (int):
    """

    peer: str
    sent: int
    received: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        peer = self.peer

        sent = self.sent

        received = self.received

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "peer": peer,
                "sent": sent,
                "received": received,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        peer = d.pop("peer")

        sent = d.pop("sent")

        received = d.pop("received")

        sessions_sessions_item = cls(
            peer=peer,
            sent=sent,
            received=received,
        )

        sessions_sessions_item.additional_properties = d
        return sessions_sessions_item

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
