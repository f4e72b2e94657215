//! Public keys, parsed so that an invalid one cannot exist.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;
use parity_scale_codec::{Decode, DecodeWithMemTracking, Encode, Input, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed), as an unsigned varint.
pub const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an X25519 public key (`x25519-pub`, 0xec), as an unsigned varint.
pub const X25519_PUB_MULTICODEC: [u8; 2] = [0xec, 0x01];

/// Why bytes or a string are not an acceptable public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key had the wrong number of bytes.
    #[error("expected a {expected}-byte key, got {got} bytes")]
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
    /// The bytes are not the encoding of a point on the Ed25519 curve.
    #[error("not a valid Ed25519 point encoding")]
    NotOnCurve,
    /// The point has small order: any signature could verify under it.
    #[error("weak (small-order) Ed25519 key")]
    WeakKey,
    /// The multibase string could not be decoded.
    #[error("invalid multibase encoding")]
    BadMultibase,
    /// The multibase prefix was not `z` (base58btc), which did:key and Multikey require.
    #[error("expected base58btc multibase ('z'), got '{0}'")]
    WrongMultibase(char),
    /// The multicodec varint was missing or malformed.
    #[error("invalid multicodec prefix")]
    BadMulticodec,
    /// The multicodec names a different key type.
    #[error("expected multicodec 0xed (ed25519-pub), got {0:#x}")]
    WrongMulticodec(u64),
}

/// Splits a multibase base58btc string into its multicodec code and the key bytes.
pub(crate) fn decode_multikey(s: &str) -> Result<(u64, Vec<u8>), KeyError> {
    let first = s.chars().next().ok_or(KeyError::BadMultibase)?;
    if first != 'z' {
        return Err(KeyError::WrongMultibase(first));
    }
    let (_, bytes) = multibase::decode(s).map_err(|_| KeyError::BadMultibase)?;
    let (code, rest) = unsigned_varint::decode::u64(&bytes).map_err(|_| KeyError::BadMulticodec)?;
    Ok((code, rest.to_vec()))
}

/// Encodes key bytes as a multibase base58btc string with a multicodec prefix.
pub(crate) fn encode_multikey(prefix: [u8; 2], key: &[u8; 32]) -> String {
    let mut buf = [0u8; 34];
    let (head, tail) = buf.split_at_mut(2);
    head.copy_from_slice(&prefix);
    tail.copy_from_slice(key);
    multibase::encode(multibase::Base::Base58Btc, buf)
}

/// An Ed25519 public key that decompresses to a curve point of large order.
///
/// It is the root of an agent's identity: its did:key, its libp2p PeerId and its chain
/// account are all this key. Signatures are checked elsewhere with `verify_strict`; this
/// type only guarantees the key itself is usable.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, MaxEncodedLen, TypeInfo)]
pub struct Ed25519Public([u8; 32]);

impl Ed25519Public {
    /// Parses 32 bytes, rejecting non-points and small-order points.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        let point = CompressedEdwardsY(bytes)
            .decompress()
            .ok_or(KeyError::NotOnCurve)?;
        if point.is_small_order() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(bytes))
    }

    /// Takes 32 bytes as a key without checking them. Only for bytes this program
    /// checked with [`Self::from_bytes`] before and kept where nobody else could change
    /// them (state sealed at rest with an AEAD): decompressing the point again costs a
    /// field exponentiation, which adds up on paths that read several keys per message.
    pub const fn dangerous_from_checked_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: 32,
            got: bytes.len(),
        })?;
        Self::from_bytes(arr)
    }

    /// The compressed point.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as a W3C Multikey string: `z` + base58btc(0xed 0x01 ‖ key).
    pub fn to_multikey(&self) -> String {
        encode_multikey(ED25519_PUB_MULTICODEC, &self.0)
    }

    /// Parses a W3C Multikey string (`z6Mk...`).
    pub fn from_multikey(s: &str) -> Result<Self, KeyError> {
        let (code, bytes) = decode_multikey(s)?;
        if code != 0xed {
            return Err(KeyError::WrongMulticodec(code));
        }
        Self::from_slice(&bytes)
    }
}

impl fmt::Debug for Ed25519Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Public({})", self.to_multikey())
    }
}

impl fmt::Display for Ed25519Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_multikey())
    }
}

impl FromStr for Ed25519Public {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_multikey(s)
    }
}

// SCALE decoding goes through the same parser, so an on-chain value is valid too.
impl Decode for Ed25519Public {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let bytes = <[u8; 32]>::decode(input)?;
        Self::from_bytes(bytes).map_err(|_| "invalid Ed25519 public key".into())
    }
}

impl DecodeWithMemTracking for Ed25519Public {}

impl Serialize for Ed25519Public {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_multikey())
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Ed25519Public {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let s = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            Self::from_multikey(&s).map_err(serde::de::Error::custom)
        } else {
            let b = <alloc::borrow::Cow<'de, [u8]>>::deserialize(deserializer)?;
            Self::from_slice(&b).map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Ed25519 base point: a valid large-order point.
    const BASEPOINT: [u8; 32] = [
        0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66,
    ];

    #[test]
    fn identity_point_is_weak() {
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(Ed25519Public::from_bytes(id), Err(KeyError::WeakKey));
    }

    #[test]
    fn wrong_length_is_typed() {
        assert_eq!(
            Ed25519Public::from_slice(&[0u8; 31]),
            Err(KeyError::WrongLength {
                expected: 32,
                got: 31
            })
        );
    }

    #[test]
    fn scale_decode_rejects_weak_key() {
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(Ed25519Public::decode(&mut &id[..]).is_err());
        let k = Ed25519Public::from_bytes(BASEPOINT).unwrap();
        assert_eq!(Ed25519Public::decode(&mut &k.encode()[..]).unwrap(), k);
    }

    #[test]
    fn multikey_round_trip_and_wrong_codec() {
        let k = Ed25519Public::from_bytes(BASEPOINT).unwrap();
        let s = k.to_multikey();
        assert!(s.starts_with("z6Mk"));
        assert_eq!(Ed25519Public::from_multikey(&s).unwrap(), k);
        let x = encode_multikey(X25519_PUB_MULTICODEC, &BASEPOINT);
        assert_eq!(
            Ed25519Public::from_multikey(&x),
            Err(KeyError::WrongMulticodec(0xec))
        );
        assert_eq!(
            Ed25519Public::from_multikey("m6Mk"),
            Err(KeyError::WrongMultibase('m'))
        );
        assert_eq!(
            Ed25519Public::from_multikey(""),
            Err(KeyError::BadMultibase)
        );
    }
}
