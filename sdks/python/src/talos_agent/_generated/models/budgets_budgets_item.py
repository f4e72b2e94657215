from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.budget import Budget


T = TypeVar("T", bound="BudgetsBudgetsItem")


@_attrs_define
class BudgetsBudgetsItem:
    """
    Attributes:
        link (str): the commitment of the link whose capability carries the budget
        cap (int): the capability's index in the link
        root (str): the chain's root commitment
        budget (Budget): a spending budget the callee's node counts (FORMAT.md §3.5)
        window (int): the current window's start, Unix seconds (0 for total)
        spent (int):
        left (int):
    """

    link: str
    cap: int
    root: str
    budget: Budget
    window: int
    spent: int
    left: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        link = self.link

        cap = self.cap

        root = self.root

        budget = self.budget.to_dict()

        window = self.window

        spent = self.spent

        left = self.left

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "link": link,
                "cap": cap,
                "root": root,
                "budget": budget,
                "window": window,
                "spent": spent,
                "left": left,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.budget import Budget

        d = dict(src_dict)
        link = d.pop("link")

        cap = d.pop("cap")

        root = d.pop("root")

        budget = Budget.from_dict(d.pop("budget"))

        window = d.pop("window")

        spent = d.pop("spent")

        left = d.pop("left")

        budgets_budgets_item = cls(
            link=link,
            cap=cap,
            root=root,
            budget=budget,
            window=window,
            spent=spent,
            left=left,
        )

        budgets_budgets_item.additional_properties = d
        return budgets_budgets_item

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
