from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.budget import Budget
    from ..models.capability_cav_apv import CapabilityCavApv
    from ..models.capability_cav_att import CapabilityCavAtt
    from ..models.capability_cav_eq import CapabilityCavEq
    from ..models.capability_cav_max import CapabilityCavMax
    from ..models.capability_cav_pfx import CapabilityCavPfx


T = TypeVar("T", bound="CapabilityCav")


@_attrs_define
class CapabilityCav:
    """
    Attributes:
        max_ (CapabilityCavMax | Unset):
        eq (CapabilityCavEq | Unset):
        pfx (CapabilityCavPfx | Unset): path arguments confined under a prefix
        att (CapabilityCavAtt | Unset): the caller must present an attestation credential by one of `iss` (FORMAT.md
            §3.5)
        bud (Budget | Unset): a spending budget the callee's node counts (FORMAT.md §3.5)
        rep (int | Unset): the lowest reputation score the caller may have, as the callee's node computes it (FORMAT.md
            §3.5)
        apv (CapabilityCavApv | Unset): each call is held until `k` of the approvers `by` approve it (FORMAT.md
            §3.5-§3.6)
    """

    max_: CapabilityCavMax | Unset = UNSET
    eq: CapabilityCavEq | Unset = UNSET
    pfx: CapabilityCavPfx | Unset = UNSET
    att: CapabilityCavAtt | Unset = UNSET
    bud: Budget | Unset = UNSET
    rep: int | Unset = UNSET
    apv: CapabilityCavApv | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        max_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.max_, Unset):
            max_ = self.max_.to_dict()

        eq: dict[str, Any] | Unset = UNSET
        if not isinstance(self.eq, Unset):
            eq = self.eq.to_dict()

        pfx: dict[str, Any] | Unset = UNSET
        if not isinstance(self.pfx, Unset):
            pfx = self.pfx.to_dict()

        att: dict[str, Any] | Unset = UNSET
        if not isinstance(self.att, Unset):
            att = self.att.to_dict()

        bud: dict[str, Any] | Unset = UNSET
        if not isinstance(self.bud, Unset):
            bud = self.bud.to_dict()

        rep = self.rep

        apv: dict[str, Any] | Unset = UNSET
        if not isinstance(self.apv, Unset):
            apv = self.apv.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if max_ is not UNSET:
            field_dict["max"] = max_
        if eq is not UNSET:
            field_dict["eq"] = eq
        if pfx is not UNSET:
            field_dict["pfx"] = pfx
        if att is not UNSET:
            field_dict["att"] = att
        if bud is not UNSET:
            field_dict["bud"] = bud
        if rep is not UNSET:
            field_dict["rep"] = rep
        if apv is not UNSET:
            field_dict["apv"] = apv

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.budget import Budget
        from ..models.capability_cav_apv import CapabilityCavApv
        from ..models.capability_cav_att import CapabilityCavAtt
        from ..models.capability_cav_eq import CapabilityCavEq
        from ..models.capability_cav_max import CapabilityCavMax
        from ..models.capability_cav_pfx import CapabilityCavPfx

        d = dict(src_dict)
        _max_ = d.pop("max", UNSET)
        max_: CapabilityCavMax | Unset
        if isinstance(_max_, Unset):
            max_ = UNSET
        else:
            max_ = CapabilityCavMax.from_dict(_max_)

        _eq = d.pop("eq", UNSET)
        eq: CapabilityCavEq | Unset
        if isinstance(_eq, Unset):
            eq = UNSET
        else:
            eq = CapabilityCavEq.from_dict(_eq)

        _pfx = d.pop("pfx", UNSET)
        pfx: CapabilityCavPfx | Unset
        if isinstance(_pfx, Unset):
            pfx = UNSET
        else:
            pfx = CapabilityCavPfx.from_dict(_pfx)

        _att = d.pop("att", UNSET)
        att: CapabilityCavAtt | Unset
        if isinstance(_att, Unset):
            att = UNSET
        else:
            att = CapabilityCavAtt.from_dict(_att)

        _bud = d.pop("bud", UNSET)
        bud: Budget | Unset
        if isinstance(_bud, Unset):
            bud = UNSET
        else:
            bud = Budget.from_dict(_bud)

        rep = d.pop("rep", UNSET)

        _apv = d.pop("apv", UNSET)
        apv: CapabilityCavApv | Unset
        if isinstance(_apv, Unset):
            apv = UNSET
        else:
            apv = CapabilityCavApv.from_dict(_apv)

        capability_cav = cls(
            max_=max_,
            eq=eq,
            pfx=pfx,
            att=att,
            bud=bud,
            rep=rep,
            apv=apv,
        )

        capability_cav.additional_properties = d
        return capability_cav

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
