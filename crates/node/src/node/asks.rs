//! The asks this node's agent was sent to approve (`apv`, capability FORMAT.md §3.6):
//! bounded per holder and in all, durable under `asked/<request id>` in `CF_META`,
//! lapsed ones deleted as they are found.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use talos_net::approval::Ask;
use talos_primitives::{CapabilityId, Did};
use talos_store::Store;
use talos_store::db::CF_META;

use super::approver::now;
use crate::error::NodeError;

/// Asks kept from one holder, and in all.
const MAX_ASKED_PER_HOLDER: usize = 32;
const MAX_ASKED: usize = 256;
const ASKED: &[u8] = b"asked/";

/// One request this agent was asked to approve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Asked {
    /// The node holding the call (its agent's DID).
    pub(crate) holder: Did,
    /// What it asked.
    pub(crate) ask: Ask,
}

/// The asks this node holds, by request id.
#[derive(Default)]
pub(crate) struct AskBook {
    pub(super) asks: BTreeMap<CapabilityId, Asked>,
}

pub(super) fn asked_key(id: &CapabilityId) -> Vec<u8> {
    let mut k = ASKED.to_vec();
    k.extend_from_slice(id.to_string().as_bytes());
    k
}

impl AskBook {
    /// Loads the stored asks still open; deletes the others.
    pub(crate) fn load(store: &Store) -> Result<AskBook, NodeError> {
        let cf = store.cf(CF_META)?;
        let mode = rocksdb::IteratorMode::From(ASKED, rocksdb::Direction::Forward);
        let (mut book, mut stale, now) = (AskBook::default(), Vec::new(), now());
        // Lapsed asks are deleted as they are found; more than the book holds can only be
        // ones that lapsed since, so a scan this long sees every live one.
        for item in store.db().iterator_cf(cf, mode).take(MAX_ASKED * 64) {
            let (k, v) = item.map_err(|e| NodeError::Internal(e.to_string()))?;
            if !k.starts_with(ASKED) {
                break;
            }
            match serde_json::from_slice::<Asked>(&v) {
                Ok(a) if a.ask.exp > now && book.room_for(&a.holder) => {
                    if let Ok(id) = a.ask.id.parse() {
                        book.asks.insert(id, a);
                    }
                }
                _ => stale.push(k.to_vec()),
            }
        }
        if !stale.is_empty() {
            let mut batch = rocksdb::WriteBatch::default();
            for k in stale {
                batch.delete_cf(cf, k);
            }
            store.write(batch, true)?;
        }
        Ok(book)
    }

    pub(super) fn room_for(&self, holder: &Did) -> bool {
        self.asks.len() < MAX_ASKED
            && self.asks.values().filter(|a| a.holder == *holder).count() < MAX_ASKED_PER_HOLDER
    }

    /// The open asks; the lapsed ones are dropped and their ids returned (to delete from
    /// disk: an ask book must not grow there either).
    pub(crate) fn list(&mut self, now: u64) -> (Vec<Asked>, Vec<CapabilityId>) {
        let lapsed: Vec<CapabilityId> = self
            .asks
            .iter()
            .filter(|(_, a)| a.ask.exp <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &lapsed {
            self.asks.remove(id);
        }
        (self.asks.values().cloned().collect(), lapsed)
    }
}
