//! Submitting a transaction: signing it at a nonce, broadcasting it, waiting for its
//! confirmations, and resubmitting whatever a crash or an outage left pending. A
//! transaction is persisted between signing and broadcast, so a retry rebroadcasts the
//! same signed bytes (same nonce) rather than signing a second transaction. A transaction
//! left unmined for `bump_after_blocks` blocks is replaced at the same nonce with higher
//! fees, so a base fee that climbs through a run of full blocks cannot strand it.

use alloy::consensus::{TxEnvelope, TypedTransaction};
use alloy::eips::BlockId;
use alloy::eips::eip1559::Eip1559Estimation;
use alloy::eips::eip2718::{Decodable2718, Encodable2718};
use alloy::network::{
    Ethereum, NetworkTransactionBuilder, NetworkWallet, ReceiptResponse, TransactionBuilder,
};
use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use talos_primitives::Hash32;

use super::EvmExecutor;
use super::pending::{MAX_VERSIONS, Pending, Signed};
use crate::contract::Executor;
use crate::error::AnchorError;
use crate::types::Inclusion;

impl EvmExecutor {
    /// Signs `data` at `nonce`; the gas limit comes from an estimate, which also surfaces
    /// a revert before anything is sent.
    pub(super) async fn sign(&self, data: Bytes, nonce: u64) -> Result<Pending, AnchorError> {
        let req = self.request(data);
        let gas = self
            .rpc(|| async {
                self.provider
                    .estimate_gas(req.clone())
                    .block(BlockId::latest())
                    .await
            })
            .await?;
        let fees = self.fees().await?;
        let tx = req
            .with_nonce(nonce)
            .with_chain_id(self.chain_id)
            // Headroom: state can change between the estimate and inclusion.
            .with_gas_limit(gas.saturating_add(gas / 5).saturating_add(10_000))
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let envelope: TxEnvelope = tx
            .build(&self.wallet)
            .await
            .map_err(|e| AnchorError::Config(format!("signing a transaction: {e}")))?;
        Ok(Pending {
            nonce,
            versions: vec![signed(&envelope)],
        })
    }

    /// The market's fees, held under the configured cap.
    async fn fees(&self) -> Result<Eip1559Estimation, AnchorError> {
        let mut f = self
            .rpc(|| async { self.provider.estimate_eip1559_fees().await })
            .await?;
        if let Some(cap) = self.cfg.max_fee_per_gas {
            f.max_fee_per_gas = f.max_fee_per_gas.min(cap);
            f.max_priority_fee_per_gas = f.max_priority_fee_per_gas.min(f.max_fee_per_gas);
        }
        Ok(f)
    }

    /// Replaces `p` in the mempool: its newest version signed again at the same nonce,
    /// gas and call, with both fees raised to the market's estimate or by 12.5 %,
    /// whichever is higher (nodes take a replacement only if both rise by ≥ 10 %). The
    /// new version is persisted before it is broadcast. Returns false, signing nothing
    /// and offering the newest version again, once [`MAX_VERSIONS`] are signed: that
    /// bounds what a congested chain can cost.
    pub(super) async fn replace(&self, p: &mut Pending) -> Result<bool, AnchorError> {
        if p.versions.len() >= MAX_VERSIONS {
            // Offered again, as at the cap: a version refused while the base fee was
            // above it must reach the pool once the base fee falls.
            self.offer(p.latest()?).await?;
            return Ok(false);
        }
        let bad = || AnchorError::Malformed("pending transaction envelope".into());
        let mut raw = p.latest()?.raw.as_ref();
        let TxEnvelope::Eip1559(old) = TxEnvelope::decode_2718(&mut raw).map_err(|_| bad())? else {
            return Err(bad());
        };
        let market = self.fees().await?;
        let mut tx = old.tx().clone();
        let Some((max_fee, tip)) = replacement_fees(
            (tx.max_fee_per_gas, tx.max_priority_fee_per_gas),
            (market.max_fee_per_gas, market.max_priority_fee_per_gas),
            self.cfg.max_fee_per_gas,
        ) else {
            tracing::warn!(
                nonce = p.nonce,
                "a pending transaction is at the fee cap: it waits for the base fee to fall"
            );
            // Offered again: a node may refuse it while the base fee is above it, and
            // take it once the base fee falls.
            self.offer(p.latest()?).await?;
            return Ok(false);
        };
        (tx.max_fee_per_gas, tx.max_priority_fee_per_gas) = (max_fee, tip);
        let envelope = NetworkWallet::<Ethereum>::sign_transaction_from(
            &self.wallet,
            self.sender,
            TypedTransaction::Eip1559(tx),
        )
        .await
        .map_err(|e| AnchorError::Config(format!("signing a transaction: {e}")))?;
        p.versions.push(signed(&envelope));
        self.pending.put(&self.store, p)?;
        tracing::info!(
            tx = %envelope.tx_hash(),
            nonce = p.nonce,
            version = p.versions.len(),
            "replacing a pending transaction with higher fees"
        );
        self.offer(p.latest()?).await?;
        Ok(true)
    }

