//! The [`Anchor`] trait over any EVM that runs the TalosAnchor contract. An [`Executor`]
//! moves calldata and logs (revm in-process, or JSON-RPC); everything about the contract
//! itself (encoding, decoding, history, the revocation watcher) is here, once.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, LogData, U256};
use alloy::sol_types::{SolCall, SolEvent};
use async_trait::async_trait;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32, TreeHead};
use tokio::sync::mpsc;

use crate::abi::{self, TalosAnchor};
use crate::backend::{Anchor, REVOCATION_STREAM_CAPACITY, RevocationStream};
use crate::error::AnchorError;
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
    /// `register(did, docHash)`.
    Register {
        /// DID.
        did: Did,
        /// Document hash.
        doc_hash: Hash32,
    },
    /// `rotate(did, newDocHash, newOwner)`.
    Rotate {
        /// DID.
        did: Did,
        /// New document hash.
        doc_hash: Hash32,
        /// New owner.
        owner: Address,
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
    /// ABI-encoded calldata. Batches outside 1..=512 are refused here, before any gas.
    pub fn encode(&self) -> Result<Bytes, AnchorError> {
        let k = |d: &Did| abi::word(&did_key(d));
        let data = match self {
            Call::Register { did, doc_hash } => TalosAnchor::registerCall {
                did: k(did),
                docHash: abi::word(doc_hash),
            }
            .abi_encode(),
            Call::Rotate {
                did,
                doc_hash,
                owner,
            } => TalosAnchor::rotateCall {
                did: k(did),
                newDocHash: abi::word(doc_hash),
                newOwner: *owner,
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

    /// The EIP-712 domain of this deployment.
    pub fn meta_domain(&self) -> crate::meta::Domain {
        crate::meta::Domain {
            chain_id: self.exec.chain_id(),
            contract: self.exec.contract(),
        }
    }

    async fn word_query(&self, data: Vec<u8>, what: &str) -> Result<Option<Hash32>, AnchorError> {
        let out = self.exec.call(data.into()).await?;
        let w =
            <alloy::sol_types::sol_data::FixedBytes<32> as alloy::sol_types::SolType>::abi_decode(
                &out,
            )
            .map_err(malformed(what))?;
        Ok((w != B256::ZERO).then(|| abi::hash(&w)))
    }
}

/// Decodes a `Revoked` log into the revocation event it records; logs of any other
/// shape, or ids that are not 16-byte capability ids, are [`AnchorError::Malformed`].
pub fn decode_revocation(log: &ChainLog) -> Result<RevocationEvent, AnchorError> {
    let ev =
        TalosAnchor::Revoked::decode_log_data(&log.log_data()).map_err(malformed("Revoked"))?;
    Ok(RevocationEvent {
        did: abi::hash(&ev.did),
        ids: ev.ids.iter().map(abi::word_id).collect::<Result<_, _>>()?,
        at: log.at(),
    })
}

#[async_trait]
impl<E: Executor> Anchor for ContractAnchor<E> {
    fn kind(&self) -> &'static str {
        self.exec.kind()
    }

    fn account(&self) -> Account {
        Account::Evm(self.exec.sender().into_array())
    }

    async fn register_did(&self, did: &Did, doc_hash: Hash32) -> Result<Inclusion, AnchorError> {
        self.send(Call::Register {
            did: *did,
            doc_hash,
        })
        .await
    }

    async fn rotate_did(
        &self,
        did: &Did,
        new_doc_hash: Hash32,
        new_owner: Option<Account>,
    ) -> Result<Inclusion, AnchorError> {
        let owner = match new_owner {
            None => self.exec.sender(),
            Some(Account::Evm(a)) => Address::from(a),
            Some(Account::Substrate(_)) => {
                return Err(AnchorError::Config(
                    "an EVM DID's owner must be an EVM account".into(),
                ));
            }
        };
        self.send(Call::Rotate {
            did: *did,
            doc_hash: new_doc_hash,
            owner,
        })
        .await
    }

    async fn deactivate_did(&self, did: &Did) -> Result<Inclusion, AnchorError> {
        self.send(Call::Deactivate { did: *did }).await
    }

    async fn resolve_did(&self, did: &Did) -> Result<Option<ChainDid>, AnchorError> {
        let data = TalosAnchor::resolveCall {
            did: abi::word(&did_key(did)),
        }
        .abi_encode();
        let out = self.exec.call(data.into()).await?;
        let r = TalosAnchor::resolveCall::abi_decode_returns(&out).map_err(malformed("resolve"))?;
        if r.owner == Address::ZERO {
            return Ok(None);
        }
        Ok(Some(ChainDid {
            owner: Account::Evm(r.owner.into_array()),
            version: r.version,
            doc_hash: abi::hash(&r.docHash),
            prev_hash: (r.prevHash != B256::ZERO).then(|| abi::hash(&r.prevHash)),
            deactivated: r.deactivated,
        }))
    }

    async fn commit(
        &self,
        did: &Did,
        commitments: &[Commitment],
    ) -> Result<Inclusion, AnchorError> {
        self.send(Call::Commit {
            did: *did,
            commitments: commitments.to_vec(),
        })
        .await
    }

    async fn committed_by(&self, commitment: &Commitment) -> Result<Option<Hash32>, AnchorError> {
        let data = TalosAnchor::committedByCall {
            commitment: abi::word(&commitment.0),
        }
        .abi_encode();
        self.word_query(data, "committedBy").await
    }

    async fn revoke(&self, did: &Did, ids: &[CapabilityId]) -> Result<Inclusion, AnchorError> {
        self.send(Call::Revoke {
            did: *did,
            ids: ids.to_vec(),
        })
        .await
    }

    async fn revoked_by(&self, id: &CapabilityId) -> Result<Option<Hash32>, AnchorError> {
        let data = TalosAnchor::revokedByCall {
            id: abi::id_word(id),
        }
        .abi_encode();
        self.word_query(data, "revokedBy").await
    }

    async fn anchor_root(&self, did: &Did, head: TreeHead) -> Result<Inclusion, AnchorError> {
        self.send(Call::AnchorRoot { did: *did, head }).await
    }

    async fn latest_root(&self, did: &Did) -> Result<Option<TreeHead>, AnchorError> {
        let data = TalosAnchor::latestRootCall {
            did: abi::word(&did_key(did)),
        }
        .abi_encode();
        let out = self.exec.call(data.into()).await?;
        let r = TalosAnchor::latestRootCall::abi_decode_returns(&out)
            .map_err(malformed("latestRoot"))?;
        if r.root == B256::ZERO {
            return Ok(None);
        }
        Ok(Some(TreeHead {
            size: u64::try_from(r.treeSize)
                .map_err(|_| AnchorError::Malformed("tree size over 2^64".into()))?,
            root: abi::hash(&r.root),
        }))
    }

    async fn root_at(&self, did: &Did, size: u64) -> Result<Option<AnchoredRoot>, AnchorError> {
        let logs = self
            .exec
            .logs(LogQuery {
                topic0: TalosAnchor::RootAnchored::SIGNATURE_HASH,
                topic1: Some(abi::word(&did_key(did))),
                from: 0,
                to: None,
            })
            .await?;
        for log in &logs {
            let ev = TalosAnchor::RootAnchored::decode_log_data(&log.log_data())
                .map_err(malformed("RootAnchored"))?;
            if ev.treeSize == U256::from(size) {
                return Ok(Some(AnchoredRoot {
                    head: TreeHead {
                        size,
                        root: abi::hash(&ev.root),
                    },
                    at: log.at(),
                }));
            }
        }
        Ok(None)
    }

    async fn revocations(&self, from_block: u64) -> Result<RevocationStream, AnchorError> {
        let (tx, rx) = mpsc::channel(REVOCATION_STREAM_CAPACITY);
        let exec = Arc::clone(&self.exec);
        tokio::spawn(async move {
            if let Err(e) = watch_revocations(&*exec, from_block, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(RevocationStream { rx })
    }

    async fn resume(&self) -> Result<usize, AnchorError> {
        self.exec.resume().await
    }
}

/// Feeds `tx` with every confirmed `Revoked` event from `from` on, until the receiver is
/// dropped. Sending waits when the receiver lags, so nothing is skipped.
async fn watch_revocations<E: Executor>(
    exec: &E,
    mut from: u64,
    tx: &mpsc::Sender<Result<RevocationEvent, AnchorError>>,
) -> Result<(), AnchorError> {
    let mut head = exec.head().await?;
    loop {
        if head >= from {
            let logs = exec
                .logs(LogQuery {
                    topic0: TalosAnchor::Revoked::SIGNATURE_HASH,
                    topic1: None,
                    from,
                    to: Some(head),
                })
                .await?;
            for log in &logs {
                if tx.send(decode_revocation(log)).await.is_err() {
                    return Ok(());
                }
            }
            from = head.saturating_add(1);
        }
        tokio::select! {
            () = tx.closed() => return Ok(()),
            next = exec.next_head(head) => head = next?,
        }
    }
}
