//! The monitor's state: per agent, the last checkpoint it verified, how far it has read
//! the entries, counts by event kind, the alarms raised, and how many rounds the log has
//! been behind the chain. One small RocksDB, one synced write per round.

use std::collections::BTreeMap;
use std::path::Path;

use rocksdb::{DB, Options, WriteOptions};
use serde::{Deserialize, Serialize};

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MonitorStateError {
    /// RocksDB failed.
    #[error("monitor state: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// Stored data is not what a monitor wrote.
    #[error("monitor state is corrupt: {0}")]
    Corrupt(String),
}

/// What the monitor knows of one agent's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The last verified checkpoint note (empty: none yet).
    pub note: String,
    /// Its size.
    pub size: u64,
    /// Its root, base64.
    pub root: String,
    /// Entries read and checked: `[0, read)`.
    pub read: u64,
    /// Events read, by kind.
    pub kinds: BTreeMap<String, u64>,
    /// Rounds in a row the chain had anchored past the published log.
    pub behind_rounds: u32,
    /// Alarms raised so far (kinds), kept so a restarted monitor still reports them.
    pub alarms: Vec<String>,
}

/// The monitor's state database.
pub struct MonitorState {
    db: DB,
}

impl std::fmt::Debug for MonitorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorState").finish_non_exhaustive()
    }
}

impl MonitorState {
    /// Opens (creating) the state at `path`.
    pub fn open(path: &Path) -> Result<Self, MonitorStateError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        Ok(Self {
            db: DB::open(&opts, path)?,
        })
    }

    /// What is known of `did`'s log.
    pub fn get(&self, did: &str) -> Result<Seen, MonitorStateError> {
        match self.db.get(did.as_bytes())? {
            None => Ok(Seen::default()),
            Some(v) => {
                serde_json::from_slice(&v).map_err(|e| MonitorStateError::Corrupt(e.to_string()))
            }
        }
    }

    /// Stores what is known of `did`'s log, synced.
    pub fn put(&self, did: &str, seen: &Seen) -> Result<(), MonitorStateError> {
        let v = serde_json::to_vec(seen).map_err(|e| MonitorStateError::Corrupt(e.to_string()))?;
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        Ok(self.db.put_opt(did.as_bytes(), v, &wo)?)
    }
}
