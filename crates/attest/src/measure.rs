//! The digests an attester states and a verifier recomputes.
//!
//! - `binarySha256`: SHA-256 of the node binary's bytes, as on disk;
//! - `configSha256`: SHA-256 of the configuration's canonical form. `config.toml` is
//!   read as TOML into JSON, the settings in [`SECRET_SETTINGS`] are removed (they are
//!   URLs that may carry credentials), and the result is put in RFC 8785 (JCS) form. Two
//!   files that differ only in comments, order or whitespace measure the same;
//! - `policySha256` and `intotoSha256`: SHA-256 of the file's bytes.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};
use talos_identity::{Hash32, jcs};
use thiserror::Error;

/// Settings left out of the configuration's digest: URLs that may carry credentials
/// (user info, API keys in paths or queries). They are not secrets of the agent's
/// behaviour, and an attester must not need them to recompute the digest.
pub const SECRET_SETTINGS: &[&str] = &["agent_url", "aggregator", "chain"];

/// Why a measurement failed.
#[derive(Debug, Error)]
pub enum MeasureError {
    /// The file could not be read.
    #[error("reading {0}: {1}")]
    Io(String, std::io::Error),
    /// `config.toml` is not TOML.
    #[error("config.toml is not TOML: {0}")]
    Toml(String),
    /// It has no canonical form (JCS).
    #[error("config.toml has no canonical JSON form: {0}")]
    Canonical(String),
}

/// SHA-256 of a file's bytes, read in chunks.
pub fn file(path: &Path) -> Result<Hash32, MeasureError> {
    let io = |e| MeasureError::Io(path.display().to_string(), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(Hash32(hasher.finalize().into()))
}

/// The configuration's digest, from `config.toml`'s text.
pub fn config(text: &str) -> Result<Hash32, MeasureError> {
    let mut v: Value = toml::from_str(text).map_err(|e| MeasureError::Toml(e.to_string()))?;
    if let Some(table) = v.as_object_mut() {
        for key in SECRET_SETTINGS {
            table.remove(*key);
        }
    }
    jcs::digest(&v).map_err(|e| MeasureError::Canonical(e.to_string()))
}
