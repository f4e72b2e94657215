//! Fixed-size digests and identifiers.

use core::fmt;
use core::str::FromStr;

use parity_scale_codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a hex string did not parse into a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The string had the wrong number of hex digits.
    #[error("expected {expected} hex digits, got {got}")]
    WrongLength {
        /// Digits expected.
        expected: usize,
        /// Digits found.
        got: usize,
    },
    /// The string contained a character that is not a hex digit.
    #[error("invalid hex digit")]
    InvalidDigit,
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    if s.len() != N * 2 {
        return Err(HexError::WrongLength {
            expected: N * 2,
            got: s.len(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| HexError::InvalidDigit)?;
    Ok(out)
}

/// Declares a fixed-size byte newtype that prints and parses as lowercase hex and
/// serializes as a hex string in human-readable formats (JSON) and raw bytes otherwise.
macro_rules! hex_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
            Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
        )]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Parses a byte slice of exactly the right length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, HexError> {
                <[u8; $len]>::try_from(bytes)
                    .map(Self)
                    .map_err(|_| HexError::WrongLength { expected: $len * 2, got: bytes.len() * 2 })
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = HexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$len>(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.collect_str(self)
                } else {
                    serializer.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    let s = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    let b = <alloc::borrow::Cow<'de, [u8]>>::deserialize(deserializer)?;
                    Self::from_slice(&b).map_err(serde::de::Error::custom)
                }
            }
        }
    };
}

hex_bytes!(
    /// A SHA-256 digest (or any other 32-byte hash).
    Hash32, 32
);

hex_bytes!(
    /// The unique id of a capability or transaction token (its `jti`); revocation is by id.
    CapabilityId, 16
);

/// The commitment to a capability token: SHA-256 of its canonical bytes. On-chain
/// registries store this, never the token itself.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Commitment(pub Hash32);

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hash32_hex_round_trip(bytes in any::<[u8; 32]>()) {
            let h = Hash32(bytes);
            let s = alloc::string::ToString::to_string(&h);
            prop_assert_eq!(s.parse::<Hash32>(), Ok(h));
            let json = serde_json::to_string(&h).unwrap();
            prop_assert_eq!(serde_json::from_str::<Hash32>(&json).unwrap(), h);
            prop_assert_eq!(Hash32::decode(&mut &h.encode()[..]).unwrap(), h);
        }

        #[test]
        fn hex_parse_never_panics(s in ".{0,80}") {
            let _ = s.parse::<Hash32>();
            let _ = s.parse::<CapabilityId>();
        }
    }

    #[test]
    fn hex_errors_are_typed() {
        assert_eq!(
            "abc".parse::<Hash32>(),
            Err(HexError::WrongLength {
                expected: 64,
                got: 3
            })
        );
        let bad = "g".repeat(64);
        assert_eq!(bad.parse::<Hash32>(), Err(HexError::InvalidDigit));
    }
}
