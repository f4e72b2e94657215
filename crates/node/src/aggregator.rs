//! Aggregated anchoring, the aggregator's side (opt-in: `aggregate_for`, on the public
//! read API's listener). The agents it serves submit their signed checkpoints; each new
//! one becomes a `checkpoint_aggregated` event in this node's audit log, whose root this
//! node anchors as usual, so one anchor commits to every agent's head logged before it
//! (`talos_audit::aggregate`):
//!
//! - `POST /aggregate/add-checkpoint`: the body is the agent's signed checkpoint note
//!   (C2SP, origin `talos/<did>`); the answer `{"index", "treeSize", "new"}` comes once
//!   the event is durable. The same checkpoint again is answered with the index it got
//!   the first time (nothing is logged twice); a smaller size is `stale` and a different
//!   root at the same size is `fork` (both 409);
//! - `GET /aggregate/proof/{did}`: the agent's `talos/aggregate-proof@v1` against the
//!   published checkpoint, for the latest of its checkpoints that checkpoint covers.
//!
//! Bounds, since anyone may reach this listener: only DIDs in `aggregate_for` are
//! served (403 `not_served`), so the log grows by at most one event per listed agent per
//! `aggregate_secs` (429 `rate_limited` past it); bodies are at most one note (16 KiB);
//! the listener's per-address rate and in-flight cap apply first. Per agent the store
//! keeps its last two records (index, head, note) in the same synced batch as the
//! event, so a proof can be served for the older while the newer is not yet published,
//! and a restart forgets nothing.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use talos_audit::aggregate::AggregateProof;
use talos_audit::checkpoint::{Checkpoint, talos_log};
use talos_audit::event::{EventKind, digest};
use talos_audit::note::Note;
use talos_audit::tlog_proof::TlogProof;
use talos_primitives::{Did, Hash32};
use talos_store::Writes;
use talos_store::db::CF_META;

use crate::error::NodeError;
use crate::node::Node;

/// Who an aggregator serves and how often.
#[derive(Debug, Clone)]
pub struct AggregateConfig {
    /// The agents whose checkpoints are accepted.
    pub agents: Arc<BTreeSet<Did>>,
    /// At most one new checkpoint per agent per this period.
    pub every: Duration,
}

/// Records kept per agent: the latest and the one before it.
const KEPT: usize = 2;
/// Locks that serialize one agent's submissions (by DID hash), so different agents'
/// appends proceed together and share the log's group commit.
const SHARDS: usize = 64;

/// Where one checkpoint was logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    index: u64,
    size: u64,
    root: Hash32,
    /// The signed note, verbatim.
    note: String,
}

pub(crate) struct Aggregator {
    config: AggregateConfig,
    per_agent: DefaultKeyedRateLimiter<Did>,
    shards: Vec<Mutex<()>>,
}

/// What a submission got.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Receipt {
    index: u64,
    tree_size: u64,
    new: bool,
}

fn key(agent: &Did) -> Vec<u8> {
    format!("aggregate/{agent}").into_bytes()
}

fn records(node: &Node, agent: &Did) -> Result<Vec<Record>, NodeError> {
    match node.store().get(CF_META, &key(agent))? {
        None => Ok(Vec::new()),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| NodeError::Internal(format!("an aggregate record is corrupt: {e}"))),
    }
}

impl Aggregator {
    pub(crate) fn new(config: AggregateConfig) -> Self {
        let period = config.every.max(Duration::from_millis(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Aggregator {
            config,
            per_agent: RateLimiter::keyed(quota),
            shards: (0..SHARDS).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Checks and logs `body`, an agent's signed checkpoint (on a blocking thread: the
    /// append waits for its fsync).
    pub(crate) fn submit(&self, node: &Node, body: &str) -> Result<Receipt, NodeError> {
        let bad = |e: String| NodeError::BadRequest(e);
        let note = Note::parse(body).map_err(|e| bad(e.to_string()))?;
        let cp = Checkpoint::parse_text(&note.text).map_err(|e| bad(e.to_string()))?;
        let (agent, verifier) =
            talos_log(&cp.origin).ok_or_else(|| bad("the origin is not talos/<did:key>".into()))?;
        if !self.config.agents.contains(&agent) {
            return Err(refused("not_served"));
        }
        note.verify(&verifier)
            .map_err(|_| refused("bad_signature"))?;
        let text = note.to_text();
        let shard = self
            .shards
            .get(shard_of(&agent))
            .ok_or_else(|| NodeError::Internal("no shard".into()))?;
        let _turn = shard
            .lock()
            .map_err(|_| NodeError::Internal("aggregator lock poisoned".into()))?;
        let mut kept = records(node, &agent)?;
        if let Some(last) = kept.last() {
            if cp.head.size < last.size {
                return Err(refused("stale"));
            }
            if cp.head.size == last.size {
                if cp.head.root != last.root {
                    return Err(refused("fork"));
                }
                return Ok(Receipt {
                    index: last.index,
                    tree_size: last.size,
                    new: false,
                });
            }
        }
        // Only new heads count against the rate, so a retry of an answered one is free.
        if self.per_agent.check_key(&agent).is_err() {
            return Err(refused("rate_limited"));
        }
        let event = EventKind::CheckpointAggregated {
            agent,
            size: cp.head.size,
            root: cp.head.root,
            note: digest(text.as_bytes()),
        };
        let (size, root) = (cp.head.size, cp.head.root);
        let index = node.auditor().append_indexed(event, |index| {
            kept.push(Record {
                index,
                size,
                root,
                note: text,
            });
            let drop = kept.len().saturating_sub(KEPT);
            kept.drain(..drop);
            let mut w = Writes::default();
            let bytes =
                serde_json::to_vec(&kept).map_err(|e| NodeError::Internal(e.to_string()))?;
            w.put(CF_META, &key(&agent), bytes);
            Ok(w)
        })?;
        Ok(Receipt {
            index,
            tree_size: size,
            new: true,
        })
    }

    /// The agent's aggregate proof for its latest checkpoint in the published tree.
    pub(crate) fn proof(&self, node: &Node, agent: &Did) -> Result<AggregateProof, NodeError> {
        let published = node
            .published()
            .ok_or_else(|| NodeError::NotFound("no checkpoint is published yet".into()))?;
        let size = published.head.size;
        let kept = records(node, agent)?;
        let record = kept.iter().rev().find(|r| r.index < size).ok_or_else(|| {
            NodeError::NotFound(format!(
                "no checkpoint of {agent} is in the published tree yet"
            ))
        })?;
        let log = node.audit_log();
        let entry = log
            .leaf(record.index)?
            .ok_or_else(|| NodeError::Internal("the log is shorter than published".into()))?;
        let internal = |e: String| NodeError::Internal(e);
        Ok(AggregateProof {
            checkpoint: Note::parse(&record.note).map_err(|e| internal(e.to_string()))?,
            proof: TlogProof {
                extra: Some(entry),
                index: record.index,
                path: log.inclusion_proof(record.index, size)?,
                checkpoint: Note::parse(&published.note).map_err(|e| internal(e.to_string()))?,
            },
        })
    }

    /// Forgets idle agents' rate state.
    pub(crate) fn sweep(&self) {
        self.per_agent.retain_recent();
    }
}

fn refused(kind: &str) -> NodeError {
    NodeError::Refused { kind: kind.into() }
}

fn shard_of(agent: &Did) -> usize {
    let h = digest(agent.to_string().as_bytes());
    usize::from(h.0[0]) % SHARDS
}
