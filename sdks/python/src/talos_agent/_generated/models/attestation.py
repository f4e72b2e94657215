from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.attestation_claims import AttestationClaims


T = TypeVar("T", bound="Attestation")


@_attrs_define
class Attestation:
    """
    Attributes:
        id (str):
        issuer (str): did:key:z6Mk...
        subject (str): did:key:z6Mk...
        valid_from (int):
        valid_until (int):
        claims (AttestationClaims):
        commitment (str):
        revocation_id (str): what the issuer (or a callee) revokes, 32 hex
    """

    id: str
    issuer: str
    subject: str
    valid_from: int
    valid_until: int
    claims: AttestationClaims
    commitment: str
    revocation_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        issuer = self.issuer

        subject = self.subject

        valid_from = self.valid_from

        valid_until = self.valid_until

        claims = self.claims.to_dict()

        commitment = self.commitment

        revocation_id = self.revocation_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "issuer": issuer,
                "subject": subject,
                "validFrom": valid_from,
                "validUntil": valid_until,
                "claims": claims,
                "commitment": commitment,
                "revocationId": revocation_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attestation_claims import AttestationClaims

        d = dict(src_dict)
        id = d.pop("id")

        issuer = d.pop("issuer")

        subject = d.pop("subject")

        valid_from = d.pop("validFrom")

        valid_until = d.pop("validUntil")

        claims = AttestationClaims.from_dict(d.pop("claims"))

        commitment = d.pop("commitment")

        revocation_id = d.pop("revocationId")

        attestation = cls(
            id=id,
            issuer=issuer,
            subject=subject,
            valid_from=valid_from,
            valid_until=valid_until,
            claims=claims,
            commitment=commitment,
            revocation_id=revocation_id,
        )

        attestation.additional_properties = d
        return attestation

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
