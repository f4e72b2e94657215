//! Transactions signed and sent but not yet confirmed, kept in RocksDB before they are
//! broadcast: after a crash they are broadcast again byte for byte, so each lands at
//! most once (its nonce makes a second copy invalid).

use alloy::primitives::{Address, B256, Bytes};
use rocksdb::{Direction, IteratorMode, WriteBatch};
use talos_store::Store;
use talos_store::db::CF_ANCHOR_PENDING;

use crate::error::AnchorError;

/// One pending transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) nonce: u64,
    pub(crate) hash: B256,
    /// The EIP-2718 signed envelope.
    pub(crate) raw: Bytes,
}

/// Key: `chain id(8) ‖ contract(20) ‖ sender(20) ‖ nonce(8)`, so one store can serve
/// several chains and accounts and a scan yields nonce order.
fn prefix(chain_id: u64, contract: Address, sender: Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(56);
    k.extend_from_slice(&chain_id.to_be_bytes());
    k.extend_from_slice(contract.as_slice());
    k.extend_from_slice(sender.as_slice());
    k
}

/// The pending set of one (chain, contract, sender).
#[derive(Clone, Debug)]
pub(crate) struct PendingSet {
    prefix: Vec<u8>,
}

impl PendingSet {
    pub(crate) fn new(chain_id: u64, contract: Address, sender: Address) -> Self {
        Self {
            prefix: prefix(chain_id, contract, sender),
        }
    }

    fn key(&self, nonce: u64) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(&nonce.to_be_bytes());
        k
    }

    /// Persists `p` (synced) before it is broadcast.
    pub(crate) fn put(&self, store: &Store, p: &Pending) -> Result<(), AnchorError> {
        let mut v = Vec::with_capacity(32 + p.raw.len());
        v.extend_from_slice(p.hash.as_slice());
        v.extend_from_slice(&p.raw);
        let mut batch = WriteBatch::default();
        batch.put_cf(store.cf(CF_ANCHOR_PENDING)?, self.key(p.nonce), v);
        store.write(batch, true)?;
        Ok(())
    }

    /// Forgets the transaction at `nonce` once it is confirmed (or superseded).
    pub(crate) fn remove(&self, store: &Store, nonce: u64) -> Result<(), AnchorError> {
        let mut batch = WriteBatch::default();
        batch.delete_cf(store.cf(CF_ANCHOR_PENDING)?, self.key(nonce));
        store.write(batch, true)?;
        Ok(())
    }

    /// Everything pending, lowest nonce first.
    pub(crate) fn all(&self, store: &Store) -> Result<Vec<Pending>, AnchorError> {
        let iter = store.db().iterator_cf(
            store.cf(CF_ANCHOR_PENDING)?,
            IteratorMode::From(&self.prefix, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(talos_store::StoreError::from)?;
            let Some(nonce) = k.strip_prefix(self.prefix.as_slice()) else {
                break;
            };
            let bad = || AnchorError::Malformed("pending transaction record".into());
            let nonce = <[u8; 8]>::try_from(nonce).map_err(|_| bad())?;
            let hash = v.get(..32).map(B256::from_slice).ok_or_else(bad)?;
            let raw = Bytes::copy_from_slice(v.get(32..).ok_or_else(bad)?);
            out.push(Pending {
                nonce: u64::from_be_bytes(nonce),
                hash,
                raw,
            });
        }
        Ok(out)
    }
}
