from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="NodeInfo")


@_attrs_define
class NodeInfo:
    """
    Attributes:
        did (str): did:key:z6Mk...
        peer_id (str):
        listen (list[str]):
    """

    did: str
    peer_id: str
    listen: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        did = self.did

        peer_id = self.peer_id

        listen = self.listen

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "did": did,
                "peerId": peer_id,
                "listen": listen,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        did = d.pop("did")

        peer_id = d.pop("peerId")

        listen = cast(list[str], d.pop("listen"))

        node_info = cls(
            did=did,
            peer_id=peer_id,
            listen=listen,
        )

        node_info.additional_properties = d
        return node_info

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
