//! The caveats the callee's node decides with state of its own (FORMAT.md §3.5): `att`
//! (the caller holds an attestation credential) and `bud` (a spending budget, counted in
//! durable counters). Their containment rules match the stateless caveats': a delegation
//! may only add or tighten them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use talos_primitives::Did;

/// Most attesters one `att` caveat may list.
pub const MAX_ATTESTERS: usize = 8;
/// Longest `model` constraint, and longest `bud.arg`, in bytes.
pub const MAX_NAME: usize = 128;
/// Longest budget window in hours (a leap year).
pub const MAX_WINDOW_HOURS: u32 = 8784;

/// The claims an `att` caveat may constrain, as the credential names them.
pub const ATT_CLAIMS: [&str; 5] = [
    "binarySha256",
    "configSha256",
    "intotoSha256",
    "model",
    "policySha256",
];

/// `att`: the caller must present an attestation credential (docs/attestation.md) about
/// itself, issued by one of `iss`, valid now and not revoked, whose claims equal `clm`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttCaveat {
    /// The attesters accepted: 1 to 8 did:keys, ascending, each once.
    pub iss: Vec<Did>,
    /// Claims the credential must state exactly (names from [`ATT_CLAIMS`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clm: BTreeMap<String, String>,
}

impl AttCaveat {
    /// The rules of FORMAT.md §3.5 the types do not enforce.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.iss.is_empty() || self.iss.len() > MAX_ATTESTERS {
            return Err("att.iss must list 1..=8 attesters");
        }
        let strings: Vec<String> = self.iss.iter().map(Did::to_string).collect();
        if !strings.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
            return Err("att.iss must be ascending, each once");
        }
        if self.iss.iter().any(|d| d.as_key().is_none()) {
            return Err("att.iss must list did:keys");
        }
        for (k, v) in &self.clm {
            let ok = match k.as_str() {
                "model" => !v.is_empty() && v.len() <= MAX_NAME,
                name if ATT_CLAIMS.contains(&name) => is_hex64(v),
                _ => return Err("att.clm names an unknown claim"),
            };
            if !ok {
                return Err("att.clm value is malformed");
            }
        }
        Ok(())
    }

    /// True when `other` is at least as strict: its attesters are among ours and it
    /// requires every claim we require, with the same value.
    pub fn contains(&self, other: &AttCaveat) -> bool {
        other.iss.iter().all(|d| self.iss.contains(d))
            && self.clm.iter().all(|(k, v)| other.clm.get(k) == Some(v))
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A budget's window: one total for the capability's life, or fixed windows of whole
/// hours aligned to the Unix epoch (a `24h` window resets at 00:00 UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// One total, never reset.
    Total,
    /// Windows of this many hours (1..=8784).
    Hours(u32),
}

impl Window {
    /// The start (Unix seconds) of the window holding `now`; 0 for [`Window::Total`].
    pub fn start(self, now: u64) -> u64 {
        match self {
            Window::Total => 0,
            Window::Hours(h) => {
                let len = u64::from(h).saturating_mul(3600).max(1);
                now - now % len
            }
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Total => f.write_str("total"),
            Window::Hours(h) => write!(f, "{h}h"),
        }
    }
}

impl std::str::FromStr for Window {
    type Err = &'static str;

    /// `total`, or 1 to 8784 then `h`, in canonical decimal (no sign, no leading zero).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "total" {
            return Ok(Window::Total);
        }
        let digits = s
            .strip_suffix('h')
            .ok_or("window must be `total` or `<hours>h`")?;
        let canonical = !digits.is_empty()
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        match digits.parse::<u32>() {
            Ok(h) if canonical && (1..=MAX_WINDOW_HOURS).contains(&h) => Ok(Window::Hours(h)),
            _ => Err("window hours must be 1..=8784 in canonical decimal"),
        }
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What happens to a call that would go over a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Refused (`over_budget`).
    Hard,
    /// Admitted, with a warning in the audit log.
    Warn,
}

/// `bud`: calls under this capability spend from a budget the callee's node counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetCaveat {
    /// The numeric argument each call spends (a non-negative integer the request must
    /// carry); absent, each call spends 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
    /// The most the window may spend (1 ≤ limit ≤ 2^53 − 1).
    pub limit: u64,
    /// The window.
    pub window: Window,
    /// Hard (refuse) or warn (admit and audit).
    pub mode: Mode,
}

