//! The public read API (opt-in: `talos up --public-log ADDR`), so auditors, monitors and
//! witnesses reach the evidence without the agent's token or cooperation. It serves C2SP
//! `tlog-tiles` over the node's audit log and nothing else:
//!
//! - `GET /checkpoint`: the published checkpoint (`publish.rs`), the signed note that is
//!   anchored, with cosignatures when witnesses gave them; cacheable for 2 s;
//! - `GET /tile/<L>/<N>[.p/<W>]`: hash tiles, read from the stored tree nodes;
//! - `GET /tile/entries/<N>[.p/<W>]`: entry bundles, each entry a signed event (digests
//!   and ids only, as in the log itself).
//!
//! Every tile is immutable (a hash never changes once its subtree is complete), so each
//! is cacheable forever. Nothing past the published size is served. Reads are RocksDB
//! point reads and one range scan on the blocking pool; they never wait for the log's
//! writer. Bounds: a per-IP rate (governor, keyed by address), a cap on requests in
//! flight (past it, 503 at once), and responses of at most one tile (8 KiB of hashes or
//! 256 entries of at most 64 KiB each).
//!
//! With `aggregate_for` set, it also takes agents' checkpoints and serves their aggregate
//! proofs (`aggregator.rs`), under the same bounds.
//!
//! [`write_static`] writes the same tree as files for a CDN or an object store.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use talos_audit::note::MAX_NOTE_BYTES;
use talos_audit::tiles::{self, Tile, TileError, TileKind};
use talos_store::AuditLog;
use tokio::sync::Semaphore;

use crate::aggregator::Aggregator;
use crate::error::NodeError;
use crate::node::Node;

/// Bounds of the public read API.
#[derive(Debug, Clone)]
pub struct PublicLogConfig {
    /// Requests per second per client address.
    pub rate: NonZeroU32,
    /// Burst per client address.
    pub burst: NonZeroU32,
    /// Requests in flight at once, over all clients.
    pub in_flight: usize,
    /// Aggregate these agents' checkpoints (`aggregator.rs`); `None`: not an aggregator.
    pub aggregate: Option<crate::aggregator::AggregateConfig>,
}

impl Default for PublicLogConfig {
    fn default() -> Self {
        Self {
            rate: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            in_flight: 64,
            aggregate: None,
        }
    }
}

struct PublicState {
    node: Arc<Node>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    in_flight: Semaphore,
    aggregator: Option<Aggregator>,
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl From<TileError> for NodeError {
    fn from(e: TileError) -> Self {
        match e {
            TileError::BadPath(_) | TileError::BadBundle(_) => NodeError::BadRequest(e.to_string()),
            TileError::Beyond { .. } => NodeError::NotFound(e.to_string()),
            TileError::EntryTooLarge(_) | TileError::Tree(_) | TileError::Fetch(_) => {
                NodeError::Internal(e.to_string())
            }
        }
    }
}

/// The public read API's routes; serve them with
/// `into_make_service_with_connect_info::<SocketAddr>()` (the rate is per address).
pub fn router(node: Arc<Node>, config: PublicLogConfig) -> Router {
    let state = Arc::new(PublicState {
        node,
        per_ip: RateLimiter::keyed(Quota::per_second(config.rate).allow_burst(config.burst)),
        in_flight: Semaphore::new(config.in_flight.max(1)),
        aggregator: config.aggregate.map(Aggregator::new),
    });
    let sweeper = Arc::downgrade(&state);
    // Forget idle addresses, so a scan from many addresses cannot grow the limiter.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(s) = sweeper.upgrade() else { return };
            s.per_ip.retain_recent();
            s.per_ip.shrink_to_fit();
            if let Some(a) = &s.aggregator {
                a.sweep();
            }
        }
    });
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/.well-known/agent-card.json", get(agent_card))
        .route(
            "/aggregate/add-checkpoint",
            post(add_checkpoint).layer(DefaultBodyLimit::max(MAX_NOTE_BYTES)),
        )
        .route("/aggregate/proof/{did}", get(aggregate_proof))
        .with_state(state)
}

fn admit(s: &PublicState, from: SocketAddr) -> Result<tokio::sync::SemaphorePermit<'_>, NodeError> {
    if s.per_ip.check_key(&from.ip()).is_err() {
        return Err(NodeError::Refused {
            kind: "rate_limited".into(),
        });
    }
    // Over the cap, the same answer as over the rate: come back later.
    s.in_flight.try_acquire().map_err(|_| NodeError::Refused {
        kind: "rate_limited".into(),
    })
}

