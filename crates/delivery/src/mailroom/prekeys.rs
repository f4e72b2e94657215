//! Prekey upkeep: signed prekeys rotate on a schedule, one-time prekeys are topped up
//! as handshakes consume them. Old signed prekeys stay (up to the ratchet's bound) so
//! that handshakes started from a bundle published before a rotation still complete.

use rocksdb::WriteBatch;
use talos_ratchet::PreKeyBundle;
use talos_ratchet::prekey::MAX_ONE_TIME_PREKEYS;
use talos_store::db::CF_STREAMS;

use super::{Mailroom, seal_prekeys};
use crate::error::DeliveryError;
use crate::layout::{PREKEYS, PREKEYS_ROTATED};

/// What a maintenance pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PreKeyUpkeep {
    /// The signed (and ML-KEM) prekeys were rotated: the published bundle changed.
    pub rotated: bool,
    /// One-time prekeys added.
    pub added: usize,
}

impl Mailroom {
    /// The bundle to publish in the directory (`talos_net`'s DHT records): the current
    /// signed prekeys and no one-time prekey, since anyone may read a published record
    /// and a one-time prekey in it would not stay one-time.
    pub fn published_bundle(&self) -> Result<PreKeyBundle, DeliveryError> {
        let prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        prekeys
            .bundle(&self.identity, None)
            .ok_or(DeliveryError::Corrupt("prekey store has no signed prekey"))
    }

    /// How many one-time prekeys are left.
    pub fn one_time_prekeys(&self) -> Result<usize, DeliveryError> {
        let prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        Ok(prekeys.one_time_count())
    }

    /// Rotates the signed prekeys when `rotate_every` seconds have passed since the last
    /// rotation (the first pass only records the time), and tops the one-time prekeys
    /// up to `target` once fewer than half are left. One synced write when anything
    /// changed.
    pub fn maintain_prekeys(
        &self,
        now: u64,
        rotate_every: u64,
        target: usize,
    ) -> Result<PreKeyUpkeep, DeliveryError> {
        let mut prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut rng = rand::rng();
        let mut upkeep = PreKeyUpkeep::default();
        let last = self
            .store
            .get(CF_STREAMS, PREKEYS_ROTATED)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes);
        let mut next = prekeys.clone();
        let stamp = match last {
            None => true,
            Some(t) if now.saturating_sub(t) >= rotate_every => {
                next.rotate_signed_prekey(&mut rng, &self.identity)
                    .map_err(DeliveryError::PreKeys)?;
                let has_kem = next
                    .bundle(&self.identity, None)
                    .is_some_and(|b| b.kem_prekey.is_some());
                if has_kem {
                    next.rotate_kem_prekey(&mut rng, &self.identity)
                        .map_err(DeliveryError::PreKeys)?;
                }
                upkeep.rotated = true;
                true
            }
            Some(_) => false,
        };
        let target = target.min(MAX_ONE_TIME_PREKEYS);
        let left = next.one_time_count();
        if left < target / 2 {
            let add = target.saturating_sub(left);
            next.generate_one_time_prekeys(&mut rng, add)
                .map_err(DeliveryError::PreKeys)?;
            upkeep.added = add;
        }
        if !stamp && upkeep.added == 0 {
            return Ok(upkeep);
        }
        let mut batch = WriteBatch::default();
        let cf = self.store.cf(CF_STREAMS)?;
        if stamp {
            batch.put_cf(cf, PREKEYS_ROTATED, now.to_be_bytes());
        }
        batch.put_cf(cf, PREKEYS, seal_prekeys(&self.storage_key, &next));
        self.store.write(batch, true)?;
        // Only now, with the new keys durable, does the running store change.
        *prekeys = next;
        Ok(upkeep)
    }
}
