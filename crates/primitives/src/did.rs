//! Decentralized identifiers: `did:key` (a bare Ed25519 key) and `did:talos` (an on-chain
//! document whose key can rotate).

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use parity_scale_codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::Hash32;
use crate::key::{Ed25519Public, KeyError};

/// Longest DID or DID URL string we accept. Real ones are under 100 bytes; the bound
/// keeps a hostile input from costing more than a few microseconds to reject.
pub const MAX_DID_LEN: usize = 256;

/// Why a string is not an acceptable DID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// The string is longer than [`MAX_DID_LEN`].
    #[error("DID is {0} bytes, longer than the {MAX_DID_LEN}-byte limit")]
    TooLong(usize),
    /// The string does not start with `did:`.
    #[error("not a DID: missing the 'did:' scheme")]
    NotADid,
    /// The method is neither `key` nor `talos`.
    #[error("unsupported DID method (only did:key and did:talos)")]
    UnsupportedMethod,
    /// The method-specific identifier is empty.
    #[error("empty method-specific identifier")]
    EmptyIdentifier,
    /// A path, query or fragment was found where a bare DID was expected.
    #[error("a DID URL (path, query or fragment) where a bare DID was expected")]
    UrlNotAllowed,
    /// A DID URL fragment was empty or held characters outside the accepted set.
    #[error("invalid DID URL fragment")]
    BadFragment,
    /// The did:key identifier is not a valid Ed25519 multikey.
    #[error("invalid did:key identifier: {0}")]
    Key(#[from] KeyError),
    /// The did:talos identifier is not base58btc multibase of 32 bytes.
    #[error("invalid did:talos identifier")]
    BadTalosId,
}

/// The identifier of a `did:talos` DID: SHA-256 of its canonical inception record, so the
/// name is bound to the first controller key and survives later rotations.
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
)]
pub struct TalosId(pub Hash32);

impl TalosId {
    fn to_multibase(self) -> String {
        multibase::encode(multibase::Base::Base58Btc, self.0.as_bytes())
    }

    fn from_multibase(s: &str) -> Result<Self, DidError> {
        if !s.starts_with('z') {
            return Err(DidError::BadTalosId);
        }
        let (_, bytes) = multibase::decode(s).map_err(|_| DidError::BadTalosId)?;
        Hash32::from_slice(&bytes)
            .map(TalosId)
            .map_err(|_| DidError::BadTalosId)
    }
}

/// A DID in one of the two methods talos speaks.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum Did {
    /// `did:key:z6Mk...`: the DID is the Ed25519 key.
    Key(Ed25519Public),
    /// `did:talos:z...`: the DID names an on-chain document.
    Talos(TalosId),
}

impl Did {
    /// Parses a bare DID (no path, query or fragment).
    pub fn parse(s: &str) -> Result<Self, DidError> {
        if s.len() > MAX_DID_LEN {
            return Err(DidError::TooLong(s.len()));
        }
        let rest = s.strip_prefix("did:").ok_or(DidError::NotADid)?;
        if rest.contains(['#', '?', '/']) {
            return Err(DidError::UrlNotAllowed);
        }
        let (method, id) = rest.split_once(':').ok_or(DidError::EmptyIdentifier)?;
        if id.is_empty() {
            return Err(DidError::EmptyIdentifier);
        }
        match method {
            "key" => Ok(Did::Key(Ed25519Public::from_multikey(id)?)),
            "talos" => Ok(Did::Talos(TalosId::from_multibase(id)?)),
            _ => Err(DidError::UnsupportedMethod),
        }
    }

    /// The did:key DID of an Ed25519 key.
    pub const fn from_key(key: Ed25519Public) -> Self {
        Did::Key(key)
    }

    /// The key, when this is a did:key (a did:talos key must be resolved).
    pub const fn as_key(&self) -> Option<&Ed25519Public> {
        match self {
            Did::Key(k) => Some(k),
            Did::Talos(_) => None,
        }
    }

    /// The method-specific identifier (the part after `did:<method>:`).
    pub fn method_specific_id(&self) -> String {
        match self {
            Did::Key(k) => k.to_multikey(),
            Did::Talos(t) => t.to_multibase(),
        }
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Did::Key(_) => write!(f, "did:key:{}", self.method_specific_id()),
            Did::Talos(_) => write!(f, "did:talos:{}", self.method_specific_id()),
        }
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Did({self})")
    }
}

impl FromStr for Did {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Did::parse(s)
    }
}

