from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.budget_mode import BudgetMode
from ..types import UNSET, Unset

T = TypeVar("T", bound="Budget")


@_attrs_define
class Budget:
    """a spending budget the callee's node counts (FORMAT.md §3.5)

    Attributes:
        limit (int):
        window (str): `total` or `<hours>h`, windows aligned to the Unix epoch
        mode (BudgetMode):
        arg (str | Unset): the numeric argument each call spends; absent: 1 per call
    """

    limit: int
    window: str
    mode: BudgetMode
    arg: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        limit = self.limit

        window = self.window

        mode = self.mode.value

        arg = self.arg

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "limit": limit,
                "window": window,
                "mode": mode,
            }
        )
        if arg is not UNSET:
            field_dict["arg"] = arg

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        limit = d.pop("limit")

        window = d.pop("window")

        mode = BudgetMode(d.pop("mode"))

        arg = d.pop("arg", UNSET)

        budget = cls(
            limit=limit,
            window=window,
            mode=mode,
            arg=arg,
        )

        budget.additional_properties = d
        return budget

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
