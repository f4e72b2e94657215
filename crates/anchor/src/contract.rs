//! The [`Anchor`] trait over any EVM that runs the TalosAnchor contract. An [`Executor`]
//! moves calldata and logs (revm in-process, or JSON-RPC); everything about the contract
//! itself (encoding, decoding, history, the revocation watcher) is here, once.
//!
//! The contract keeps one claim per (DID, account) and cannot check who holds a DID's
//! key (see [`crate::binding`]). So writes go to this backend's own claim, and every read
//! is a verifier's: it looks only at claims whose owner binding verifies, which is what
//! makes registering someone else's DID first (squatting) useless.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, LogData, U256};
use alloy::sol_types::{SolCall, SolEvent};
use async_trait::async_trait;
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32, TreeHead};
use tokio::sync::mpsc;

use crate::abi::{self, TalosAnchor};
use crate::backend::{Anchor, REVOCATION_STREAM_CAPACITY, RevocationStream};
use crate::binding;
use crate::error::{AnchorError, Skipped};
use crate::meta::Domain;
use crate::types::{Account, AnchoredRoot, ChainDid, Inclusion, RevocationEvent, did_key};

mod anchor_impl;
mod claims;

pub use self::claims::Claim;
// `anchor_impl` takes the parent's names by glob; its revocation watch needs the cache.
use self::claims::BindingCache;

/// The contract's batch limit (`MAX_BATCH`), checked before sending.
pub const MAX_BATCH: usize = 512;

/// A log as a chain reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLog {
    /// Block number.
    pub block: u64,
    /// Transaction hash.
    pub tx: B256,
    /// Topics; the first is the event signature.
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
}

impl ChainLog {
    fn log_data(&self) -> LogData {
        LogData::new_unchecked(self.topics.clone(), self.data.clone())
    }

    fn at(&self) -> Inclusion {
        Inclusion {
            block: self.block,
            tx: Hash32(self.tx.0),
        }
    }
}

/// Which of the contract's logs to fetch: by event signature, optionally by the first
/// indexed argument (always the DID key), in a block range.
#[derive(Clone, Debug)]
pub struct LogQuery {
    /// Event signature hash.
    pub topic0: B256,
    /// First indexed argument.
    pub topic1: Option<B256>,
    /// First block.
    pub from: u64,
    /// Last block (inclusive); `None` for the latest.
    pub to: Option<u64>,
}

/// Runs calls against the deployed contract on some EVM.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// Backend name for [`Anchor::kind`].
    fn kind(&self) -> &'static str;
    /// The account transactions are sent from.
    fn sender(&self) -> Address;
    /// The chain id (part of the EIP-712 domain).
    fn chain_id(&self) -> u64;
    /// The contract's address.
    fn contract(&self) -> Address;
    /// A read-only call; a revert is [`AnchorError::Revert`].
    async fn call(&self, data: Bytes) -> Result<Bytes, AnchorError>;
    /// A transaction, returned once confirmed; a revert is [`AnchorError::Revert`].
    async fn send(&self, data: Bytes) -> Result<Inclusion, AnchorError>;
    /// The contract's logs matching `query`, oldest first.
    async fn logs(&self, query: LogQuery) -> Result<Vec<ChainLog>, AnchorError>;
    /// The newest block with the required confirmations.
    async fn head(&self) -> Result<u64, AnchorError>;
    /// Waits until the confirmed head passes `after`, and returns it.
    async fn next_head(&self, after: u64) -> Result<u64, AnchorError>;
    /// Resubmits transactions left pending by a crash or outage.
    async fn resume(&self) -> Result<usize, AnchorError>;
}

/// A write to the contract, as calldata. Also what a meta-transaction signer signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `register(did, docHash, binding)`: the sender's claim on `did`. Build it with
    /// [`Call::register`], which signs the binding; raw bytes are for tests of what the
    /// contract and verifiers do with a bad one.
    Register {
        /// DID.
        did: Did,
        /// Document hash.
        doc_hash: Hash32,
        /// Owner binding (see [`crate::binding`]).
        binding: Bytes,
    },
    /// `rotate(did, newDocHash)`.
    Rotate {
        /// DID.
        did: Did,
        /// New document hash.
        doc_hash: Hash32,
    },
    /// `deactivate(did)`.
    Deactivate {
        /// DID.
        did: Did,
    },
    /// `commit(did, commitments)`.
    Commit {
        /// DID.
        did: Did,
        /// Commitments.
        commitments: Vec<Commitment>,
    },
    /// `revoke(did, ids)`.
    Revoke {
        /// DID.
        did: Did,
        /// Capability ids.
        ids: Vec<CapabilityId>,
    },
    /// `anchorRoot(did, treeSize, root)`.
    AnchorRoot {
        /// DID.
        did: Did,
        /// Tree head.
        head: TreeHead,
    },
}

fn batch_len(n: usize) -> Result<(), AnchorError> {
    if n == 0 || n > MAX_BATCH {
        return Err(AnchorError::BadBatch(n));
    }
    Ok(())
}