impl Serialize for Did {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Did {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Did::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A DID URL that names one verification method: `did:...#fragment`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidUrl {
    did: Did,
    fragment: String,
}

impl DidUrl {
    /// Longest fragment accepted.
    pub const MAX_FRAGMENT: usize = 128;

    /// Builds a DID URL from a DID and a fragment (without the `#`).
    pub fn new(did: Did, fragment: &str) -> Result<Self, DidError> {
        let ok = !fragment.is_empty()
            && fragment.len() <= Self::MAX_FRAGMENT
            && fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b));
        if !ok {
            return Err(DidError::BadFragment);
        }
        Ok(Self {
            did,
            fragment: fragment.into(),
        })
    }

    /// Parses `did:...#fragment`.
    pub fn parse(s: &str) -> Result<Self, DidError> {
        if s.len() > MAX_DID_LEN {
            return Err(DidError::TooLong(s.len()));
        }
        let (did, fragment) = s.split_once('#').ok_or(DidError::BadFragment)?;
        Self::new(Did::parse(did)?, fragment)
    }

    /// The DID part.
    pub const fn did(&self) -> &Did {
        &self.did
    }

    /// The fragment, without the `#`.
    pub fn fragment(&self) -> &str {
        &self.fragment
    }
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.did, self.fragment)
    }
}

impl fmt::Debug for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidUrl({self})")
    }
}

impl FromStr for DidUrl {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DidUrl::parse(s)
    }
}

impl Serialize for DidUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DidUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DidUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The key that names an agent. Its did:key, its libp2p PeerId and its chain account are
/// all derived from this one Ed25519 key.
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
pub struct AgentId(pub Ed25519Public);

impl AgentId {
    /// The agent's did:key.
    pub const fn did(&self) -> Did {
        Did::Key(self.0)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.did(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const SEED0_DID: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

    #[test]
    fn did_key_round_trip() {
        let did = Did::parse(SEED0_DID).unwrap();
        assert_eq!(did.to_string(), SEED0_DID);
        assert_eq!(Did::decode(&mut &did.encode()[..]).unwrap(), did);
    }

    #[test]
    fn malformed_dids_are_typed() {
        assert_eq!(Did::parse("dud:key:z6Mk"), Err(DidError::NotADid));
        assert_eq!(
            Did::parse("did:web:example.com"),
            Err(DidError::UnsupportedMethod)
        );
        assert_eq!(Did::parse("did:key:"), Err(DidError::EmptyIdentifier));
        assert_eq!(Did::parse("did:key"), Err(DidError::EmptyIdentifier));
        assert_eq!(
            Did::parse(&alloc::format!("{SEED0_DID}#x")),
            Err(DidError::UrlNotAllowed)
        );
        assert_eq!(
            Did::parse("did:key:m6Mk"),
            Err(DidError::Key(KeyError::WrongMultibase('m')))
        );
        assert_eq!(Did::parse("did:talos:zzz"), Err(DidError::BadTalosId));
        let long = "did:key:".to_string() + &"z".repeat(300);
        assert_eq!(Did::parse(&long), Err(DidError::TooLong(308)));
    }

    #[test]
    fn did_url_parses_fragment() {
        let url = DidUrl::parse(&alloc::format!("{SEED0_DID}#key-1")).unwrap();
        assert_eq!(url.fragment(), "key-1");
        assert_eq!(url.did().to_string(), SEED0_DID);
        assert_eq!(DidUrl::parse(SEED0_DID), Err(DidError::BadFragment));
        assert_eq!(
            DidUrl::parse(&alloc::format!("{SEED0_DID}#a b")),
            Err(DidError::BadFragment)
        );
    }

    proptest! {
        #[test]
        fn talos_did_round_trip(bytes in any::<[u8; 32]>()) {
            let did = Did::Talos(TalosId(Hash32(bytes)));
            let s = did.to_string();
            prop_assert!(s.starts_with("did:talos:z"));
            prop_assert_eq!(Did::parse(&s).unwrap(), did);
            let json = serde_json::to_string(&did).unwrap();
            prop_assert_eq!(serde_json::from_str::<Did>(&json).unwrap(), did);
            prop_assert_eq!(Did::decode(&mut &did.encode()[..]).unwrap(), did);
        }

        #[test]
        fn did_parse_never_panics(s in "(did:(key|talos|web):)?[ -~]{0,120}") {
            let _ = Did::parse(&s);
            let _ = DidUrl::parse(&s);
        }

        #[test]
        fn scale_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Did::decode(&mut &bytes[..]);
        }
    }
}
