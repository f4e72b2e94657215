//! Errors: the contract's reverts as a typed enum, and everything else that can go wrong
//! talking to a chain.

use talos_primitives::Hash32;

use crate::types::{Account, Inclusion};

/// A revert of the anchor contract, decoded from its custom error. The same enum serves
/// every EVM backend, since they all run the same bytecode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Revert {
    /// `register` of a DID that is already registered (on an EVM chain: by this account;
    /// other accounts may hold their own claims on it).
    #[error("DID {did} is already registered")]
    DidExists {
        /// The DID's chain key.
        did: Hash32,
    },
    /// The DID was never registered.
    #[error("DID {did} is not registered")]
    UnknownDid {
        /// The DID's chain key.
        did: Hash32,
    },
    /// The sender does not own the DID.
    #[error("account {sender} does not own DID {did}")]
    NotOwner {
        /// The DID's chain key.
        did: Hash32,
        /// The account that tried to write, `0x`-hex.
        sender: String,
    },
    /// The account holds no claim on the DID (EVM: every account writes only under its own
    /// registration of a DID, see [`crate::binding`]).
    #[error("account {account} has not registered DID {did}")]
    NoClaim {
        /// The DID's chain key.
        did: Hash32,
        /// The account, `0x`-hex.
        account: String,
    },
    /// A registration whose owner binding is not 96 bytes (Ed25519 key and signature).
    #[error("an owner binding of {len} bytes; it must be 96")]
    BadBinding {
        /// Its length.
        len: u64,
    },
    /// The DID is deactivated and takes no writes.
    #[error("DID {did} is deactivated")]
    Deactivated {
        /// The DID's chain key.
        did: Hash32,
    },
    /// The allow-list is on and the sender is not on it.
    #[error("account {sender} is not an allow-listed writer")]
    NotWriter {
        /// The account, `0x`-hex.
        sender: String,
    },
    /// An admin-only call from someone else.
    #[error("account {sender} is not the admin")]
    NotAdmin {
        /// The account, `0x`-hex.
        sender: String,
    },
    /// A zero address where an account is needed.
    #[error("the zero address is not a valid owner or admin")]
    ZeroAddress,
    /// An empty commitment or revocation batch.
    #[error("empty batch")]
    EmptyBatch,
    /// A batch over the contract's limit.
    #[error("batch of {len} is over the limit of 512")]
    BatchTooLarge {
        /// Its length.
        len: u64,
    },
    /// An anchor whose tree size is below the anchored one.
    #[error("tree size of DID {did} may not shrink from {current} to {given}")]
    TreeSizeShrinks {
        /// The DID's chain key.
        did: Hash32,
        /// The anchored size.
        current: u64,
        /// The size given.
        given: u64,
    },
    /// A different root at the latest anchored size: a split view, refused.
    #[error("DID {did} already anchored a different root at size {tree_size}")]
    ConflictingRoot {
        /// The DID's chain key.
        did: Hash32,
        /// The size.
        tree_size: u64,
    },
    /// A tree size over 2^56 - 1.
    #[error("tree size is too large")]
    TreeSizeTooLarge,
    /// A zero (or sentinel) root.
    #[error("invalid root")]
    InvalidRoot,
    /// A meta-transaction past its deadline.
    #[error("meta-transaction expired at {deadline}")]
    Expired {
        /// Its deadline (unix seconds).
        deadline: u64,
    },
    /// A meta-transaction with the wrong nonce: a replay, or out of order.
    #[error("meta-transaction nonce {given} is not the expected {expected} (replayed?)")]
    BadNonce {
        /// The signer's next nonce.
        expected: u64,
        /// The nonce given.
        given: u64,
    },
    /// A meta-transaction signature that does not recover to the signer.
    #[error("meta-transaction signature is not the signer's")]
    BadSignature,
    /// A high-s meta-transaction signature.
    #[error("meta-transaction signature is malleable (high s)")]
    MalleableSignature,
    /// The inner call of a meta-transaction failed without a reason.
    #[error("meta-transaction inner call failed")]
    MetaCallFailed,
    /// Revert data that is not one of the contract's errors (first 4 bytes shown).
    #[error("unrecognized revert (selector {selector})")]
    Unrecognized {
        /// The selector, hex, or empty.
        selector: String,
    },
}

impl Revert {
    /// Decodes a revert's return data (from any EVM running the contract). Data that is
    /// not one of the contract's errors is [`Revert::Unrecognized`]; this never fails.
    pub fn decode(data: &[u8]) -> Self {
        crate::abi::decode_revert(data)
    }
}

/// Why an anchor operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The contract refused the call.
    #[error("the anchor contract refused: {0}")]
    Revert(#[from] Revert),
    /// The RPC endpoint did not answer, even after retrying with backoff.
    #[error("chain RPC at {endpoint} is unreachable after {attempts} attempts: {reason}")]
    Unavailable {
        /// The endpoint (scheme, host and port only).
        endpoint: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error.
        reason: String,
    },
    /// The RPC answered with an error that is not a revert.
    #[error("chain RPC error: {0}")]
    Rpc(String),
    /// A transaction was mined but failed without revert data.
    #[error("transaction {tx} failed on chain")]
    Failed {
        /// The transaction hash.
        tx: Hash32,
    },
    /// Waiting for confirmations took too long; the transaction stays pending and is
    /// resubmitted by [`crate::Anchor::resume`].
    #[error("transaction {tx} not confirmed in time; it stays pending")]
    NotConfirmed {
        /// The transaction hash.
        tx: Hash32,
    },
    /// The EVM halted (out of gas, invalid opcode, ...).
    #[error("EVM halted: {0}")]
    Halted(String),
    /// The chain returned data of the wrong shape.
    #[error("malformed chain data: {0}")]
    Malformed(String),
    /// A batch outside 1..=512 items (checked before sending).
    #[error("batch of {0} items is outside 1..=512")]
    BadBatch(usize),
    /// The local store failed.
    #[error(transparent)]
    #[cfg(feature = "backends")]
    Store(#[from] talos_store::StoreError),
    /// The configuration cannot work (bad URL, missing contract, ...).
    #[error("bad anchor configuration: {0}")]
    Config(String),
    /// The backend was shut down.
    #[error("the anchor backend is closed")]
    Closed,
    /// A revocation stream went past one record it cannot use. The only error that does
    /// not end a [`crate::RevocationStream`]: the consumer counts it and reads on.
    #[error("skipped: {0}")]
    Skipped(#[from] Skipped),
}

/// A chain record a revocation stream went past, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Skipped {
    /// A `Revoked` log that does not decode (the contract never emits one: a hostile or
    /// broken RPC endpoint, or another contract at the address).
    #[error("a malformed revocation log in block {} (tx {}): {reason}", at.block, at.tx)]
    Malformed {
        /// Where.
        at: Inclusion,
        /// The decoding error.
        reason: String,
    },
    /// Revocations by an account whose claim on the DID has no valid owner binding: on an
    /// EVM chain anyone may register any DID, so they are not the DID's.
    #[error("revocations for DID {did} by account {account} in block {}, which the DID's key never bound", at.block)]
    Unbound {
        /// The DID's chain key.
        did: Hash32,
        /// The account that wrote them.
        account: Account,
        /// Where.
        at: Inclusion,
    },
}
