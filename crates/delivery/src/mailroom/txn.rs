//! Staged writes for one group commit. Several sends (or several received frames) are
//! applied one after another against this overlay, so each sees the sessions, counters
//! and held frames the earlier ones left, and the whole group goes to RocksDB in one
//! synced batch: one fsync for many messages, with the same all-or-nothing outcome.

use std::collections::HashMap;

use rocksdb::WriteBatch;
use talos_primitives::Ed25519Public;
use talos_store::Store;

use crate::error::DeliveryError;

pub(super) struct Txn<'a> {
    store: &'a Store,
    batch: WriteBatch,
    overlay: HashMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
    touched: Touched,
}

/// What a commit left for the node to do: peers with new outbox frames it staged on its
/// own (group traffic), and whether group sends wait for a session.
#[derive(Debug, Default)]
pub struct Touched {
    /// Peers to wake the sender for.
    pub peers: Vec<Ed25519Public>,
    /// Some group send was queued for a peer without a session.
    pub queued: bool,
}

impl<'a> Txn<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Txn {
            store,
            batch: WriteBatch::default(),
            overlay: HashMap::new(),
            touched: Touched::default(),
        }
    }

    /// Reads through the staged writes to the store.
    pub(super) fn get(
        &self,
        cf: &'static str,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, DeliveryError> {
        match self.overlay.get(&(cf, key.to_vec())) {
            Some(staged) => Ok(staged.clone()),
            None => Ok(self.store.get(cf, key)?),
        }
    }

    pub(super) fn put(
        &mut self,
        cf: &'static str,
        key: &[u8],
        value: Vec<u8>,
    ) -> Result<(), DeliveryError> {
        self.batch.put_cf(self.store.cf(cf)?, key, &value);
        self.overlay.insert((cf, key.to_vec()), Some(value));
        Ok(())
    }

    pub(super) fn delete(&mut self, cf: &'static str, key: &[u8]) -> Result<(), DeliveryError> {
        self.batch.delete_cf(self.store.cf(cf)?, key);
        self.overlay.insert((cf, key.to_vec()), None);
        Ok(())
    }

    /// Notes a peer whose outbox this commit adds to.
    pub(super) fn touch(&mut self, peer: Ed25519Public) {
        if !self.touched.peers.contains(&peer) {
            self.touched.peers.push(peer);
        }
    }

    /// Notes that a group send was queued for a peer without a session.
    pub(super) fn touch_queue(&mut self) {
        self.touched.queued = true;
    }

    /// One synced write of everything staged.
    pub(super) fn commit(self) -> Result<Touched, DeliveryError> {
        if self.overlay.is_empty() {
            return Ok(self.touched);
        }
        self.store.write(self.batch, true)?;
        Ok(self.touched)
    }
}
