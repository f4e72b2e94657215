//! Staged writes for one group commit. Several sends (or several received frames) are
//! applied one after another against this overlay, so each sees the sessions, counters
//! and held frames the earlier ones left, and the whole group goes to RocksDB in one
//! synced batch: one fsync for many messages, with the same all-or-nothing outcome.

use std::collections::HashMap;

use rocksdb::WriteBatch;
use talos_store::Store;

use crate::error::DeliveryError;

pub(super) struct Txn<'a> {
    store: &'a Store,
    batch: WriteBatch,
    overlay: HashMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
}

impl<'a> Txn<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Txn {
            store,
            batch: WriteBatch::default(),
            overlay: HashMap::new(),
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

    /// One synced write of everything staged.
    pub(super) fn commit(self) -> Result<(), DeliveryError> {
        if self.overlay.is_empty() {
            return Ok(());
        }
        Ok(self.store.write(self.batch, true)?)
    }
}