async fn checkpoint(
    State(s): State<Arc<PublicState>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
) -> Result<Response, NodeError> {
    let _permit = admit(&s, from)?;
    let p = s
        .node
        .published()
        .ok_or_else(|| NodeError::NotFound("no checkpoint is published yet".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=2"),
        ],
        p.note,
    )
        .into_response())
}

/// The agent's signed A2A card, under the same bounds as the log (this listener is the
/// one strangers reach).
async fn agent_card(
    State(s): State<Arc<PublicState>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
) -> Result<Response, NodeError> {
    let _permit = admit(&s, from)?;
    Ok(crate::api::card_response(&s.node)?.into_response())
}

fn aggregator(s: &Arc<PublicState>) -> Result<(), NodeError> {
    match s.aggregator {
        Some(_) => Ok(()),
        None => Err(NodeError::NotFound(
            "this node aggregates no checkpoints".into(),
        )),
    }
}

async fn add_checkpoint(
    State(s): State<Arc<PublicState>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    body: String,
) -> Result<Response, NodeError> {
    let _permit = admit(&s, from)?;
    aggregator(&s)?;
    let state = s.clone();
    let receipt = tokio::task::spawn_blocking(move || match &state.aggregator {
        Some(a) => a.submit(&state.node, &body),
        None => Err(NodeError::Internal("no aggregator".into())),
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    Ok(axum::Json(receipt).into_response())
}

async fn aggregate_proof(
    State(s): State<Arc<PublicState>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    UrlPath(did): UrlPath<String>,
) -> Result<Response, NodeError> {
    let _permit = admit(&s, from)?;
    aggregator(&s)?;
    let did: talos_primitives::Did = did
        .parse()
        .map_err(|_| NodeError::BadRequest("not a DID".into()))?;
    let state = s.clone();
    let proof = tokio::task::spawn_blocking(move || match &state.aggregator {
        Some(a) => a.proof(&state.node, &did),
        None => Err(NodeError::Internal("no aggregator".into())),
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        proof.to_text(),
    )
        .into_response())
}

async fn tile(
    State(s): State<Arc<PublicState>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, NodeError> {
    let _permit = admit(&s, from)?;
    let t = Tile::parse(&format!("tile/{path}"))?;
    let size = s.node.published().map_or(0, |p| p.head.size);
    let log = s.node.audit_log().clone();
    let bytes = tokio::task::spawn_blocking(move || read_tile(&log, t, size))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))??;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    Ok(r)
}

/// A tile's bytes in the tree of `size` (the published size).
pub fn read_tile(log: &AuditLog, t: Tile, size: u64) -> Result<Vec<u8>, NodeError> {
    match t.kind {
        TileKind::Hashes(_) => Ok(t.hashes(&log.nodes(), size)?),
        TileKind::Entries => {
            let range = t.entry_range(size)?;
            let n = range.end - range.start;
            let leaves = log.leaves(range)?;
            if leaves.len() as u64 != n {
                return Err(NodeError::Internal(
                    "the log is shorter than published".into(),
                ));
            }
            Ok(tiles::bundle(leaves.iter().map(Vec::as_slice))?)
        }
    }
}

/// Writes the tree of `size` under `dir` as static files (`checkpoint` and every tile
/// path), each written to a temporary name and renamed, so a reader never sees half a
/// tile. Tiles already there are skipped (they are immutable); partial tiles of past
/// sizes stay until their full tile is written. Returns the number of files written.
pub fn write_static(log: &AuditLog, note: &str, size: u64, dir: &Path) -> Result<u64, NodeError> {
    let io = |e: std::io::Error| NodeError::Internal(format!("writing the static log: {e}"));
    let mut written = 0;
    for t in tiles::tiles_of(size) {
        let path = dir.join(t.to_string());
        if path.exists() {
            continue;
        }
        let bytes = read_tile(log, t, size)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        write_public(&path, &bytes).map_err(io)?;
        written += 1;
        if t.is_full() {
            // Its partial versions are not needed any more (the spec allows deleting
            // them): without this, a log published often would keep up to 255 partial
            // copies of every tile.
            let mut partials = path.clone().into_os_string();
            partials.push(".p");
            match std::fs::remove_dir_all(&partials) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
        }
    }
    write_public(&dir.join("checkpoint"), note.as_bytes()).map_err(io)?;
    Ok(written + 1)
}

/// Writes a world-readable file by rename. Not synced: the static tree is a copy the
/// next publication rewrites from the log (a tile lost in a crash is written again,
/// since only present files are skipped).
fn write_public(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
