//! Transactions signed and sent but not yet confirmed, kept in RocksDB before they are
//! broadcast: after a crash they are broadcast again byte for byte, so each lands at
//! most once (its nonce makes a second copy invalid).
//!
//! A transaction whose fee fell behind the chain's base fee is replaced: signed again at
//! the same nonce with higher fees (see `submit`). Every signed version is kept until the
//! nonce is confirmed, because any one of them may be the one mined, and a version we
//! forgot would make our own landed write look superseded.

use alloy::primitives::{Address, B256, Bytes};
use rocksdb::{Direction, IteratorMode, WriteBatch};
use talos_store::Store;
use talos_store::db::CF_ANCHOR_PENDING;

use crate::error::AnchorError;

/// Signed versions kept per nonce, the first included: at most this many fee bumps
/// happen (each at least 12.5 %, so the last pays at most ≈5.8× the first's fee, or the
/// market's estimate if that is higher).
pub(crate) const MAX_VERSIONS: usize = 16;

/// One signed version of a pending transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) hash: B256,
    /// The EIP-2718 signed envelope.
    pub(crate) raw: Bytes,
}

/// One pending transaction: its nonce and every version signed at it, oldest first
/// (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) nonce: u64,
    pub(crate) versions: Vec<Signed>,
}

impl Pending {
    /// The newest version: the one the mempool holds.
    pub(crate) fn latest(&self) -> Result<&Signed, AnchorError> {
        self.versions
            .last()
            .ok_or_else(|| AnchorError::Malformed("pending transaction without a version".into()))
    }
}

/// Key: `chain id(8) ‖ contract(20) ‖ sender(20) ‖ nonce(8)`, so one store can serve
/// several chains and accounts and a scan yields nonce order.
fn prefix(chain_id: u64, contract: Address, sender: Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(57);
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

    /// Version 0 sits at `prefix ‖ nonce` (the layout before replacements existed, so
    /// older stores still read); version v > 0 at `prefix ‖ nonce ‖ v`, which sorts right
    /// after it and before the next nonce.
    fn key(&self, nonce: u64, version: usize) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(&nonce.to_be_bytes());
        if version > 0 {
            k.push(u8::try_from(version).unwrap_or(u8::MAX));
        }
        k
    }

    /// Persists `p`'s newest version (synced) before it is broadcast.
    pub(crate) fn put(&self, store: &Store, p: &Pending) -> Result<(), AnchorError> {
        let version = p.versions.len().saturating_sub(1);
        let s = p.latest()?;
        let mut v = Vec::with_capacity(32 + s.raw.len());
        v.extend_from_slice(s.hash.as_slice());
        v.extend_from_slice(&s.raw);
        let mut batch = WriteBatch::default();
        batch.put_cf(store.cf(CF_ANCHOR_PENDING)?, self.key(p.nonce, version), v);
        store.write(batch, true)?;
        Ok(())
    }

    /// Forgets every version at `p.nonce` once it is confirmed (or superseded).
    pub(crate) fn remove(&self, store: &Store, p: &Pending) -> Result<(), AnchorError> {
        let cf = store.cf(CF_ANCHOR_PENDING)?;
        let mut batch = WriteBatch::default();
        for version in 0..p.versions.len() {
            batch.delete_cf(cf, self.key(p.nonce, version));
        }
        store.write(batch, true)?;
        Ok(())
    }

    /// Everything pending, lowest nonce first.
    pub(crate) fn all(&self, store: &Store) -> Result<Vec<Pending>, AnchorError> {
        let iter = store.db().iterator_cf(
            store.cf(CF_ANCHOR_PENDING)?,
            IteratorMode::From(&self.prefix, Direction::Forward),
        );
        let mut out: Vec<Pending> = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(talos_store::StoreError::from)?;
            let Some(rest) = k.strip_prefix(self.prefix.as_slice()) else {
                break;
            };
            let bad = || AnchorError::Malformed("pending transaction record".into());
            let nonce = rest.get(..8).ok_or_else(bad)?;
            let nonce = u64::from_be_bytes(<[u8; 8]>::try_from(nonce).map_err(|_| bad())?);
            let signed = Signed {
                hash: v.get(..32).map(B256::from_slice).ok_or_else(bad)?,
                raw: Bytes::copy_from_slice(v.get(32..).ok_or_else(bad)?),
            };
            match out.last_mut() {
                Some(p) if p.nonce == nonce && rest.len() == 9 => p.versions.push(signed),
                _ if rest.len() == 8 => out.push(Pending {
                    nonce,
                    versions: vec![signed],
                }),
                _ => return Err(bad()),
            }
        }
        Ok(out)
    }
}
