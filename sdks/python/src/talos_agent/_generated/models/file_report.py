from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.file_report_kind import FileReportKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="FileReport")


@_attrs_define
class FileReport:
    """a misbehaviour report to sign (crates/reputation/FORMAT.md §1)

    Attributes:
        subject (str): did:key:z6Mk...
        kind (FileReportKind):
        evidence (list[str] | Unset): leaf hashes of audit events in this agent's log that show it
    """

    subject: str
    kind: FileReportKind
    evidence: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        subject = self.subject

        kind = self.kind.value

        evidence: list[str] | Unset = UNSET
        if not isinstance(self.evidence, Unset):
            evidence = self.evidence

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "subject": subject,
                "kind": kind,
            }
        )
        if evidence is not UNSET:
            field_dict["evidence"] = evidence

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        subject = d.pop("subject")

        kind = FileReportKind(d.pop("kind"))

        evidence = cast(list[str], d.pop("evidence", UNSET))

        file_report = cls(
            subject=subject,
            kind=kind,
            evidence=evidence,
        )

        return file_report
