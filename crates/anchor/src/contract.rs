//! The [`Anchor`] trait over any EVM that runs the TalosAnchor contract. An [`Executor`]
//! moves calldata and logs (revm in-process, or JSON-RPC); everything about the contract
//! itself (encoding, decoding, history, the revocation watcher) is here, once.
//!
//! The contract keeps one claim per (DID, account) and cannot check who holds a DID's
//! key (see [`crate::binding`]). So writes go to this backend's own claim, and every read
//! is a verifier's: it looks only at claims whose owner binding verifies, which is what
//! makes registering someone else's DID first (squatting) useless.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, LogData, U256};
use alloy::sol_types::{SolCall, SolEvent};
use async_trait::async_trait;
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32, TreeHead};
use tokio::sync::mpsc;

use crate::abi::{self, TalosAnchor};
use crate::backend::{Anchor, REVOCATION_STREAM_CAPACITY, RevocationStream};
use crate::binding::{self, BindingError};
use crate::error::{AnchorError, Skipped};
use crate::meta::Domain;
use crate::types::{Account, AnchoredRoot, ChainDid, Inclusion, RevocationEvent, did_key};

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

/// One account's registration of a DID, as a verifier sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The account.
    pub owner: Address,
    /// The document hash it registered.
    pub doc_hash: Hash32,
    /// Where it registered.
    pub at: Inclusion,
    /// Whether its owner binding binds the account to the DID; a claim whose binding does
    /// not is ignored by every read.
    pub binding: Result<(), BindingError>,
}

impl Claim {
    /// Whether the DID's key bound this account.
    pub fn is_bound(&self) -> bool {
        self.binding.is_ok()
    }
}

/// A `DidRegistered` log.
struct Registration {
    did: B256,
    owner: Address,
    doc_hash: Hash32,
    binding: Bytes,
    at: Inclusion,
}

fn decode_registration(log: &ChainLog) -> Result<Registration, AnchorError> {
    let ev = TalosAnchor::DidRegistered::decode_log_data(&log.log_data())
        .map_err(malformed("DidRegistered"))?;
    Ok(Registration {
        did: ev.did,
        owner: ev.owner,
        doc_hash: abi::hash(&ev.docHash),
        binding: ev.binding,
        at: log.at(),
    })
}

/// A claim's record, as `resolve(did, owner)` returns it.
struct ClaimState {
    version: u32,
    doc_hash: Hash32,
    prev_hash: Option<Hash32>,
    deactivated: bool,
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

    /// Every account's claim on `did`, oldest first, each with whether its owner binding
    /// verifies. Logs of another shape are passed over: the contract emits none.
    pub async fn claims(&self, did: &Did) -> Result<Vec<Claim>, AnchorError> {
        let key = did_key(did);
        let logs = self
            .exec
            .logs(LogQuery {
                topic0: TalosAnchor::DidRegistered::SIGNATURE_HASH,
                topic1: Some(abi::word(&key)),
                from: 0,
                to: None,
            })
            .await?;
        let domain = self.meta_domain();
        Ok(logs
            .iter()
            .filter_map(|log| decode_registration(log).ok())
            .filter(|r| r.did == abi::word(&key))
            .map(|r| Claim {
                owner: r.owner,
                doc_hash: r.doc_hash,
                at: r.at,
                binding: binding::verify(&r.binding, domain, &key, r.owner).map(|_| ()),
            })
            .collect())
    }

    /// The accounts the DID's key bound, in registration order.
    async fn bound_owners(&self, did: &Did) -> Result<Vec<Address>, AnchorError> {
        Ok(self
            .claims(did)
            .await?
            .into_iter()
            .filter(Claim::is_bound)
            .map(|c| c.owner)
            .collect())
    }

    async fn claim_state(&self, did: &Did, owner: Address) -> Result<ClaimState, AnchorError> {
        let data = TalosAnchor::resolveCall {
            did: abi::word(&did_key(did)),
            owner,
        }
        .abi_encode();
        let out = self.exec.call(data.into()).await?;
        let r = TalosAnchor::resolveCall::abi_decode_returns(&out).map_err(malformed("resolve"))?;
        Ok(ClaimState {
            version: r.version,
            doc_hash: abi::hash(&r.docHash),
            prev_hash: (r.prevHash != B256::ZERO).then(|| abi::hash(&r.prevHash)),
            deactivated: r.deactivated,
        })
    }

    /// The DID's owner as verifiers see it: the first bound claim still active, or if
    /// every bound claim is deactivated, the last one (so the DID reads as deactivated).
    /// `None` when no claim is bound, however many accounts registered the DID.
    async fn owner(&self, did: &Did) -> Result<Option<(Address, ClaimState)>, AnchorError> {
        let mut last = None;
        for owner in self.bound_owners(did).await? {
            let state = self.claim_state(did, owner).await?;
            if state.version == 0 {
                continue; // a registration log without state: not this contract's
            }
            if !state.deactivated {
                return Ok(Some((owner, state)));
            }
            last = Some((owner, state));
        }
        Ok(last)
    }

    /// The first `log` (oldest first) of `topic0` whose claim is bound and that `hit`
    /// accepts: the DID (chain key) that wrote it. `decode` gives a log's (DID, account,
    /// items); logs that do not decode are passed over.
    async fn first_bound<T>(
        &self,
        topic0: B256,
        decode: impl Fn(&ChainLog) -> Option<(B256, Address, Vec<T>)>,
        hit: impl Fn(&T) -> bool,
    ) -> Result<Option<Hash32>, AnchorError> {
        let logs = self
            .exec
            .logs(LogQuery {
                topic0,
                topic1: None,
                from: 0,
                to: None,
            })
            .await?;
        let mut bound = BindingCache::default();
        for log in &logs {
            let Some((did, owner, items)) = decode(log) else {
                continue;
            };
            if items.iter().any(&hit) && bound.is_bound(&*self.exec, did, owner).await? {
                return Ok(Some(abi::hash(&did)));
            }
        }
        Ok(None)
    }
}

fn exec_domain<E: Executor>(exec: &E) -> Domain {
    Domain {
        chain_id: exec.chain_id(),
        contract: exec.contract(),
    }
}

/// Whether claims (DID chain key, account) are bound, looked up once each: a claim is
/// registered once, with one binding, so the answer never changes.
#[derive(Default)]
struct BindingCache {
    known: HashMap<(B256, Address), bool>,
}

/// Past this many claims the cache starts over, so a flood of squatters costs lookups,
/// not memory.
const BINDING_CACHE_MAX: usize = 4096;

impl BindingCache {
    async fn is_bound<E: Executor>(
        &mut self,
        exec: &E,
        did: B256,
        owner: Address,
    ) -> Result<bool, AnchorError> {
        if let Some(b) = self.known.get(&(did, owner)) {
            return Ok(*b);
        }
        let logs = exec
            .logs(LogQuery {
                topic0: TalosAnchor::DidRegistered::SIGNATURE_HASH,
                topic1: Some(did),
                from: 0,
                to: None,
            })
            .await?;
        let domain = exec_domain(exec);
        let bound = logs
            .iter()
            .filter_map(|log| decode_registration(log).ok())
            .find(|r| r.did == did && r.owner == owner)
            .is_some_and(|r| binding::verify(&r.binding, domain, &abi::hash(&did), owner).is_ok());
        if self.known.len() >= BINDING_CACHE_MAX {
            self.known.clear();
        }
        self.known.insert((did, owner), bound);
        Ok(bound)
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

mod anchor_impl;
