//! Caveats: conditions on a request's arguments (`max`, `eq`, `pfx`; FORMAT.md §3.3),
//! the caveats the callee's node decides with state (`att`, `bud`, `rep`, `apv`; §3.5), and their
//! containment (a delegation may only add or tighten them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PathPrefix;
use super::stateful::{ApvCaveat, AttCaveat, BudgetCaveat, RepCaveat, opt_contains};

/// Conditions on a request's arguments. Each caveat can only narrow what is allowed.
///
/// - `max`: the named numeric argument must be present and ≤ the bound;
/// - `eq`: the named argument must be present and equal the value;
/// - `pfx`: the named argument must be a clean absolute path at or under the prefix
///   (see [`PathPrefix`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caveats {
    /// Upper bounds on numeric arguments.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max: BTreeMap<String, u64>,
    /// Required exact values (strings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub eq: BTreeMap<String, String>,
    /// Path arguments confined to a directory.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pfx: BTreeMap<String, PathPrefix>,
    /// The caller must be attested (§3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub att: Option<AttCaveat>,
    /// Calls spend from a budget (§3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bud: Option<BudgetCaveat>,
    /// The caller's reputation score must be at least this (§3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep: Option<RepCaveat>,
    /// Calls wait for approvals (§3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apv: Option<ApvCaveat>,
}

impl Caveats {
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.max.is_empty()
            && self.eq.is_empty()
            && self.pfx.is_empty()
            && self.att.is_none()
            && self.bud.is_none()
            && self.rep.is_none()
            && self.apv.is_none()
    }

    /// True when the callee's node must decide with state of its own (§3.5).
    pub const fn is_stateful(&self) -> bool {
        self.att.is_some() || self.bud.is_some() || self.rep.is_some() || self.apv.is_some()
    }

    /// True when `other` is at least as strict: every bound of ours is present in
    /// `other` with an equal or lower value, every required value is required too, and
    /// every path prefix of ours is in `other` at or under ours.
    pub fn contains(&self, other: &Caveats) -> bool {
        self.max
            .iter()
            .all(|(k, v)| other.max.get(k).is_some_and(|o| o <= v))
            && self.eq.iter().all(|(k, v)| other.eq.get(k) == Some(v))
            && self
                .pfx
                .iter()
                .all(|(k, v)| other.pfx.get(k).is_some_and(|o| v.covers(o.as_str())))
            && opt_contains(&self.att, &other.att, AttCaveat::contains)
            && opt_contains(&self.bud, &other.bud, BudgetCaveat::contains)
            && opt_contains(&self.rep, &other.rep, RepCaveat::contains)
            && opt_contains(&self.apv, &other.apv, ApvCaveat::contains)
    }

    /// True when the arguments satisfy every caveat.
    pub fn satisfied_by(&self, args: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.max.iter().all(|(k, v)| {
            args.get(k)
                .and_then(serde_json::Value::as_u64)
                .is_some_and(|a| a <= *v)
        }) && self
            .eq
            .iter()
            .all(|(k, v)| args.get(k).and_then(serde_json::Value::as_str) == Some(v.as_str()))
            && self.pfx.iter().all(|(k, v)| {
                args.get(k)
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|a| v.covers(a))
            })
            && self.bud.as_ref().is_none_or(|b| b.amount(args).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caveats_only_narrow() {
        let parent = Caveats {
            max: [("amount".into(), 500)].into(),
            eq: [("cur".into(), "EUR".into())].into(),
            ..Caveats::default()
        };
        let narrower = Caveats {
            max: [("amount".into(), 100)].into(),
            eq: [("cur".into(), "EUR".into())].into(),
            ..Caveats::default()
        };
        let wider = Caveats {
            max: [("amount".into(), 900)].into(),
            eq: [("cur".into(), "EUR".into())].into(),
            ..Caveats::default()
        };
        let dropped = Caveats {
            max: BTreeMap::new(),
            eq: [("cur".into(), "EUR".into())].into(),
            ..Caveats::default()
        };
        assert!(parent.contains(&narrower));
        assert!(!parent.contains(&wider));
        assert!(!parent.contains(&dropped));
        let args = serde_json::json!({"amount": 450, "cur": "EUR"});
        assert!(parent.satisfied_by(args.as_object().unwrap()));
        assert!(!narrower.satisfied_by(args.as_object().unwrap()));
    }

    #[test]
    fn path_prefixes_only_narrow_and_confine() {
        let cav = |p: &str| Caveats {
            pfx: [("path".into(), PathPrefix::parse(p).unwrap())].into(),
            ..Caveats::default()
        };
        assert!(cav("/srv").contains(&cav("/srv")));
        assert!(cav("/srv").contains(&cav("/srv/data")));
        assert!(!cav("/srv/data").contains(&cav("/srv")));
        assert!(!cav("/srv").contains(&cav("/srvx")));
        assert!(!cav("/srv").contains(&Caveats::default()));
        let ok = serde_json::json!({"path": "/srv/data/a.txt"});
        let out = serde_json::json!({"path": "/srv/data/../../etc/passwd"});
        let num = serde_json::json!({"path": 7});
        assert!(cav("/srv/data").satisfied_by(ok.as_object().unwrap()));
        assert!(!cav("/srv/data").satisfied_by(out.as_object().unwrap()));
        assert!(!cav("/srv/data").satisfied_by(num.as_object().unwrap()));
        assert!(!cav("/srv/data").satisfied_by(&serde_json::Map::new()));
        let parsed: Result<Caveats, _> = serde_json::from_str(r#"{"pfx":{"path":"/srv/../etc"}}"#);
        assert!(parsed.is_err());
    }
}
