//! Staged writes for one group commit. Several sends (or several received frames) are
//! applied one after another against this overlay, so each sees the sessions, counters
//! and held frames the earlier ones left, and the whole group goes to RocksDB in one
//! synced batch: one fsync for many messages, with the same all-or-nothing outcome.

use std::collections::HashMap;

use rocksdb::WriteBatch;
use talos_primitives::Ed25519Public;
use talos_store::{Store, Writes};

use crate::error::DeliveryError;

type Key = (&'static str, Vec<u8>);

pub(super) struct Staged<'a> {
    store: &'a Store,
    /// The final value of every key written (None: deleted); the batch is built from it
    /// at commit, which is what makes a savepoint a matter of restoring overlay entries.
    overlay: HashMap<Key, Option<Vec<u8>>>,
    touched: Touched,
    /// Since the savepoint: each key's overlay entry before its first change, and the
    /// touched list's length and flag.
    undo: Option<Savepoint>,
    /// The receive round this transaction stages (0: a caller that does not audit).
    round: u64,
}

struct Savepoint {
    before: HashMap<Key, Option<Option<Vec<u8>>>>,
    peers: usize,
    queued: bool,
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

impl<'a> Staged<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Staged {
            store,
            overlay: HashMap::new(),
            touched: Touched::default(),
            undo: None,
            round: 0,
        }
    }

    /// A transaction for receive round `round` (see `Mailroom::receive_audited`).
    pub(super) fn for_round(store: &'a Store, round: u64) -> Self {
        Staged {
            round,
            ..Staged::new(store)
        }
    }

    /// The receive round.
    pub(super) fn round(&self) -> u64 {
        self.round
    }

    /// Marks a point to roll back to: one group item's writes are all kept or all
    /// dropped, while the frame that carried it still commits.
    pub(super) fn savepoint(&mut self) {
        self.undo = Some(Savepoint {
            before: HashMap::new(),
            peers: self.touched.peers.len(),
            queued: self.touched.queued,
        });
    }

    /// Drops every write since the savepoint.
    pub(super) fn rollback(&mut self) {
        let Some(sp) = self.undo.take() else {
            return;
        };
        for (key, old) in sp.before {
            match old {
                Some(v) => self.overlay.insert(key, v),
                None => self.overlay.remove(&key),
            };
        }
        self.touched.peers.truncate(sp.peers);
        self.touched.queued = sp.queued;
    }

    /// Keeps every write since the savepoint.
    pub(super) fn release(&mut self) {
        self.undo = None;
    }

    fn remember(&mut self, key: &Key) {
        if let Some(sp) = self.undo.as_mut()
            && !sp.before.contains_key(key)
        {
            sp.before
                .insert(key.clone(), self.overlay.get(key).cloned());
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
        let k = (cf, key.to_vec());
        self.remember(&k);
        self.overlay.insert(k, Some(value));
        Ok(())
    }

    pub(super) fn delete(&mut self, cf: &'static str, key: &[u8]) -> Result<(), DeliveryError> {
        let k = (cf, key.to_vec());
        self.remember(&k);
        self.overlay.insert(k, None);
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
        self.write(true)
    }

    /// One write of everything staged, not synced (for what a crash may undo: the next
    /// synced write makes it durable anyway, RocksDB keeping the order of writes).
    pub(super) fn commit_unsynced(self) -> Result<Touched, DeliveryError> {
        self.write(false)
    }

    /// Everything staged, for another writer to commit (the node's audit log, which
    /// writes it in one batch with the events it calls for).
    pub(super) fn into_writes(self) -> (Writes, Touched) {
        let mut writes = Writes::default();
        for ((cf, key), value) in self.overlay {
            match value {
                Some(v) => writes.put(cf, &key, v),
                None => writes.delete(cf, &key),
            }
        }
        (writes, self.touched)
    }

    fn write(self, sync: bool) -> Result<Touched, DeliveryError> {
        if self.overlay.is_empty() {
            return Ok(self.touched);
        }
        let mut batch = WriteBatch::default();
        for ((cf, key), value) in &self.overlay {
            let handle = self.store.cf(cf)?;
            match value {
                Some(v) => batch.put_cf(handle, key, v),
                None => batch.delete_cf(handle, key),
            }
        }
        self.store.write(batch, sync)?;
        Ok(self.touched)
    }
}
