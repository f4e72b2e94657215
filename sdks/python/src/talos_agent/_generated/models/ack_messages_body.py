from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AckMessagesBody")


@_attrs_define
class AckMessagesBody:
    """
    Attributes:
        through (int): The last inbox index the agent is done with: every entry up to it is deleted
    """

    through: int

    def to_dict(self) -> dict[str, Any]:
        through = self.through

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "through": through,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        through = d.pop("through")

        ack_messages_body = cls(
            through=through,
        )

        return ack_messages_body
