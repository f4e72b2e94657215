//! talos-anchor: one [`Anchor`] trait for every chain that anchors talos's records (DID
//! registry entries, capability commitments, permanent revocations, audit-log roots),
//! and its backends:
//!
//! - [`embedded`]: the TalosAnchor contract on revm in-process, state in RocksDB, the
//!   default on a single machine;
//! - [`evm`]: the same contract on any EVM chain over JSON-RPC (HTTP or WS) with alloy,
//!   with persisted pending transactions that survive restarts;
//! - [`substrate`]: the talos consortium chain (`talos-chain`) over subxt: the agent's
//!   Ed25519 key signs its own extrinsics, writes wait for GRANDPA finality.
//!
//! Also: [`verify`] (a proof against the anchored roots), [`meta`] (EIP-712
//! meta-transactions), [`binding`] (owner bindings on EVM chains).
//!
//! DIDs are stored under [`did_key`] (SHA-256 of the DID string). Reverts surface as
//! [`Revert`], the contract's custom errors. On an EVM chain any account may register any
//! DID, so a registration carries an owner binding signed by the DID's key
//! ([`binding`]), and reads ignore registrations whose binding does not verify.
//!
//! An agent registers its DID and anchors its log's head on the embedded chain:
//!
//! ```
//! use std::sync::Arc;
//! use talos_anchor::Anchor;
//! use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain};
//! use talos_identity::IdentityKey;
//! use talos_primitives::{Hash32, TreeHead};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Arc::new(talos_store::Store::open(dir.path())?);
//! let agent = IdentityKey::generate()?;
//! // The agent's EVM account is derived from its identity seed.
//! let signer = talos_anchor::evm_signer_from_seed(agent.seed().dangerous_as_bytes())?;
//! let chain = EmbeddedChain::open(store, Clock::System, signer.address())?;
//! let anchor = EmbeddedAnchor::embedded(chain, signer.address());
//! anchor.register_did(&agent, Hash32([1; 32])).await?;
//! let head = TreeHead { size: 7, root: Hash32([2; 32]) };
//! anchor.anchor_root(&agent.did(), head.clone()).await?;
//! assert_eq!(anchor.latest_root(&agent.did()).await?, Some(head));
//! # Ok(()) }
//! ```

mod abi;
mod backend;
pub mod binding;
pub mod contract;
#[cfg(feature = "backends")]
pub mod embedded;
pub mod endpoint;
mod error;
#[cfg(feature = "backends")]
pub mod evm;
pub mod meta;
#[cfg(feature = "backends")]
pub mod substrate;
mod types;
pub mod verify;

pub use backend::{Anchor, REVOCATION_STREAM_CAPACITY, RevocationStream};
pub use contract::{Call, Claim, ContractAnchor, MAX_BATCH};
pub use error::{AnchorError, Revert, Skipped};
pub use types::{Account, AnchoredRoot, ChainDid, Inclusion, RevocationEvent, did_key};

/// The EVM account of an agent, derived from its identity seed (HKDF-SHA256, info
/// `talos/evm-account/v1`): the agent's one secret also yields its chain account, so
/// nothing else needs backing up. A derived scalar out of range (probability ~2^-128)
/// moves to the next counter.
pub fn evm_signer_from_seed(
    seed: &[u8; 32],
) -> Result<alloy::signers::local::PrivateKeySigner, AnchorError> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"talos"), seed);
    for counter in 0u8..=255 {
        let mut okm = [0u8; 32];
        hk.expand(
            &[b"talos/evm-account/v1".as_slice(), &[counter]].concat(),
            &mut okm,
        )
        .map_err(|_| AnchorError::Config("HKDF output length".into()))?;
        if let Ok(s) =
            alloy::signers::local::PrivateKeySigner::from_bytes(&alloy::primitives::B256::from(okm))
        {
            return Ok(s);
        }
    }
    Err(AnchorError::Config(
        "no valid secp256k1 key derivable".into(),
    ))
}
