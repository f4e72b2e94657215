from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.report_filed_kind import ReportFiledKind

T = TypeVar("T", bound="ReportFiled")


@_attrs_define
class ReportFiled:
    """
    Attributes:
        report (str): the compact JWS (`typ: talos-report+jwt`)
        commitment (str): SHA-256 of the compact JWS, as the `report_filed` audit event records it
        subject (str): did:key:z6Mk...
        kind (ReportFiledKind):
        iat (int):
    """

    report: str
    commitment: str
    subject: str
    kind: ReportFiledKind
    iat: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        report = self.report

        commitment = self.commitment

        subject = self.subject

        kind = self.kind.value

        iat = self.iat

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "report": report,
                "commitment": commitment,
                "subject": subject,
                "kind": kind,
                "iat": iat,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        report = d.pop("report")

        commitment = d.pop("commitment")

        subject = d.pop("subject")

        kind = ReportFiledKind(d.pop("kind"))

        iat = d.pop("iat")

        report_filed = cls(
            report=report,
            commitment=commitment,
            subject=subject,
            kind=kind,
            iat=iat,
        )

        report_filed.additional_properties = d
        return report_filed

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
