//! The audit endpoints of the local API (the node holds its log and chain open, so this
//! is how an agent or an auditor gets records while it runs):
//!
//! - `GET /v1/audit/head` → `{"treeSize", "root"}`;
//! - `GET /v1/audit/checkpoint` → `{"note", "verifierKey", "published"}`: a C2SP signed
//!   note of the head now, and the published one (cosigned, anchored) if any;
//! - `GET /v1/audit/proof?index=&size=` → an RFC 9162 inclusion proof (JSON wire form,
//!   what `talos audit verify-inclusion` and `verify-anchored` read);
//! - `GET /v1/audit/consistency?old=&new=` → a consistency proof;
//! - `GET /v1/audit/events?from=&max=` → `{"events": [{"index", "leafHash", "event"}]}`:
//!   the signed events themselves (digests and ids only) and their bytes, at most 256;
//! - `POST /v1/audit/anchor` → `{"anchored": bool, ...}`: anchor the head now;
//! - `POST /v1/audit/publish` → `{"treeSize", "root", "note"}`: publish a checkpoint now
//!   (cosigned by the configured witnesses), as the public log serves it;
//! - `GET /v1/audit/anchored` → the latest head anchored on the chain for this agent,
//!   with its block and transaction;
//! - `GET /v1/audit/aggregate-proof` → the `talos/aggregate-proof@v1` this node keeps of
//!   its own log (`talos up --aggregator`), 404 until its aggregator has published one.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use talos_audit::wire::B64;

use super::{ApiState, NodeError, internal};
use crate::records::{self, RecordError};

/// Routes under `/v1/audit` (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/audit/head", get(head))
        .route("/v1/audit/checkpoint", get(checkpoint))
        .route("/v1/audit/proof", get(proof))
        .route("/v1/audit/consistency", get(consistency))
        .route("/v1/audit/events", get(events))
        .route("/v1/audit/anchor", post(anchor))
        .route("/v1/audit/publish", post(publish))
        .route("/v1/audit/anchored", get(anchored))
        .route("/v1/audit/aggregate-proof", get(aggregate_proof))
        .route("/v1/did/publish", post(publish_did))
        .route("/v1/dids/{did}", get(resolve_did))
}

fn record_error(e: RecordError) -> NodeError {
    e.into()
}

async fn aggregate_proof(State(s): State<Arc<ApiState>>) -> Result<String, NodeError> {
    s.node.own_aggregate_proof()?.ok_or_else(|| {
        NodeError::NotFound("no aggregate proof is kept yet (talos up --aggregator)".into())
    })
}

async fn head(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
    let h = s.node.audit_log().head();
    axum::Json(json!({ "treeSize": h.size, "root": B64(h.root) }))
}

async fn checkpoint(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let (note, vkey) = s.node.checkpoint().map_err(record_error)?;
    let published = s.node.published().map(|p| p.note);
    Ok(axum::Json(
        json!({ "note": note, "verifierKey": vkey, "published": published }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProofQuery {
    index: u64,
    size: Option<u64>,
}

async fn proof(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<ProofQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let log = s.node.audit_log().clone();
    let p = tokio::task::spawn_blocking(move || records::inclusion(&log, q.index, q.size))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(record_error)?;
    Ok(axum::Json(p))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventsQuery {
    #[serde(default)]
    from: u64,
    max: Option<u64>,
}

async fn events(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<EventsQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let log = s.node.audit_log().clone();
    let max = q.max.unwrap_or(records::MAX_EVENTS);
    let events = tokio::task::spawn_blocking(move || records::events(&log, q.from, max))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(record_error)?;
    Ok(axum::Json(json!({ "events": events })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let log = s.node.audit_log().clone();
    let p = tokio::task::spawn_blocking(move || records::consistency(&log, q.old, q.new))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map_err(record_error)?;
    Ok(axum::Json(p))
}

async fn anchor(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    Ok(axum::Json(
        match s.node.anchor_now().await.map_err(internal)? {
            Some(a) => json!({
                "anchored": true,
                "did": a.did.to_string(),
                "treeSize": a.head.size,
                "root": B64(a.head.root),
                "block": a.at.block,
                "tx": a.at.tx.to_string(),
            }),
            None => json!({ "anchored": false, "reason": "nothing new since the last anchor" }),
        },
    ))
}

async fn publish(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let p = s
        .node
        .publish_now()
        .await?
        .ok_or_else(|| NodeError::NotFound("the log is empty: nothing to publish".into()))?;
    Ok(axum::Json(
        json!({ "treeSize": p.head.size, "root": B64(p.head.root), "note": p.note }),
    ))
}

async fn publish_did(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let r = s.node.publish_did().await.map_err(internal)?;
    Ok(axum::Json(
        json!({ "did": talos_primitives::Did::Key(s.node.identity()).to_string(), "chain": r }),
    ))
}

/// A DID resolved through the chain: the on-chain record and, for a did:key, the
/// document derived from the key with whether its hash is the one registered.
async fn resolve_did(
    State(s): State<Arc<ApiState>>,
    axum::extract::Path(did): axum::extract::Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let parsed =
        talos_primitives::Did::parse(&did).map_err(|e| super::bad(format!("not a DID: {e}")))?;
    let record = s
        .node
        .resolve_did(&parsed)
        .await
        .map_err(internal)?
        .ok_or_else(|| NodeError::NotFound("this DID is not registered on the chain".into()))?;
    let document = match parsed.as_key() {
        Some(k) => Some(
            talos_identity::did_key::document(k, talos_identity::did_key::KeyFormat::Multikey)
                .map_err(|e| NodeError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let matches = match &document {
        Some(d) => Some(
            talos_identity::jcs::digest(d).map_err(|e| NodeError::Internal(e.to_string()))?
                == record.doc_hash,
        ),
        None => None,
    };
    Ok(axum::Json(json!({
        "did": parsed.to_string(),
        "chain": record,
        "document": document,
        "documentMatches": matches,
    })))
}

async fn anchored(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    match s.node.anchored().await.map_err(internal)? {
        Some(h) => {
            let did = talos_primitives::Did::Key(s.node.identity());
            // Where it was anchored (the block an auditor looks up).
            let at = s
                .node
                .anchor_backend()
                .await
                .map_err(internal)?
                .root_at(&did, h.size)
                .await
                .map_err(|e| internal(NodeError::from(e)))?;
            Ok(axum::Json(json!({
                "did": did.to_string(),
                "treeSize": h.size,
                "root": B64(h.root),
                "block": at.map(|a| a.at.block),
                "tx": at.map(|a| a.at.tx.to_string()),
            })))
        }
        None => Err(NodeError::NotFound(
            "nothing anchored for this agent yet".into(),
        )),
    }
}
