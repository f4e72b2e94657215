//! Submitting this agent's checkpoints to an aggregator on a schedule (`aggregator`
//! config): the agent side of aggregated anchoring (`crate::aggregator` is the other).
//! Every `every`, if the log grew since the last checkpoint the aggregator acknowledged,
//! the node signs a checkpoint of its head and POSTs it to
//! `<aggregator>/aggregate/add-checkpoint`. A refusal or an unreachable aggregator is
//! logged (never the URL, which may carry credentials) and tried again next period.
//! After a restart the first period submits the head again, which the aggregator answers
//! with the index it already gave, logging nothing twice.
//!
//! The node also keeps its own proof: while the proof it holds covers less than the
//! aggregator acknowledged, each period it fetches `<aggregator>/aggregate/proof/<did>`,
//! checks it offline (both signatures, the inclusion, and that the head it names is this
//! log's own at that size) and stores it durably. So the agent can hand an auditor the
//! proof that its log is anchored even if the aggregator is gone by then
//! (`GET /v1/audit/aggregate-proof`, `talos audit aggregate-proof`).

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info, warn};

use talos_audit::aggregate::{AggregateError, AggregateProof, MAX_AGGREGATE_PROOF_BYTES};
use talos_audit::checkpoint::sign_talos;
use talos_primitives::Did;
use talos_store::db::CF_META;
use talos_store::{AuditLog, StoreError, Writes};
use talos_transparency::body::{BodyError, read_bounded};

use crate::error::NodeError;

/// Where the node's own latest aggregate proof is kept (`CF_META`).
const OWN_PROOF: &[u8] = b"aggregate-proof/own";

/// Why a fetched aggregate proof was not kept (logged, then tried again next period).
#[derive(Debug, thiserror::Error)]
enum KeepError {
    #[error("the aggregator is unreachable: {0}")]
    Unreachable(String),
    #[error("the aggregator answered {0}")]
    Status(u16),
    #[error("the aggregator's answer is larger than an aggregate proof can be")]
    TooLarge,
    #[error("the aggregate proof does not verify: {0}")]
    Invalid(#[from] AggregateError),
    #[error("the aggregate proof is not of this log's own head")]
    NotOurs,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("checking the proof stopped: {0}")]
    Task(String),
}

impl super::Node {
    /// Submits the head to the aggregator at `to` every `every` while it grows, and
    /// keeps the aggregator's proof of it once published.
    pub fn start_submitting(&mut self, to: reqwest::Url, every: Duration) {
        let (log, key, did) = (
            self.audit_log.clone(),
            self.identity.clone(),
            self.identity.did(),
        );
        self.tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (Ok(add), Ok(proof)) = (
                to.join("aggregate/add-checkpoint"),
                to.join(&format!("aggregate/proof/{did}")),
            ) else {
                warn!("the aggregator URL cannot take a path");
                return;
            };
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut acknowledged = 0u64;
            let mut kept = kept_size(&log);
            loop {
                tick.tick().await;
                if log.size() > acknowledged
                    && let Some(size) = submit(&http, &add, &log, &key).await
                {
                    acknowledged = size;
                }
                if kept < acknowledged {
                    match keep(&http, &proof, &log, &did, kept).await {
                        Ok(Some(size)) => kept = size,
                        Ok(None) => {}
                        Err(e) => warn!("not keeping the aggregate proof: {e}"),
                    }
                }
            }
        }));
    }

    /// The aggregate proof this node keeps of its own log, if any
    /// (`talos/aggregate-proof@v1` text).
    pub fn own_aggregate_proof(&self) -> Result<Option<String>, NodeError> {
        Ok(self
            .store()
            .get(CF_META, OWN_PROOF)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }
}

/// Signs and POSTs a checkpoint of the head; the size the aggregator acknowledged.
async fn submit(
    http: &reqwest::Client,
    url: &reqwest::Url,
    log: &Arc<AuditLog>,
    key: &talos_identity::IdentityKey,
) -> Option<u64> {
    let (log, key) = (Arc::clone(log), key.clone());
    let signed = tokio::task::spawn_blocking(move || {
        let head = log.head();
        sign_talos(&key, head).map(|n| (n.to_text(), head.size))
    })
    .await;
    let Ok(Ok((note, size))) = signed else {
        warn!("signing a checkpoint for the aggregator failed");
        return None;
    };
    match http.post(url.clone()).body(note).send().await {
        Ok(r) if r.status().is_success() => {
            debug!(size, "checkpoint aggregated");
            Some(size)
        }
        Ok(r) => {
            warn!(
                status = r.status().as_u16(),
                "the aggregator refused a checkpoint"
            );
            None
        }
        Err(e) => {
            warn!("the aggregator is unreachable: {}", e.without_url());
            None
        }
    }
}

/// The agent head size of the proof kept, 0 if none (or unreadable: fetched again).
fn kept_size(log: &AuditLog) -> u64 {
    let Ok(Some(bytes)) = log.store().get(CF_META, OWN_PROOF) else {
        return 0;
    };
    String::from_utf8(bytes)
        .ok()
        .and_then(|t| AggregateProof::parse(&t).ok())
        .and_then(|p| p.verify().ok())
        .map_or(0, |a| a.head.size)
}

/// Fetches, checks and stores the aggregator's proof if it covers more than `kept`; the
/// head size it covers, or None while the aggregator has published nothing newer.
async fn keep(
    http: &reqwest::Client,
    url: &reqwest::Url,
    log: &Arc<AuditLog>,
    did: &Did,
    kept: u64,
) -> Result<Option<u64>, KeepError> {
    let unreachable = |e: reqwest::Error| KeepError::Unreachable(e.without_url().to_string());
    let mut r = http.get(url.clone()).send().await.map_err(unreachable)?;
    match r.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        s => return Err(KeepError::Status(s)),
    }
    // Read at most one proof's worth: the aggregator is a stranger's server.
    let body = read_bounded(&mut r, MAX_AGGREGATE_PROOF_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { .. } => KeepError::TooLarge,
            BodyError::Read(why) => KeepError::Unreachable(why),
        })?;
    let text = String::from_utf8(body).map_err(|_| AggregateError::Malformed("not UTF-8"))?;
    let (log, did) = (Arc::clone(log), *did);
    tokio::task::spawn_blocking(move || {
        let proof = AggregateProof::parse(&text)?;
        let got = proof.verify()?;
        let ours = got.agent == did
            && got.head.size <= log.size()
            && log.root_at(got.head.size)? == got.head.root;
        if !ours {
            return Err(KeepError::NotOurs);
        }
        if got.head.size <= kept {
            return Ok(None);
        }
        let mut w = Writes::default();
        w.put(CF_META, OWN_PROOF, proof.to_text().into_bytes());
        log.store().write_all(w, true)?;
        info!(
            size = got.head.size,
            aggregator_size = got.aggregator_head.size,
            "aggregate proof kept"
        );
        Ok(Some(got.head.size))
    })
    .await
    .map_err(|e| KeepError::Task(e.to_string()))?
}
