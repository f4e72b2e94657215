//! The `substrate` backend: the talos pallets (`TalosDid`, `TalosAnchor`) on a talos
//! consortium chain (`talos-chain`), through subxt with the runtime's metadata.
//!
//! - The agent's Ed25519 identity key is its chain account, and it signs its own
//!   extrinsics ([`Ed25519Signer`]); the account must be a consortium member.
//! - A DID is the account of its key, so only `did:key` DIDs can be anchored here; the
//!   chain keys the trait hands out (revokers, committers) are mapped back to
//!   [`crate::did_key`] so callers compare them the same way on every backend.
//! - Writes return once their block is finalized (GRANDPA): nothing reported written can
//!   be reverted by a fork. Reads are at the latest finalized block.
//! - Transactions are submitted one at a time per backend (the nonce comes from the
//!   node's pool, so a second write need not wait for the first to finalize).

pub mod admin;
mod dispatch;
mod signer;
mod watch;

use std::time::Duration;

use async_trait::async_trait;
use subxt::config::{RpcConfigFor, SubstrateExtrinsicParamsBuilder};
use subxt::ext::frame_decode::storage::{IntoDecodableValues, IntoEncodableValues};
use subxt::ext::scale_decode::DecodeAsType;
use subxt::rpcs::{LegacyRpcMethods, RpcClient};
use subxt::utils::{AccountId32, H256};
use subxt::{OnlineClient, SubstrateConfig};
use talos_primitives::{CapabilityId, Commitment, Did, Ed25519Public, Hash32, TreeHead};

use crate::backend::{Anchor, RevocationStream};
use crate::contract::MAX_BATCH;
use crate::endpoint::{endpoint_of, scrub};
use crate::error::{AnchorError, Revert};
use crate::types::{Account, AnchoredRoot, ChainDid, Inclusion, did_key};
use dispatch::WriteCtx;
pub use signer::Ed25519Signer;

/// How long a write may take to reach a finalized block before it is reported
/// [`AnchorError::NotConfirmed`] (it may still land; every write is idempotent).
const FINALITY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to the node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Api = OnlineClient<SubstrateConfig>;

/// The talos pallets on a Substrate chain.
pub struct SubstrateAnchor {
    api: Api,
    rpc: LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>,
    signer: Ed25519Signer,
    endpoint: String,
    /// One submission at a time, so nonces are taken in order.
    submit: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SubstrateAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubstrateAnchor")
            .field("endpoint", &self.endpoint)
            .field("signer", &self.signer)
            .finish()
    }
}

/// A DID record as the pallet stores it (fields decoded by name).
#[derive(DecodeAsType, Debug)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct DidRecord {
    controller: AccountId32,
    doc_hash: H256,
    version: u32,
    prev: Option<H256>,
    endpoints: Vec<Vec<u8>>,
    deactivated: bool,
}

/// An audit head as the pallet stores it.
#[derive(DecodeAsType, Debug)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Head {
    size: u64,
    root: H256,
}

/// A root at one size and the block that anchored it.
#[derive(DecodeAsType, Debug)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Anchored {
    root: H256,
    block: u32,
}

/// subxt's errors can quote the node's URL (credentials, path, query): scrubbed.
fn rpc_err(e: impl std::fmt::Display) -> AnchorError {
    AnchorError::Rpc(scrub(&e.to_string()))
}

/// `TalosAnchor::Revoked`: (capability id, revoker) → the block it was revoked in.
fn revoked_map() -> subxt::storage::DynamicAddress<([u8; 16], AccountId32), u32> {
    subxt::dynamic::storage("TalosAnchor", "Revoked")
}

/// The chain account of a DID: its Ed25519 key.
fn account_of(did: &Did) -> Result<AccountId32, AnchorError> {
    match did.as_key() {
        Some(k) => Ok(AccountId32(*k.as_bytes())),
        None => Err(AnchorError::Config(
            "the substrate registry keys DIDs by their Ed25519 key: only did:key DIDs can be anchored there".into(),
        )),
    }
}

