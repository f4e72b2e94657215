//! W3C Trace Context `traceparent` (version `00`): carried with a call so the audit
//! event of the call can be joined with the caller's distributed trace. It holds ids
//! only (a trace id, a parent span id and flags), never content.
//!
//! Written by hand: the parse is a fixed 55-character layout, and the tracing crates that
//! parse it (opentelemetry's propagators) would bring a whole SDK into a `no_std` crate.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a `traceparent` did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    /// Not `00-` + 32 + `-` + 16 + `-` + 2 lowercase hex digits.
    #[error("traceparent is `00-<32 hex>-<16 hex>-<2 hex>`, lowercase")]
    Malformed,
    /// An all-zero trace id or parent id (invalid by the W3C rules).
    #[error("traceparent has an all-zero trace id or parent id")]
    Zero,
}

/// A version-`00` `traceparent`: `00-<trace-id>-<parent-id>-<flags>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

fn lower_hex<const N: usize>(s: &str) -> Result<[u8; N], TraceParentError> {
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(TraceParentError::Malformed);
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| TraceParentError::Malformed)?;
    Ok(out)
}

impl TraceParent {
    /// Parses the header value (exactly 55 characters).
    pub fn parse(s: &str) -> Result<Self, TraceParentError> {
        let mut parts = s.split('-');
        let (Some(v), Some(t), Some(p), Some(f), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TraceParentError::Malformed);
        };
        if v != "00" {
            return Err(TraceParentError::Malformed);
        }
        let trace_id = lower_hex::<16>(t)?;
        let parent_id = lower_hex::<8>(p)?;
        let [flags] = lower_hex::<1>(f)?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return Err(TraceParentError::Zero);
        }
        Ok(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("00-")?;
        for b in self.trace_id {
            write!(f, "{b:02x}")?;
        }
        f.write_str("-")?;
        for b in self.parent_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-{:02x}", self.flags)
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

impl FromStr for TraceParent {
    type Err = TraceParentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TraceParent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TraceParent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = alloc::string::String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn w3c_examples() {
        // From the W3C Trace Context recommendation, §3.2.
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(s).unwrap();
        assert_eq!(t.to_string(), s);
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                TraceParent::parse(bad),
                Err(TraceParentError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            Err(TraceParentError::Zero)
        );
        assert_eq!(
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            Err(TraceParentError::Zero)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "\\PC{0,70}", t in any::<[u8; 16]>(), p in any::<[u8; 8]>(), f in any::<u8>()) {
            if let Ok(tp) = TraceParent::parse(&s) {
                prop_assert_eq!(tp.to_string(), s);
            }
            let text = format!("00-{}-{}-{:02x}", hex::encode(t), hex::encode(p), f);
            match TraceParent::parse(&text) {
                Ok(tp) => prop_assert_eq!(tp.to_string(), text),
                Err(e) => prop_assert_eq!(e, TraceParentError::Zero),
            }
        }
    }
}
