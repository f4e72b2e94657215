from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Reputation")


@_attrs_define
class Reputation:
    """
    Attributes:
        did (str): did:key:z6Mk...
        score (int): 1000 is spotless
        reports (int): reports about the DID that count now
        from_seeds (int): of them, those by this node's reputation seeds
        held (int): reports this node holds in all
        min_ (int): this node's min_reputation (0: no check)
    """

    did: str
    score: int
    reports: int
    from_seeds: int
    held: int
    min_: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        did = self.did

        score = self.score

        reports = self.reports

        from_seeds = self.from_seeds

        held = self.held

        min_ = self.min_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "did": did,
                "score": score,
                "reports": reports,
                "from_seeds": from_seeds,
                "held": held,
                "min": min_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        did = d.pop("did")

        score = d.pop("score")

        reports = d.pop("reports")

        from_seeds = d.pop("from_seeds")

        held = d.pop("held")

        min_ = d.pop("min")

        reputation = cls(
            did=did,
            score=score,
            reports=reports,
            from_seeds=from_seeds,
            held=held,
            min_=min_,
        )

        reputation.additional_properties = d
        return reputation

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
