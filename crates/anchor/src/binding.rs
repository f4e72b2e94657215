//! Owner bindings: a DID's Ed25519 key authorizing one EVM account to write for it.
//!
//! The EVM has no cheap Ed25519, so the TalosAnchor contract cannot tell who holds a DID's
//! key. It therefore lets any account register any DID hash (a *claim* on it), keeps each
//! claim's writes apart, and only carries each claim's binding in its `DidRegistered`
//! event: the DID's public key and its signature over [`owner_statement`]. Every read of
//! [`crate::ContractAnchor`] checks the binding with [`verify`] and ignores a claim whose
//! binding does not verify, so whoever registers someone else's DID first (a squatter)
//! gains nothing and blocks nobody. The contract's NatSpec gives the full reasoning.
//!
//! Only `did:key` DIDs can be bound: the key is the DID, so the binding carries
//! everything needed to check it. (A `did:talos` key lives in its document.)

use alloy::primitives::{Address, U256};
use talos_identity::{IdentityKey, Signature};
use talos_primitives::{Did, Ed25519Public, Hash32};

use crate::meta::Domain;
use crate::types::did_key;

/// The domain tag that starts every owner statement, so a signature over one can never
/// pass for a signature over anything else the key signs.
pub const OWNER_STATEMENT_TAG: &[u8] = b"talos-evm-owner-v1";

/// An owner binding's length: Ed25519 public key (32 bytes) ‖ signature (64).
pub const BINDING_LEN: usize = 96;

/// Why a claim's binding does not bind its account to the DID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// Not 96 bytes.
    #[error("the owner binding is {0} bytes, not {BINDING_LEN}")]
    Length(usize),
    /// The key is not a usable Ed25519 key (off the curve, or of small order).
    #[error("the owner binding's key is not a usable Ed25519 key")]
    Key,
    /// The key is another DID's: its did:key does not hash to the claimed DID.
    #[error("the owner binding's key is another DID's")]
    OtherDid,
    /// The signature does not verify for this chain, contract, DID and account.
    #[error(
        "the owner binding's signature does not verify for this chain, contract, DID and account"
    )]
    Signature,
}

/// What a DID's key signs to bind `owner` to the DID (chain key `did`) on one contract:
/// `"talos-evm-owner-v1"` ‖ chain id (32 bytes, big-endian) ‖ contract (20) ‖ `did` (32)
/// ‖ `owner` (20), 122 bytes; the contract's `ownerStatement` builds the same bytes. The
/// chain and the contract are in it so that a binding holds on one deployment only.
pub fn owner_statement(domain: Domain, did: &Hash32, owner: Address) -> Vec<u8> {
    let mut s = Vec::with_capacity(OWNER_STATEMENT_TAG.len() + 32 + 20 + 32 + 20);
    s.extend_from_slice(OWNER_STATEMENT_TAG);
    s.extend_from_slice(&U256::from(domain.chain_id).to_be_bytes::<32>());
    s.extend_from_slice(domain.contract.as_slice());
    s.extend_from_slice(&did.0);
    s.extend_from_slice(owner.as_slice());
    s
}

/// The binding of `owner` to `key`'s DID on `domain`: what `register` carries.
pub fn sign(key: &IdentityKey, domain: Domain, owner: Address) -> [u8; BINDING_LEN] {
    let Signature(sig) = key.sign(&owner_statement(domain, &did_key(&key.did()), owner));
    let mut out = [0u8; BINDING_LEN];
    let (k, s) = out.split_at_mut(32);
    k.copy_from_slice(key.public().as_bytes());
    s.copy_from_slice(&sig);
    out
}

/// Checks that `binding` binds `owner` to the DID whose chain key is `did` on `domain`:
/// its key's did:key hashes to `did`, and its signature over the owner statement verifies
/// (strictly: one valid signature per key and message). Returns that DID.
pub fn verify(
    binding: &[u8],
    domain: Domain,
    did: &Hash32,
    owner: Address,
) -> Result<Did, BindingError> {
    let (key, sig) = match binding.split_at_checked(32) {
        Some((k, s)) if binding.len() == BINDING_LEN => (k, s),
        _ => return Err(BindingError::Length(binding.len())),
    };
    let key = Ed25519Public::from_slice(key).map_err(|_| BindingError::Key)?;
    let sig = Signature::from_slice(sig).map_err(|_| BindingError::Length(binding.len()))?;
    let bound = Did::Key(key);
    if did_key(&bound) != *did {
        return Err(BindingError::OtherDid);
    }
    talos_identity::keys::verify(&key, &owner_statement(domain, did, owner), &sig)
        .map_err(|_| BindingError::Signature)?;
    Ok(bound)
}
