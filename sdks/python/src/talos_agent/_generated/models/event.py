from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_event import EventEvent


T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """
    Attributes:
        index (int):
        event (EventEvent):
        leaf_hash (str | Unset):
        leaf (str | Unset):
    """

    index: int
    event: EventEvent
    leaf_hash: str | Unset = UNSET
    leaf: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        event = self.event.to_dict()

        leaf_hash = self.leaf_hash

        leaf = self.leaf

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "event": event,
            }
        )
        if leaf_hash is not UNSET:
            field_dict["leafHash"] = leaf_hash
        if leaf is not UNSET:
            field_dict["leaf"] = leaf

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.event_event import EventEvent

        d = dict(src_dict)
        index = d.pop("index")

        event = EventEvent.from_dict(d.pop("event"))

        leaf_hash = d.pop("leafHash", UNSET)

        leaf = d.pop("leaf", UNSET)

        event = cls(
            index=index,
            event=event,
            leaf_hash=leaf_hash,
            leaf=leaf,
        )

        event.additional_properties = d
        return event

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
