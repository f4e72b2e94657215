//! What the chain records, as the trait hands it out.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use talos_primitives::{CapabilityId, Did, Hash32, TreeHead};

/// The 32-byte key a chain stores a DID under: SHA-256 of the DID's string form
/// (`did:key:z6Mk...` or `did:talos:z...`). Hashing the string gives one fixed-size key
/// for both methods and keeps contract and pallet storage bounded.
pub fn did_key(did: &Did) -> Hash32 {
    Hash32(Sha256::digest(did.to_string().as_bytes()).into())
}

/// The account that owns a DID on a chain.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "id")]
pub enum Account {
    /// A 20-byte EVM account (secp256k1; the EVM has no cheap Ed25519).
    Evm([u8; 20]),
    /// A Substrate account, which is the DID's own Ed25519 key.
    Substrate([u8; 32]),
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Evm(a) => write!(f, "0x{}", hex::encode(a)),
            Account::Substrate(k) => write!(f, "0x{}", hex::encode(k)),
        }
    }
}

/// A DID's registry record on a chain. The document itself lives off-chain; resolvers
/// fetch it, check its hash against `doc_hash` and its Ed25519 self-signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainDid {
    /// The account that writes for this DID (on an EVM chain, the first active claim
    /// whose owner binding verifies; see [`crate::binding`]).
    pub owner: Account,
    /// Document version, 1 at registration.
    pub version: u32,
    /// SHA-256 of the current document (JCS bytes).
    pub doc_hash: Hash32,
    /// Hash of the previous version's document; `None` at version 1.
    pub prev_hash: Option<Hash32>,
    /// Once set, the DID takes no further writes.
    pub deactivated: bool,
}

/// Where a write landed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inclusion {
    /// Block number.
    pub block: u64,
    /// Transaction hash.
    pub tx: Hash32,
}

/// An audit root as anchored, with where it was anchored.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchoredRoot {
    /// Tree size and root.
    pub head: TreeHead,
    /// The block (and transaction) that anchored it.
    pub at: Inclusion,
}

/// A batch of revocations seen on chain.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationEvent {
    /// The revoking DID's chain key (see [`did_key`]).
    pub did: Hash32,
    /// The revoked capability ids.
    pub ids: Vec<CapabilityId>,
    /// Where.
    pub at: Inclusion,
}
