//! The one trait every chain backend implements: embedded EVM, EVM over RPC, Substrate.

use async_trait::async_trait;
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32, TreeHead};
use tokio::sync::mpsc;

use crate::error::AnchorError;
use crate::types::{Account, AnchoredRoot, ChainDid, Inclusion, RevocationEvent};

/// Revocations as the chain records them, oldest first, then live, each made by the DID's
/// own key or an account it bound (see [`crate::binding`]). Bounded: the watcher waits
/// when the consumer lags, and nothing is dropped.
#[derive(Debug)]
pub struct RevocationStream {
    pub(crate) rx: mpsc::Receiver<Result<RevocationEvent, AnchorError>>,
}

impl RevocationStream {
    /// The next batch of revocations; `None` once the backend is gone.
    /// [`AnchorError::Skipped`] reports a record the stream went past (malformed, or
    /// written by an account the DID never bound) and the stream goes on; any other error
    /// ends it (the caller re-subscribes from the last block it saw).
    pub async fn next(&mut self) -> Option<Result<RevocationEvent, AnchorError>> {
        self.rx.recv().await
    }
}

/// How many events a revocation stream buffers before its watcher waits.
pub const REVOCATION_STREAM_CAPACITY: usize = 256;

/// A chain that anchors talos's records. Writes return once the transaction has the
/// backend's required confirmations; every write is idempotent on chain, so a caller may
/// retry one whose outcome it did not see. Reads are a verifier's: they count only what
/// a DID's key wrote, or an account that key bound to the DID ([`crate::binding`]).
#[async_trait]
pub trait Anchor: Send + Sync {
    /// `embedded`, `evm` or `substrate`.
    fn kind(&self) -> &'static str;

    /// The account this backend writes as.
    fn account(&self) -> Account;

    /// Registers `key`'s DID at version 1 with the hash of its document, owned by this
    /// account. The key proves the DID is the caller's: on an EVM chain it signs the owner
    /// binding the registration carries (the contract cannot check Ed25519, verifiers
    /// do); on Substrate the account must be the key itself.
    async fn register_did(
        &self,
        key: &IdentityKey,
        doc_hash: Hash32,
    ) -> Result<Inclusion, AnchorError>;

    /// Records a new document version; `new_owner` hands the DID to another account.
    async fn rotate_did(
        &self,
        did: &Did,
        new_doc_hash: Hash32,
        new_owner: Option<Account>,
    ) -> Result<Inclusion, AnchorError>;

    /// Deactivates `did` for good.
    async fn deactivate_did(&self, did: &Did) -> Result<Inclusion, AnchorError>;

    /// The registry record of `did`, if registered by its key or an account it bound.
    async fn resolve_did(&self, did: &Did) -> Result<Option<ChainDid>, AnchorError>;

    /// Accounts that registered `did` without a valid owner binding. Only an EVM chain
    /// has them (anyone may register any DID's hash there) and every read here ignores
    /// them; they are listed so that a refusal can say why.
    async fn unbound_claims(&self, did: &Did) -> Result<Vec<Account>, AnchorError> {
        let _ = did;
        Ok(Vec::new())
    }

    /// Records capability commitments issued under `did` (1..=512 per call).
    async fn commit(&self, did: &Did, commitments: &[Commitment])
    -> Result<Inclusion, AnchorError>;

    /// The DID (chain key) that committed `commitment` first, if any (by its key or a
    /// bound account).
    async fn committed_by(&self, commitment: &Commitment) -> Result<Option<Hash32>, AnchorError>;

    /// Revokes capability ids issued under `did`, permanently (1..=512 per call).
    async fn revoke(&self, did: &Did, ids: &[CapabilityId]) -> Result<Inclusion, AnchorError>;

    /// The DID (chain key) that revoked `id`, if it is revoked (by its key or a bound
    /// account).
    async fn revoked_by(&self, id: &CapabilityId) -> Result<Option<Hash32>, AnchorError>;

    /// Anchors the audit-log head of `did`. The size may not shrink; re-anchoring the
    /// latest head is a no-op.
    async fn anchor_root(&self, did: &Did, head: TreeHead) -> Result<Inclusion, AnchorError>;

    /// The latest anchored head of `did`.
    async fn latest_root(&self, did: &Did) -> Result<Option<TreeHead>, AnchorError>;

    /// The root anchored for `did` at tree size `size`, from the chain's event history.
    async fn root_at(&self, did: &Did, size: u64) -> Result<Option<AnchoredRoot>, AnchorError>;

    /// Revocations from block `from_block` on, then live ones as they are confirmed.
    async fn revocations(&self, from_block: u64) -> Result<RevocationStream, AnchorError>;

    /// Resubmits writes that were sent but not confirmed before a crash or an outage.
    /// Returns how many were pending. Each is the same signed transaction, so none can
    /// land twice.
    async fn resume(&self) -> Result<usize, AnchorError>;
}
