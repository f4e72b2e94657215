//! Submitting a transaction: signing it at a nonce, broadcasting it, waiting for its
//! confirmations, and resubmitting whatever a crash or an outage left pending. A
//! transaction is persisted between signing and broadcast, so a retry rebroadcasts the
//! same signed bytes (same nonce) rather than signing a second transaction.

use alloy::consensus::TxEnvelope;
use alloy::eips::BlockId;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{NetworkTransactionBuilder, ReceiptResponse, TransactionBuilder};
use alloy::primitives::Bytes;
use alloy::providers::Provider;
use talos_primitives::Hash32;

use super::EvmExecutor;
use super::pending::Pending;
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
        let fees = self
            .rpc(|| async { self.provider.estimate_eip1559_fees().await })
            .await?;
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
            hash: *envelope.tx_hash(),
            raw: Bytes::from(envelope.encoded_2718()),
        })
    }

    /// Broadcasts `p`; "already known" and similar answers mean it is in a mempool.
    pub(super) async fn broadcast(&self, p: &Pending) -> Result<(), AnchorError> {
        match self
            .rpc(|| async { self.provider.send_raw_transaction(&p.raw).await })
            .await
        {
            Ok(_) => Ok(()),
            Err(AnchorError::Rpc(msg)) if is_known(&msg) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits for `p`'s receipt and confirmations; on a failed receipt, finds the reason
    /// by replaying the call.
    pub(super) async fn confirm(
        &self,
        p: &Pending,
        data: Option<&Bytes>,
    ) -> Result<Inclusion, AnchorError> {
        let deadline = tokio::time::Instant::now() + self.cfg.confirm_timeout;
        loop {
            let receipt = self
                .rpc(|| async { self.provider.get_transaction_receipt(p.hash).await })
                .await?;
            if let Some(r) = receipt
                && let Some(block) = r.block_number()
                && self.latest().await?
                    >= block.saturating_add(self.cfg.confirmations.saturating_sub(1))
            {
                let at = Inclusion {
                    block,
                    tx: Hash32(p.hash.0),
                };
                if r.status() {
                    return Ok(at);
                }
                if let Some(data) = data
                    && let Err(e @ AnchorError::Revert(_)) = self.call(data.clone()).await
                {
                    return Err(e);
                }
                return Err(AnchorError::Failed { tx: at.tx });
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AnchorError::NotConfirmed {
                    tx: Hash32(p.hash.0),
                });
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    /// Rebroadcasts and confirms everything pending, lowest nonce first. Callers hold
    /// `submit`, or are the constructor.
    pub(super) async fn flush_pending(&self) -> Result<usize, AnchorError> {
        let all = self.pending.all(&self.store)?;
        for p in &all {
            let mined = self
                .rpc(|| async { self.provider.get_transaction_receipt(p.hash).await })
                .await?
                .is_some();
            if !mined {
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
                    // process with the same key): this one can never land.
                    tracing::warn!(tx = %p.hash, nonce = p.nonce, "pending transaction superseded");
                    self.pending.remove(&self.store, p.nonce)?;
                    continue;
                }
                self.broadcast(p).await?;
            }
            match self.confirm(p, None).await {
                Ok(at) => {
                    tracing::info!(tx = %p.hash, block = at.block, "pending transaction confirmed")
                }
                Err(AnchorError::Revert(_) | AnchorError::Failed { .. }) => {
                    tracing::warn!(tx = %p.hash, "pending transaction failed on chain");
                }
                Err(e) => return Err(e),
            }
            self.pending.remove(&self.store, p.nonce)?;
        }
        Ok(all.len())
    }
}

/// Node answers meaning "this exact transaction is already in the pool".
fn is_known(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("already known") || m.contains("already imported") || m.contains("known transaction")
}