impl Call {
    /// The registration of `key`'s DID by `owner` on `domain`, with the owner binding
    /// `key` signs for it.
    pub fn register(key: &IdentityKey, doc_hash: Hash32, domain: Domain, owner: Address) -> Self {
        Call::Register {
            did: key.did(),
            doc_hash,
            binding: Bytes::copy_from_slice(&binding::sign(key, domain, owner)),
        }
    }

    /// ABI-encoded calldata. Batches outside 1..=512 are refused here, before any gas.
    pub fn encode(&self) -> Result<Bytes, AnchorError> {
        let k = |d: &Did| abi::word(&did_key(d));
        let data = match self {
            Call::Register {
                did,
                doc_hash,
                binding,
            } => TalosAnchor::registerCall {
                did: k(did),
                docHash: abi::word(doc_hash),
                binding: binding.clone(),
            }
            .abi_encode(),
            Call::Rotate { did, doc_hash } => TalosAnchor::rotateCall {
                did: k(did),
                newDocHash: abi::word(doc_hash),
            }
            .abi_encode(),
            Call::Deactivate { did } => TalosAnchor::deactivateCall { did: k(did) }.abi_encode(),
            Call::Commit { did, commitments } => {
                batch_len(commitments.len())?;
                TalosAnchor::commitCall {
                    did: k(did),
                    commitments: commitments.iter().map(|c| abi::word(&c.0)).collect(),
                }
                .abi_encode()
            }
            Call::Revoke { did, ids } => {
                batch_len(ids.len())?;
                TalosAnchor::revokeCall {
                    did: k(did),
                    ids: ids.iter().map(abi::id_word).collect(),
                }
                .abi_encode()
            }
            Call::AnchorRoot { did, head } => TalosAnchor::anchorRootCall {
                did: k(did),
                treeSize: U256::from(head.size),
                root: abi::word(&head.root),
            }
            .abi_encode(),
        };
        Ok(Bytes::from(data))
    }
}

fn malformed(what: &str) -> impl FnOnce(alloy::sol_types::Error) -> AnchorError + '_ {
    move |e| AnchorError::Malformed(format!("{what}: {e}"))
}

/// [`Anchor`] over the TalosAnchor contract on the EVM behind `E`.
pub struct ContractAnchor<E> {
    exec: Arc<E>,
}

impl<E> Clone for ContractAnchor<E> {
    fn clone(&self) -> Self {
        Self {
            exec: Arc::clone(&self.exec),
        }
    }
}

impl<E: Executor> std::fmt::Debug for ContractAnchor<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractAnchor")
            .field("kind", &self.exec.kind())
            .field("contract", &self.exec.contract())
            .field("sender", &self.exec.sender())
            .finish()
    }
}

impl<E: Executor> ContractAnchor<E> {
    /// Wraps an executor.
    pub fn new(exec: E) -> Self {
        Self {
            exec: Arc::new(exec),
        }
    }

    /// The executor.
    pub fn executor(&self) -> &E {
        &self.exec
    }

    async fn send(&self, call: Call) -> Result<Inclusion, AnchorError> {
        self.exec.send(call.encode()?).await
    }

    /// The next meta-transaction nonce of `signer`.
    pub async fn meta_nonce(&self, signer: Address) -> Result<u64, AnchorError> {
        let out = self
            .exec
            .call(TalosAnchor::noncesCall { signer }.abi_encode().into())
            .await?;
        let n = TalosAnchor::noncesCall::abi_decode_returns(&out).map_err(malformed("nonces"))?;
        u64::try_from(n).map_err(|_| AnchorError::Malformed("nonce over 2^64".into()))
    }

    /// Relays a signed meta-transaction, paying its gas from this backend's account.
    pub async fn relay_meta(&self, meta: &crate::meta::MetaTx) -> Result<Inclusion, AnchorError> {
        self.exec.send(meta.execute_calldata()).await
    }

    /// The EIP-712 domain of this deployment, which is also the domain of its owner
    /// bindings.
    pub fn meta_domain(&self) -> Domain {
        exec_domain(&*self.exec)
    }
}

fn exec_domain<E: Executor>(exec: &E) -> Domain {
    Domain {
        chain_id: exec.chain_id(),
        contract: exec.contract(),
    }
}

/// Decodes a `Revoked` log into the revocation event it records; logs of any other
/// shape, or ids that are not 16-byte capability ids, are [`AnchorError::Malformed`].
pub fn decode_revocation(log: &ChainLog) -> Result<RevocationEvent, AnchorError> {
    decode_revocation_claim(log).map(|(ev, _)| ev)
}

/// [`decode_revocation`], with the account that revoked (whose claim on the DID made the
/// revocation).
pub fn decode_revocation_claim(log: &ChainLog) -> Result<(RevocationEvent, Address), AnchorError> {
    let ev =
        TalosAnchor::Revoked::decode_log_data(&log.log_data()).map_err(malformed("Revoked"))?;
    let event = RevocationEvent {
        did: abi::hash(&ev.did),
        ids: ev.ids.iter().map(abi::word_id).collect::<Result<_, _>>()?,
        at: log.at(),
    };
    Ok((event, ev.owner))
}
