//! The witness's durable state in RocksDB: per origin, the checkpoint last cosigned
//! (with this witness's cosignature), and the split-view evidence it refused. Checking a
//! request against the stored checkpoint and storing the new one happen under one lock
//! and one synced write, so two racing requests can never roll the log back (the race
//! the spec warns of).

use std::path::Path;
use std::sync::Mutex;

use rocksdb::{ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};
use serde::{Deserialize, Serialize};
use talos_audit::checkpoint::Checkpoint;
use talos_audit::note::Note;
use talos_primitives::TreeHead;

const CF_LATEST: &str = "latest";
const CF_EVIDENCE: &str = "evidence";
/// Evidence kept per origin (the first ones: a log that forked once has shown it).
pub const MAX_EVIDENCE: usize = 16;

/// Why the witness's state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// RocksDB failed.
    #[error("witness state: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// Stored data is not what this witness wrote.
    #[error("witness state is corrupt: {0}")]
    Corrupt(&'static str),
    /// The lock was poisoned by a panic.
    #[error("witness state lock poisoned")]
    Poisoned,
    /// More logs than the witness serves.
    #[error("the witness already serves {0} logs")]
    Full(usize),
}

/// Two signed checkpoints of one log that cannot both be honest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The checkpoint this witness had cosigned.
    pub cosigned: String,
    /// The conflicting one it was offered.
    pub offered: String,
}

/// The witness's state.
pub struct WitnessState {
    db: DB,
    /// Held across check-and-store.
    turn: Mutex<()>,
    max_logs: usize,
}

impl std::fmt::Debug for WitnessState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessState").finish_non_exhaustive()
    }
}

impl WitnessState {
    /// Opens (creating) the state at `path`; at most `max_logs` origins are kept.
    pub fn open(path: &Path, max_logs: usize) -> Result<Self, StateError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = [CF_LATEST, CF_EVIDENCE]
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, Options::default()));
        Ok(Self {
            db: DB::open_cf_descriptors(&opts, path, cfs)?,
            turn: Mutex::new(()),
            max_logs,
        })
    }

    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, StateError> {
        self.db
            .cf_handle(name)
            .ok_or(StateError::Corrupt("missing column family"))
    }

    /// The checkpoint last cosigned for `origin` (its note text, with the cosignature).
    pub fn latest(&self, origin: &str) -> Result<Option<(TreeHead, String)>, StateError> {
        let Some(v) = self.db.get_cf(self.cf(CF_LATEST)?, origin.as_bytes())? else {
            return Ok(None);
        };
        let text = String::from_utf8(v).map_err(|_| StateError::Corrupt("note"))?;
        let note = Note::parse(&text).map_err(|_| StateError::Corrupt("note"))?;
        let cp =
            Checkpoint::parse_text(&note.text).map_err(|_| StateError::Corrupt("checkpoint"))?;
        Ok(Some((cp.head, text)))
    }

    /// Under the lock: `decide` sees the checkpoint last cosigned and returns the note to
    /// store (cosigned) or an error; the note is stored, synced, before this returns.
    pub fn update<E: From<StateError>>(
        &self,
        origin: &str,
        decide: impl FnOnce(Option<(TreeHead, String)>) -> Result<String, E>,
    ) -> Result<String, E> {
        let _turn = self.turn.lock().map_err(|_| StateError::Poisoned)?;
        let last = self.latest(origin)?;
        if last.is_none() && self.count()? >= self.max_logs {
            return Err(StateError::Full(self.max_logs).into());
        }
        let note = decide(last)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_LATEST)?, origin.as_bytes(), note.as_bytes());
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(batch, &wo).map_err(StateError::from)?;
        Ok(note)
    }

    fn count(&self) -> Result<usize, StateError> {
        // Bounded by `max_logs`: the scan stops there.
        let mut n = 0;
        for item in self
            .db
            .iterator_cf(self.cf(CF_LATEST)?, rocksdb::IteratorMode::Start)
        {
            item?;
            n += 1;
            if n >= self.max_logs {
                break;
            }
        }
        Ok(n)
    }

    /// Keeps split-view evidence for `origin` (the first [`MAX_EVIDENCE`] only).
    pub fn keep_evidence(&self, origin: &str, e: &Evidence) -> Result<(), StateError> {
        let known = self.evidence(origin)?;
        if known.len() >= MAX_EVIDENCE || known.contains(e) {
            return Ok(());
        }
        let mut key = origin.as_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(&(known.len() as u64).to_be_bytes());
        let v = serde_json::to_vec(e).map_err(|_| StateError::Corrupt("evidence"))?;
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_EVIDENCE)?, key, v);
        Ok(self.db.write_opt(batch, &wo)?)
    }

    /// The split-view evidence kept for `origin`.
    pub fn evidence(&self, origin: &str) -> Result<Vec<Evidence>, StateError> {
        let mut prefix = origin.as_bytes().to_vec();
        prefix.push(0);
        let mode = rocksdb::IteratorMode::From(&prefix, rocksdb::Direction::Forward);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_EVIDENCE)?, mode) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) || out.len() >= MAX_EVIDENCE {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|_| StateError::Corrupt("evidence"))?);
        }
        Ok(out)
    }
}
