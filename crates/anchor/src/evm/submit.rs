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

    async fn fees(&self) -> Result<Eip1559Estimation, AnchorError> {
        self.rpc(|| async { self.provider.estimate_eip1559_fees().await })
            .await
    }

    /// Replaces `p` in the mempool: its newest version signed again at the same nonce,
    /// gas and call, with both fees raised to the market's estimate or by 12.5 %,
    /// whichever is higher (nodes take a replacement only if both rise by ≥ 10 %). The
    /// new version is persisted before it is broadcast. Returns false, changing nothing,
    /// once [`MAX_VERSIONS`] are signed: that bounds what a congested chain can cost.
    pub(super) async fn replace(&self, p: &mut Pending) -> Result<bool, AnchorError> {
        if p.versions.len() >= MAX_VERSIONS {
            return Ok(false);
        }
        let bad = || AnchorError::Malformed("pending transaction envelope".into());
        let mut raw = p.latest()?.raw.as_ref();
        let TxEnvelope::Eip1559(old) = TxEnvelope::decode_2718(&mut raw).map_err(|_| bad())? else {
            return Err(bad());
        };
        let market = self.fees().await?;
        let mut tx = old.tx().clone();
        tx.max_priority_fee_per_gas =
            bump(tx.max_priority_fee_per_gas, market.max_priority_fee_per_gas);
        tx.max_fee_per_gas =
            bump(tx.max_fee_per_gas, market.max_fee_per_gas).max(tx.max_priority_fee_per_gas);
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
        self.broadcast(p.latest()?).await?;
        Ok(true)
    }

    /// Broadcasts `s`; "already known" and similar answers mean it is in a mempool.
    pub(super) async fn broadcast(&self, s: &Signed) -> Result<(), AnchorError> {
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

/// Node answers meaning "this exact transaction is already in the pool".
fn is_known(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("already known") || m.contains("already imported") || m.contains("known transaction")
}