impl BudgetCaveat {
    /// The rules of FORMAT.md §3.5 the types do not enforce.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.limit == 0 || self.limit > crate::jws::MAX_INTEGER {
            return Err("bud.limit must be 1..=2^53-1");
        }
        if self
            .arg
            .as_ref()
            .is_some_and(|a| a.is_empty() || a.len() > MAX_NAME)
        {
            return Err("bud.arg must be 1..=128 bytes");
        }
        Ok(())
    }

    /// True when `other` is at least as strict: the same argument and window, a limit no
    /// higher, and hard whenever we are hard.
    pub fn contains(&self, other: &BudgetCaveat) -> bool {
        self.arg == other.arg
            && self.window == other.window
            && other.limit <= self.limit
            && (self.mode == Mode::Warn || other.mode == Mode::Hard)
    }

    /// What a request with these arguments spends: its `arg` (a non-negative integer),
    /// or 1 without one; `None` when the argument is missing or not such an integer.
    pub fn amount(&self, args: &serde_json::Map<String, serde_json::Value>) -> Option<u64> {
        match &self.arg {
            None => Some(1),
            Some(a) => args.get(a).and_then(serde_json::Value::as_u64),
        }
    }
}

/// Most approvers one `apv` caveat may list.
pub const MAX_APPROVERS: usize = 8;

/// `apv` (§3.5): a call is held until `k` of the approvers `by` sign an approval of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApvCaveat {
    /// The approvers: 1 to 8 did:keys, ascending, each once.
    pub by: Vec<Did>,
    /// How many of them must approve: 1..=`by.len()`.
    pub k: u8,
}

impl ApvCaveat {
    /// The rules of FORMAT.md §3.5 the types do not enforce.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.by.is_empty() || self.by.len() > MAX_APPROVERS {
            return Err("apv.by must list 1..=8 approvers");
        }
        let strings: Vec<String> = self.by.iter().map(Did::to_string).collect();
        if !strings.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
            return Err("apv.by must be ascending, each once");
        }
        if self.by.iter().any(|d| d.as_key().is_none()) {
            return Err("apv.by must list did:keys");
        }
        if self.k == 0 || usize::from(self.k) > self.by.len() {
            return Err("apv.k must be 1..=the number of approvers");
        }
        Ok(())
    }

    /// True when `child` is at least as strict: its approvers are among ours and it asks
    /// for at least as many (any `k'` of a subset are `k` of ours when `k'` ≥ `k`).
    pub fn contains(&self, child: &ApvCaveat) -> bool {
        child.by.iter().all(|d| self.by.contains(d)) && child.k >= self.k
    }
}

/// `rep` (§3.5): the caller's reputation score, as the callee's node computes it from the
/// misbehaviour reports it holds (`talos-reputation`), must be at least this, 1..=1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RepCaveat(u16);

impl RepCaveat {
    /// The highest score, and so the highest minimum.
    pub const MAX: u16 = 1000;

    /// A minimum score of `min` (1..=1000).
    pub const fn new(min: u16) -> Option<RepCaveat> {
        if min >= 1 && min <= Self::MAX {
            Some(RepCaveat(min))
        } else {
            None
        }
    }

    /// The minimum score.
    pub const fn min(self) -> u16 {
        self.0
    }

    /// True when `child` asks at least as much.
    pub fn contains(&self, child: &RepCaveat) -> bool {
        child.0 >= self.0
    }
}

impl<'de> Deserialize<'de> for RepCaveat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        u16::try_from(n)
            .ok()
            .and_then(RepCaveat::new)
            .ok_or_else(|| serde::de::Error::custom("rep must be an integer 1..=1000"))
    }
}

/// `parent` ⊇ `child` for an optional caveat: nothing required, or required and tightened.
pub(crate) fn opt_contains<T>(
    parent: &Option<T>,
    child: &Option<T>,
    f: fn(&T, &T) -> bool,
) -> bool {
    match (parent, child) {
        (None, _) => true,
        (Some(p), Some(c)) => f(p, c),
        (Some(_), None) => false,
    }
}
