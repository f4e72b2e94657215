from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AnswerCallsBodyAnswersItem")


@_attrs_define
class AnswerCallsBodyAnswersItem:
    """
    Attributes:
        id (int):
        result (Any | Unset):
        error (str | Unset):
        kind (str | Unset): with error: the failure's kind (default agent_error; not one of the node's own kinds)
    """

    id: int
    result: Any | Unset = UNSET
    error: str | Unset = UNSET
    kind: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        result = self.result

        error = self.error

        kind = self.kind

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if result is not UNSET:
            field_dict["result"] = result
        if error is not UNSET:
            field_dict["error"] = error
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        result = d.pop("result", UNSET)

        error = d.pop("error", UNSET)

        kind = d.pop("kind", UNSET)

        answer_calls_body_answers_item = cls(
            id=id,
            result=result,
            error=error,
            kind=kind,
        )

        answer_calls_body_answers_item.additional_properties = d
        return answer_calls_body_answers_item

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
