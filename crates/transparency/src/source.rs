//! Where a public log is read from: its HTTP read API (`talos up --public-log`) or a
//! static copy of it (`--public-log-dir`, or that copy behind a CDN). Every read is
//! bounded by what the resource can be (a checkpoint note, one tile, one bundle), so a
//! hostile log cannot exhaust the reader's memory.

use std::path::PathBuf;
use std::time::Duration;

use talos_audit::note::MAX_NOTE_BYTES;
use talos_audit::tiles::{
    FULL_TILE_BYTES, MAX_ENTRY, TILE_WIDTH, Tile, TileError, TileFetch, TileKind,
};

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The log could not be reached or answered an error status.
    #[error("the log at {at} could not be read: {why}")]
    Unreachable {
        /// The resource.
        at: String,
        /// What happened.
        why: String,
    },
    /// The log has no such resource (404, or no file).
    #[error("the log has no {0}")]
    Missing(String),
    /// The resource is larger than it can be.
    #[error("{0} is larger than it can be")]
    TooLarge(String),
    /// The location is neither an http(s) URL nor a directory.
    #[error("not a log location (http(s) URL or directory): {0}")]
    BadLocation(String),
}

/// A public log's location.
#[derive(Debug, Clone)]
pub enum LogSource {
    /// The read API or a CDN in front of a static copy: `<prefix>/checkpoint`, ...
    Http {
        /// The prefix, without a trailing `/`.
        prefix: String,
        /// The HTTP client.
        client: reqwest::Client,
    },
    /// A static copy on disk.
    Dir(PathBuf),
}

/// The largest a resource can be: a note, a full hash tile, or a full bundle.
fn limit(path: &str) -> usize {
    if path == "checkpoint" {
        MAX_NOTE_BYTES
    } else if path.starts_with("tile/entries/") {
        // Each entry's u16 length prefix and at most 64 KiB.
        (TILE_WIDTH as usize) * (MAX_ENTRY + 2)
    } else {
        FULL_TILE_BYTES
    }
}

impl LogSource {
    /// Parses `http(s)://...` or a directory path.
    pub fn parse(at: &str) -> Result<Self, SourceError> {
        if at.starts_with("http://") || at.starts_with("https://") {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| SourceError::BadLocation(format!("{at}: {e}")))?;
            return Ok(LogSource::Http {
                prefix: at.trim_end_matches('/').to_string(),
                client,
            });
        }
        let dir = PathBuf::from(at);
        if dir.is_dir() {
            Ok(LogSource::Dir(dir))
        } else {
            Err(SourceError::BadLocation(at.to_string()))
        }
    }

    /// Reads `path` (`checkpoint` or a tile path), at most as large as it can be.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        let max = limit(path);
        match self {
            LogSource::Http { prefix, client } => {
                let url = format!("{prefix}/{path}");
                let unreachable = |why: String| SourceError::Unreachable {
                    at: path.to_string(),
                    why,
                };
                let mut r = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| unreachable(e.without_url().to_string()))?;
                if r.status() == reqwest::StatusCode::NOT_FOUND {
                    return Err(SourceError::Missing(path.to_string()));
                }
                if !r.status().is_success() {
                    return Err(unreachable(format!("HTTP {}", r.status())));
                }
                crate::body::read_bounded(&mut r, max)
                    .await
                    .map_err(|e| match e {
                        crate::body::BodyError::TooLarge { .. } => {
                            SourceError::TooLarge(path.to_string())
                        }
                        crate::body::BodyError::Read(why) => unreachable(why),
                    })
            }
            LogSource::Dir(dir) => {
                use std::io::Read;
                let file = std::fs::File::open(dir.join(path))
                    .map_err(|_| SourceError::Missing(path.to_string()))?;
                let mut body = Vec::new();
                file.take(max as u64 + 1)
                    .read_to_end(&mut body)
                    .map_err(|e| SourceError::Unreachable {
                        at: path.to_string(),
                        why: e.to_string(),
                    })?;
                if body.len() > max {
                    return Err(SourceError::TooLarge(path.to_string()));
                }
                Ok(body)
            }
        }
    }

    /// The log's current checkpoint note.
    pub async fn checkpoint(&self) -> Result<String, SourceError> {
        String::from_utf8(self.get("checkpoint").await?)
            .map_err(|_| SourceError::TooLarge("a checkpoint that is not UTF-8".into()))
    }

    /// The entries of the bundle holding leaves `range` in a tree of `size`, in order
    /// (checked against the tree by the caller).
    pub async fn entries(&self, index: u64, size: u64) -> Result<Vec<Vec<u8>>, SourceError> {
        let bundle = index / TILE_WIDTH;
        let start = bundle * TILE_WIDTH;
        let width = size.saturating_sub(start).min(TILE_WIDTH);
        // `width <= 256`, so the cast cannot truncate.
        let tile = Tile {
            kind: TileKind::Entries,
            index: bundle,
            width: width as u16,
        };
        let bytes = self.get(&tile.to_string()).await?;
        let entries =
            talos_audit::tiles::parse_bundle(&bytes, usize::from(tile.width)).map_err(|e| {
                SourceError::Unreachable {
                    at: tile.to_string(),
                    why: e.to_string(),
                }
            })?;
        if entries.len() != usize::from(tile.width) {
            return Err(SourceError::Unreachable {
                at: tile.to_string(),
                why: "the bundle is short".into(),
            });
        }
        Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
    }
}

/// Reads tiles synchronously for [`talos_audit::tiles::TileNodes`]; call only from a
/// blocking thread (`spawn_blocking`), as it waits on the runtime.
pub struct Blocking<'a> {
    /// The log.
    pub source: &'a LogSource,
    /// The runtime its reads run on.
    pub runtime: tokio::runtime::Handle,
}

impl TileFetch for Blocking<'_> {
    fn fetch(&self, tile: Tile) -> Result<Vec<u8>, TileError> {
        self.runtime
            .block_on(self.source.get(&tile.to_string()))
            .map_err(|e| TileError::Fetch(e.to_string()))
    }
}