    /// Broadcasts `s`, taking a refusal for a fee under the base fee as "not yet": the
    /// version is persisted and is offered again, or replaced, while it waits.
    pub(super) async fn offer(&self, s: &Signed) -> Result<(), AnchorError> {
        match self.broadcast(s).await {
            Err(AnchorError::Rpc(reason)) if is_fee_too_low(&reason) => {
                tracing::debug!(tx = %s.hash, %reason, "broadcast refused for now");
                Ok(())
            }
            other => other,
        }
    }

    /// Broadcasts `s`; "already known" and similar answers mean it is in a mempool.
    async fn broadcast(&self, s: &Signed) -> Result<(), AnchorError> {
        match self
            .rpc(|| async { self.provider.send_raw_transaction(&s.raw).await })
            .await
        {
            Ok(_) => Ok(()),
            Err(AnchorError::Rpc(msg)) if is_known(&msg) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The receipt of whichever version of `p` was mined, newest first.
    async fn receipt(
        &self,
        p: &Pending,
    ) -> Result<Option<(TransactionReceipt, B256)>, AnchorError> {
        for v in p.versions.iter().rev() {
            let r = self
                .rpc(|| async { self.provider.get_transaction_receipt(v.hash).await })
                .await?;
            if let Some(r) = r {
                return Ok(Some((r, v.hash)));
            }
        }
        Ok(None)
    }

    /// Waits for `p`'s receipt and confirmations, replacing it with higher fees after
    /// every `bump_after_blocks` blocks it is not mined in; on a failed receipt, finds
    /// the reason by replaying the call.
    pub(super) async fn confirm(
        &self,
        p: &mut Pending,
        data: Option<&Bytes>,
    ) -> Result<Inclusion, AnchorError> {
        let deadline = tokio::time::Instant::now() + self.cfg.confirm_timeout;
        let mut waiting_since = self.latest().await?;
        loop {
            let latest = self.latest().await?;
            match self.receipt(p).await? {
                Some((r, hash)) => {
                    if let Some(block) = r.block_number()
                        && latest >= block.saturating_add(self.cfg.confirmations.saturating_sub(1))
                    {
                        return self.settled(&r, block, hash, data).await;
                    }
                }
                None if latest
                    >= waiting_since.saturating_add(self.cfg.bump_after_blocks.max(1)) =>
                {
                    // Not mined for that many blocks: its fee fell behind the base fee
                    // (which rises 12.5 % per full block) or others outbid it.
                    self.replace(p).await?;
                    waiting_since = latest;
                }
                None => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AnchorError::NotConfirmed {
                    tx: Hash32(p.latest()?.hash.0),
                });
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    /// The outcome of a mined, confirmed receipt.
    async fn settled(
        &self,
        r: &TransactionReceipt,
        block: u64,
        hash: B256,
        data: Option<&Bytes>,
    ) -> Result<Inclusion, AnchorError> {
        let at = Inclusion {
            block,
            tx: Hash32(hash.0),
        };
        if r.status() {
            return Ok(at);
        }
        if let Some(data) = data
            && let Err(e @ AnchorError::Revert(_)) = self.call(data.clone()).await
        {
            return Err(e);
        }
        Err(AnchorError::Failed { tx: at.tx })
    }

    /// Rebroadcasts and confirms everything pending, lowest nonce first. Callers hold
    /// `submit`, or are the constructor.
    pub(super) async fn flush_pending(&self) -> Result<usize, AnchorError> {
        let all = self.pending.all(&self.store)?;
        let n = all.len();
        for mut p in all {
            if self.receipt(&p).await?.is_none() {
                let chain_nonce = self
                    .rpc(|| async {
                        self.provider
                            .get_transaction_count(self.sender)
                            .latest()
                            .await
                    })
                    .await?;
                if chain_nonce > p.nonce {
                    // Our nonce went to another transaction of this account (another
                    // process with the same key): none of ours can land.
                    tracing::warn!(tx = %p.latest()?.hash, nonce = p.nonce, "pending transaction superseded");
                    self.pending.remove(&self.store, &p)?;
                    continue;
                }
                match self.broadcast(p.latest()?).await {
                    Ok(()) => {}
                    // Refused now, most often because the base fee rose past its fee cap
                    // while we were down: sign it again above the market.
                    Err(AnchorError::Rpc(reason)) if self.replace(&mut p).await? => {
                        tracing::info!(nonce = p.nonce, %reason, "rebroadcast refused; replaced");
                    }
                    // At the fee cap: it waits (offered again) for the base fee to fall.
                    Err(AnchorError::Rpc(reason)) if is_fee_too_low(&reason) => {}
                    Err(e) => return Err(e),
                }
            }
            match self.confirm(&mut p, None).await {
                Ok(at) => {
                    tracing::info!(tx = %at.tx, block = at.block, "pending transaction confirmed")
                }
                Err(AnchorError::Revert(_) | AnchorError::Failed { .. }) => {
                    tracing::warn!(nonce = p.nonce, "pending transaction failed on chain");
                }
                Err(e) => return Err(e),
            }
            self.pending.remove(&self.store, &p)?;
        }
        Ok(n)
    }
}

fn signed(envelope: &TxEnvelope) -> Signed {
    Signed {
        hash: *envelope.tx_hash(),
        raw: Bytes::from(envelope.encoded_2718()),
    }
}

/// The replacement fee: `old` raised by 12.5 % (rounded up, at least 1 wei), or the
/// market's `estimate` if that is higher.
fn bump(old: u128, estimate: u128) -> u128 {
    let raised = old
        .saturating_add(old.div_ceil(8))
        .max(old.saturating_add(1));
    raised.max(estimate)
}

/// The fees `(max fee, tip)` of a replacement for a transaction signed at `old`, given
/// the market's estimate: each raised by [`bump`], the max fee at least the tip, both
/// held under `cap`. `None` when the cap leaves either less than 10 % above the old one,
/// which nodes refuse as a replacement ("replacement transaction underpriced").
pub(crate) fn replacement_fees(
    old: (u128, u128),
    market: (u128, u128),
    cap: Option<u128>,
) -> Option<(u128, u128)> {
    let cap = cap.unwrap_or(u128::MAX);
    let tip = bump(old.1, market.1).min(cap);
    let max_fee = bump(old.0, market.0).max(tip).min(cap);
    let enough = |new: u128, old: u128| new >= old.saturating_add(old.div_ceil(10));
    (enough(max_fee, old.0) && enough(tip, old.1)).then_some((max_fee, tip))
}

/// Node answers meaning "this fee is under the current base fee" (geth's and anvil's
/// `ErrFeeCapTooLow`, and pools that call it underpriced).
fn is_fee_too_low(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("less than block base fee")
        || m.contains("fee cap too low")
        || m.contains("underpriced")
}

/// Node answers meaning "this exact transaction is already in the pool".
fn is_known(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("already known") || m.contains("already imported") || m.contains("known transaction")
}

#[cfg(test)]
mod tests {
    use super::replacement_fees;
    use proptest::prelude::*;

    const GWEI: u128 = 1_000_000_000;

    #[test]
    fn the_cap_holds_a_replacement_then_stops_it() {
        // The market far above the cap: the first replacement is signed at the cap...
        let first = replacement_fees((2 * GWEI, GWEI), (2_000 * GWEI, GWEI), Some(20 * GWEI));
        assert_eq!(first, Some((20 * GWEI, GWEI + GWEI / 8)));
        // ...and none after it, since the cap leaves no 10 % raise.
        let (max, tip) = first.unwrap();
        assert_eq!(
            replacement_fees((max, tip), (2_000 * GWEI, GWEI), Some(20 * GWEI)),
            None
        );
        // Without a cap the market wins.
        assert_eq!(
            replacement_fees((2 * GWEI, GWEI), (2_000 * GWEI, GWEI), None),
            Some((2_000 * GWEI, GWEI + GWEI / 8))
        );
    }

    proptest! {
        #[test]
        fn a_replacement_is_never_above_the_cap_and_always_replaceable(
            old_max in 0u128..1 << 80,
            old_tip in 0u128..1 << 80,
            market_max in 0u128..1 << 80,
            market_tip in 0u128..1 << 80,
            cap in proptest::option::of(0u128..1 << 80),
        ) {
            let old_tip = old_tip.min(old_max);
            match replacement_fees((old_max, old_tip), (market_max, market_tip), cap) {
                Some((max, tip)) => {
                    prop_assert!(tip <= max);
                    prop_assert!(cap.is_none_or(|c| max <= c));
                    prop_assert!(max >= old_max + old_max.div_ceil(10));
                    prop_assert!(tip >= old_tip + old_tip.div_ceil(10));
                }
                // Only a cap can stop a replacement.
                None => prop_assert!(cap.is_some()),
            }
        }
    }
}