/// The trait's chain key for an account: `did_key` of its did:key. An account that is
/// not an Ed25519 point (an sr25519 administrator, say) cannot be a talos DID; its raw
/// bytes are returned, which match no DID's key.
pub(crate) fn did_key_of_account(account: &AccountId32) -> Hash32 {
    match Ed25519Public::from_bytes(account.0) {
        Ok(k) => did_key(&Did::from_key(k)),
        Err(_) => Hash32(account.0),
    }
}

fn check_batch(n: usize) -> Result<(), AnchorError> {
    if n == 0 || n > MAX_BATCH {
        return Err(AnchorError::BadBatch(n));
    }
    Ok(())
}

impl SubstrateAnchor {
    /// Connects to a talos-chain node's RPC (`ws://` or `wss://`) and writes as the
    /// agent whose Ed25519 seed is `seed`. Plain `ws://` is accepted on any host: a
    /// consortium's nodes usually sit on a private network.
    pub async fn connect(url: &str, seed: &[u8; 32]) -> Result<Self, AnchorError> {
        let endpoint = endpoint_of(url);
        let unavailable = |reason: String| AnchorError::Unavailable {
            endpoint: endpoint.clone(),
            attempts: 1,
            reason: scrub(&reason),
        };
        let rpc = tokio::time::timeout(CONNECT_TIMEOUT, RpcClient::from_insecure_url(url))
            .await
            .map_err(|_| unavailable("timed out".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        let api = tokio::time::timeout(CONNECT_TIMEOUT, Api::from_rpc_client(rpc.clone()))
            .await
            .map_err(|_| unavailable("timed out".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(Self {
            api,
            rpc: LegacyRpcMethods::new(rpc),
            signer: Ed25519Signer::from_seed(seed),
            endpoint,
            submit: tokio::sync::Mutex::new(()),
        })
    }

    fn ctx(&self, did: &Did, size: Option<u64>) -> WriteCtx {
        WriteCtx {
            did: did_key(did),
            sender: format!("0x{}", hex::encode(self.signer.public())),
            size,
        }
    }

    /// Signs, submits and waits for finality.
    async fn write<C: subxt::tx::Payload>(
        &self,
        call: C,
        ctx: WriteCtx,
    ) -> Result<Inclusion, AnchorError> {
        use subxt::tx::Signer as _;
        let progress = {
            let _one_at_a_time = self.submit.lock().await;
            let nonce = self
                .rpc
                .system_account_next_index(&self.signer.account_id())
                .await
                .map_err(rpc_err)?;
            let params = SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new()
                .nonce(nonce)
                .build();
            let mut txc = self.api.transactions().await.map_err(rpc_err)?;
            txc.sign_and_submit_then_watch(&call, &self.signer, params)
                .await
                .map_err(|e| dispatch::submit_error(&e.to_string(), &ctx))?
        };
        let tx = Hash32(progress.extrinsic_hash().0);
        let in_block =
            match tokio::time::timeout(FINALITY_TIMEOUT, progress.wait_for_finalized()).await {
                Err(_) => return Err(AnchorError::NotConfirmed { tx }),
                Ok(r) => r.map_err(|e| dispatch::submit_error(&e.to_string(), &ctx))?,
            };
        let block = in_block.at().await.map_err(rpc_err)?.block_number();
        match in_block.wait_for_success().await {
            Ok(_) => Ok(Inclusion { block, tx }),
            Err(subxt::error::TransactionEventsError::ExtrinsicFailed(e)) => {
                Err(dispatch::dispatch_error(e, &ctx))
            }
            Err(e) => Err(rpc_err(e)),
        }
    }

    async fn fetch<K, V>(&self, pallet: &str, entry: &str, key: K) -> Result<Option<V>, AnchorError>
    where
        K: IntoEncodableValues + IntoDecodableValues,
        V: DecodeAsType,
    {
        let at = self.api.at_current_block().await.map_err(rpc_err)?;
        let addr = subxt::dynamic::storage::<K, V>(pallet, entry);
        match at.storage().try_fetch(addr, key).await.map_err(rpc_err)? {
            Some(v) => Ok(Some(
                v.decode()
                    .map_err(|e| AnchorError::Malformed(e.to_string()))?,
            )),
            None => Ok(None),
        }
    }

    async fn record(&self, did: &Did) -> Result<Option<DidRecord>, AnchorError> {
        self.fetch("TalosDid", "Dids", (account_of(did)?,)).await
    }
}

#[async_trait]
impl Anchor for SubstrateAnchor {
    fn kind(&self) -> &'static str {
        "substrate"
    }

    fn account(&self) -> Account {
        Account::Substrate(self.signer.public())
    }

    async fn register_did(
        &self,
        key: &talos_identity::IdentityKey,
        doc_hash: Hash32,
    ) -> Result<Inclusion, AnchorError> {
        // The pallet registers the signing account itself: no binding needed.
        let did = &key.did();
        if account_of(did)?.0 != self.signer.public() {
            return Err(AnchorError::Config(
                "on the substrate registry a DID registers itself: sign with the DID's own key"
                    .into(),
            ));
        }
        let call = subxt::dynamic::tx(
            "TalosDid",
            "register",
            (H256(doc_hash.0), Vec::<Vec<u8>>::new()),
        );
        self.write(call, self.ctx(did, None)).await
    }

    async fn rotate_did(
        &self,
        did: &Did,
        new_doc_hash: Hash32,
        new_owner: Option<Account>,
    ) -> Result<Inclusion, AnchorError> {
        let account = account_of(did)?;
        let ctx = self.ctx(did, None);
        match new_owner {
            Some(Account::Substrate(k)) => {
                let call = subxt::dynamic::tx(
                    "TalosDid",
                    "rotate",
                    (account, AccountId32(k), H256(new_doc_hash.0)),
                );
                self.write(call, ctx).await
            }
            Some(Account::Evm(_)) => Err(AnchorError::Config(
                "a substrate DID cannot be handed to an EVM account".into(),
            )),
            None => {
                // `update` replaces the endpoints; keep the current ones.
                let endpoints = self
                    .record(did)
                    .await?
                    .map(|r| r.endpoints)
                    .unwrap_or_default();
                let call = subxt::dynamic::tx(
                    "TalosDid",
                    "update",
                    (account, H256(new_doc_hash.0), endpoints),
                );
                self.write(call, ctx).await
            }
        }
    }

    async fn deactivate_did(&self, did: &Did) -> Result<Inclusion, AnchorError> {
        let call = subxt::dynamic::tx("TalosDid", "deactivate", (account_of(did)?,));
        self.write(call, self.ctx(did, None)).await
    }

    async fn resolve_did(&self, did: &Did) -> Result<Option<ChainDid>, AnchorError> {
        Ok(self.record(did).await?.map(|r| ChainDid {
            owner: Account::Substrate(r.controller.0),
            version: r.version,
            doc_hash: Hash32(r.doc_hash.0),
            prev_hash: r.prev.map(|h| Hash32(h.0)),
            deactivated: r.deactivated,
        }))
    }

    async fn commit(
        &self,
        did: &Did,
        commitments: &[Commitment],
    ) -> Result<Inclusion, AnchorError> {
        check_batch(commitments.len())?;
        let hashes: Vec<H256> = commitments.iter().map(|c| H256(c.0.0)).collect();
        let call = subxt::dynamic::tx("TalosAnchor", "commit", (account_of(did)?, hashes));
        self.write(call, self.ctx(did, None)).await
    }

    async fn committed_by(&self, commitment: &Commitment) -> Result<Option<Hash32>, AnchorError> {
        let by: Option<AccountId32> = self
            .fetch("TalosAnchor", "Commitments", (H256(commitment.0.0),))
            .await?;
        Ok(by.as_ref().map(did_key_of_account))
    }

    async fn revoke(&self, did: &Did, ids: &[CapabilityId]) -> Result<Inclusion, AnchorError> {
        check_batch(ids.len())?;
        let ids: Vec<[u8; 16]> = ids.iter().map(|i| i.0).collect();
        let call = subxt::dynamic::tx("TalosAnchor", "revoke", (account_of(did)?, ids));
        self.write(call, self.ctx(did, None)).await
    }

    /// The pallet keeps every revoker of an id with its block: the earliest is named
    /// (of several in one block, the smallest key), as the EVM backend names the first.
    async fn revoked_by(&self, id: &CapabilityId) -> Result<Option<Hash32>, AnchorError> {
        let at = self.api.at_current_block().await.map_err(rpc_err)?;
        let mut entries = at
            .storage()
            .iter(revoked_map(), (id.0,))
            .await
            .map_err(rpc_err)?;
        let mut first: Option<(u32, [u8; 32])> = None;
        while let Some(kv) = entries.next().await {
            let kv = kv.map_err(rpc_err)?;
            let (_, revoker) = kv
                .key()
                .and_then(|k| k.decode())
                .map_err(|e| AnchorError::Malformed(e.to_string()))?;
            let block = kv
                .value()
                .decode()
                .map_err(|e| AnchorError::Malformed(e.to_string()))?;
            let this = (block, revoker.0);
            if first.is_none_or(|f| this < f) {
                first = Some(this);
            }
        }
        Ok(first.map(|(_, by)| did_key_of_account(&AccountId32(by))))
    }

    async fn anchor_root(&self, did: &Did, head: TreeHead) -> Result<Inclusion, AnchorError> {
        let call = subxt::dynamic::tx(
            "TalosAnchor",
            "anchor_root",
            (account_of(did)?, head.size, H256(head.root.0)),
        );
        match self.write(call, self.ctx(did, Some(head.size))).await {
            // The pallet's error has no fields: read the anchored size to report it.
            Err(AnchorError::Revert(Revert::TreeSizeShrinks {
                did: key, given, ..
            })) => {
                let current = self.latest_root(did).await?.map_or(0, |h| h.size);
                Err(AnchorError::Revert(Revert::TreeSizeShrinks {
                    did: key,
                    current,
                    given,
                }))
            }
            other => other,
        }
    }

    async fn latest_root(&self, did: &Did) -> Result<Option<TreeHead>, AnchorError> {
        let head: Option<Head> = self
            .fetch("TalosAnchor", "Heads", (account_of(did)?,))
            .await?;
        Ok(head.map(|h| TreeHead {
            size: h.size,
            root: Hash32(h.root.0),
        }))
    }

    async fn root_at(&self, did: &Did, size: u64) -> Result<Option<AnchoredRoot>, AnchorError> {
        let account = account_of(did)?;
        let at = self.api.at_current_block().await.map_err(rpc_err)?;
        let addr = subxt::dynamic::storage::<(AccountId32, u64), Anchored>("TalosAnchor", "RootAt");
        let Some(v) = at
            .storage()
            .try_fetch(addr, (account, size))
            .await
            .map_err(rpc_err)?
        else {
            return Ok(None);
        };
        let anchored = v
            .decode()
            .map_err(|e| AnchorError::Malformed(e.to_string()))?;
        let block = u64::from(anchored.block);
        let tx = watch::anchoring_tx(&self.api, block, &account, size).await?;
        Ok(Some(AnchoredRoot {
            head: TreeHead {
                size,
                root: Hash32(anchored.root.0),
            },
            at: Inclusion { block, tx },
        }))
    }

    async fn revocations(&self, from_block: u64) -> Result<RevocationStream, AnchorError> {
        watch::revocations(self.api.clone(), from_block).await
    }

    // Nothing is kept pending across restarts: a write that was cut off before its
    // finality was reported returned an error, and the caller (the node's anchoring
    // queue) retries it; every pallet write is idempotent.
    async fn resume(&self) -> Result<usize, AnchorError> {
        Ok(0)
    }
}
