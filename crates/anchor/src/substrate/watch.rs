//! Reading history: the revocation stream and the extrinsic that anchored a root.
//!
//! A Substrate node has no log index like an EVM's `eth_getLogs`, and a pruned node
//! keeps state for recent blocks only. So a revocation stream starts from the chain's
//! state (the `Revoked` map holds every revocation ever made, keyed by (id, revoker):
//! every revoker of an id, not only the first, so a squatter who revoked an issuer's id
//! first cannot hide the issuer's revocation from a restarted follower) at the
//! finalized head, then follows finalized blocks' events. A stream asked to start at or
//! below the head gets that snapshot (a superset of what it asked for: revocations are
//! permanent and idempotent, so repeating one is harmless).

use std::collections::BTreeMap;

use subxt::ext::scale_decode::DecodeAsType;
use subxt::utils::AccountId32;
use talos_primitives::{CapabilityId, Hash32};
use tokio::sync::mpsc;

use super::{Api, did_key_of_account, rpc_err};
use crate::backend::{REVOCATION_STREAM_CAPACITY, RevocationStream};
use crate::contract::MAX_BATCH;
use crate::error::AnchorError;
use crate::types::{Inclusion, RevocationEvent};

/// `TalosAnchor::Revoked { did, ids }`.
#[derive(DecodeAsType, Debug)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct RevokedEvent {
    did: AccountId32,
    ids: Vec<[u8; 16]>,
}

/// `TalosAnchor::RootAnchored { did, size, root }`.
#[derive(DecodeAsType, Debug)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct RootAnchoredEvent {
    did: AccountId32,
    size: u64,
}

type Tx = mpsc::Sender<Result<RevocationEvent, AnchorError>>;

/// Starts the watcher; see the module docs for what it yields.
pub(super) async fn revocations(
    api: Api,
    from_block: u64,
) -> Result<RevocationStream, AnchorError> {
    // Subscribe before taking the snapshot, so no block falls between the two.
    let blocks = api.stream_blocks().await.map_err(rpc_err)?;
    let (tx, rx) = mpsc::channel(REVOCATION_STREAM_CAPACITY);
    tokio::spawn(async move {
        if let Err(e) = follow(api, blocks, from_block, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    Ok(RevocationStream { rx })
}

async fn follow(
    api: Api,
    mut blocks: subxt::client::Blocks<subxt::SubstrateConfig>,
    from_block: u64,
    tx: &Tx,
) -> Result<(), AnchorError> {
    let at = api.at_current_block().await.map_err(rpc_err)?;
    let head = at.block_number();
    let mut next = from_block;
    if from_block <= head {
        snapshot(&at, head, tx).await?;
        next = head.saturating_add(1);
    }
    while let Some(block) = blocks.next().await {
        let block = block.map_err(rpc_err)?;
        if block.number() < next {
            continue;
        }
        let at = block.at().await.map_err(rpc_err)?;
        let events = at.events().fetch().await.map_err(rpc_err)?;
        for ev in events.iter() {
            let ev = ev.map_err(rpc_err)?;
            if ev.pallet_name() != "TalosAnchor" || ev.event_name() != "Revoked" {
                continue;
            }
            let r: RevokedEvent = ev
                .decode_fields_unchecked_as()
                .map_err(|e| AnchorError::Malformed(e.to_string()))?;
            let txh = match ev.phase() {
                subxt::events::Phase::ApplyExtrinsic(i) => extrinsic_hash(&at, i).await?,
                _ => Hash32([0; 32]),
            };
            let event = RevocationEvent {
                did: did_key_of_account(&r.did),
                ids: r.ids.into_iter().map(CapabilityId).collect(),
                at: Inclusion {
                    block: block.number(),
                    tx: txh,
                },
            };
            if tx.send(Ok(event)).await.is_err() {
                return Ok(()); // the consumer is gone
            }
        }
        next = block.number().saturating_add(1);
    }
    Err(AnchorError::Rpc(
        "the chain's block subscription ended".into(),
    ))
}

/// Every revocation in state at `head`: each (id, revoker) entry of the `Revoked` double
/// map, grouped by revoker (an id revoked by several DIDs is in each one's group), in
/// batches of at most [`MAX_BATCH`]. Dated `head` (so a follower's cursor never moves
/// back); their transaction hash is unknown from state and given as zero.
async fn snapshot(
    at: &subxt::client::ClientAtBlock<
        subxt::SubstrateConfig,
        subxt::client::OnlineClientAtBlockImpl<subxt::SubstrateConfig>,
    >,
    head: u64,
    tx: &Tx,
) -> Result<(), AnchorError> {
    let addr = super::revoked_map();
    let mut entries = at.storage().iter(addr, ()).await.map_err(rpc_err)?;
    let mut by: BTreeMap<[u8; 32], Vec<CapabilityId>> = BTreeMap::new();
    while let Some(kv) = entries.next().await {
        let kv = kv.map_err(rpc_err)?;
        // The key alone says who revoked what; the value (its block) is not needed.
        let (id, revoker) = kv
            .key()
            .and_then(|k| k.decode())
            .map_err(|e| AnchorError::Malformed(e.to_string()))?;
        by.entry(revoker.0).or_default().push(CapabilityId(id));
    }
    for (revoker, ids) in by {
        for chunk in ids.chunks(MAX_BATCH) {
            let event = RevocationEvent {
                did: did_key_of_account(&AccountId32(revoker)),
                ids: chunk.to_vec(),
                at: Inclusion {
                    block: head,
                    tx: Hash32([0; 32]),
                },
            };
            if tx.send(Ok(event)).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

async fn extrinsic_hash(
    at: &subxt::client::ClientAtBlock<
        subxt::SubstrateConfig,
        subxt::client::OnlineClientAtBlockImpl<subxt::SubstrateConfig>,
    >,
    index: u32,
) -> Result<Hash32, AnchorError> {
    let exts = at.extrinsics().fetch().await.map_err(rpc_err)?;
    let found = exts
        .iter()
        .nth(index as usize)
        .ok_or_else(|| AnchorError::Malformed(format!("no extrinsic {index} in the block")))?
        .map_err(|e| AnchorError::Malformed(e.to_string()))?;
    Ok(Hash32(found.hash().0))
}

/// The extrinsic in block `block` whose `RootAnchored` event is for (`did`, `size`).
pub(super) async fn anchoring_tx(
    api: &Api,
    block: u64,
    did: &AccountId32,
    size: u64,
) -> Result<Hash32, AnchorError> {
    let at = api.at_block(block).await.map_err(rpc_err)?;
    let events = at.events().fetch().await.map_err(rpc_err)?;
    for ev in events.iter() {
        let ev = ev.map_err(rpc_err)?;
        if ev.pallet_name() != "TalosAnchor" || ev.event_name() != "RootAnchored" {
            continue;
        }
        let r: RootAnchoredEvent = ev
            .decode_fields_unchecked_as()
            .map_err(|e| AnchorError::Malformed(e.to_string()))?;
        if &r.did == did
            && r.size == size
            && let subxt::events::Phase::ApplyExtrinsic(i) = ev.phase()
        {
            return extrinsic_hash(&at, i).await;
        }
    }
    Err(AnchorError::Malformed(format!(
        "block {block} holds no RootAnchored event for this DID at size {size}"
    )))
}
