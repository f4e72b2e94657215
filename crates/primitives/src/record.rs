//! The on-chain view of a `did:talos` DID.

use parity_scale_codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;
use crate::key::Ed25519Public;

/// What a chain stores for a `did:talos` DID: enough for a resolver to fetch the full
/// document off-chain and check it is the current one.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct DidRecord {
    /// The current controller key.
    pub controller: Ed25519Public,
    /// SHA-256 of the current document's canonical (JCS) bytes.
    pub doc_hash: Hash32,
    /// Version, starting at 1 and increasing by one with each update.
    pub version: u32,
    /// Hash of the previous version's document; `None` only for version 1.
    pub prev: Option<Hash32>,
    /// Once true, never false again.
    pub deactivated: bool,
}
