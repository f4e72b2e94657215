//! Budgets, attestations and reputation through the local API (FORMAT.md §3.5, docs/attestation.md):
//!
//! - `GET /v1/budgets` → `{"budgets": [{"id", "cap", "root", "budget", "window", "spent",
//!   "left"}]}`: the counters of `bud` caveats on calls this node admitted;
//! - `GET /v1/attestations` → `{"attestations": [credential summary]}`: the credentials
//!   this node holds about itself;
//! - `POST /v1/attestations` (the credential, JSON) → 201 with its summary: held from now
//!   on and presented on calls whose leaf's `att` caveat names its issuer;
//! - `POST /v1/reports` `{"subject", "kind", "evidence"?}` → 201 `{"report", "commitment",
//!   ...}`: a misbehaviour report this agent signs, audited and gossiped
//!   (`crates/reputation/FORMAT.md`);
//! - `GET /v1/reputation/{did}` → `{"did", "score", "reports", "from_seeds", "held",
//!   "min"}`: the DID's score as this node computes it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use talos_attest::credential::describe;

use super::{ApiState, NodeError, bad, parse_json};

/// Routes for budgets and attestations (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/budgets", get(budgets))
        .route("/v1/attestations", get(attestations).post(add_attestation))
        .route("/v1/reports", axum::routing::post(file_report))
        .route("/v1/reputation/{did}", get(reputation))
}

async fn budgets(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
    axum::Json(json!({ "budgets": s.node.budgets() }))
}

async fn attestations(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
    let list: Vec<_> = s.node.attestations().iter().map(describe).collect();
    axum::Json(json!({ "attestations": list }))
}

async fn add_attestation(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    if body.len() > talos_attest::MAX_CREDENTIAL {
        return Err(NodeError::TooLarge(format!(
            "a credential is at most {} bytes",
            talos_attest::MAX_CREDENTIAL
        )));
    }
    let text = std::str::from_utf8(&body).map_err(|_| bad("the credential is not UTF-8"))?;
    let v = s.node.add_attestation(text.to_string()).await?;
    Ok((StatusCode::CREATED, axum::Json(describe(&v))))
}

/// `POST /v1/reports` body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReport {
    subject: String,
    kind: String,
    #[serde(default)]
    evidence: Vec<String>,
}

async fn file_report(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let body: FileReport = parse_json(&body)?;
    let subject =
        talos_primitives::Did::parse(&body.subject).map_err(|e| bad(format!("subject: {e}")))?;
    let kind = talos_reputation::Kind::parse(&body.kind).ok_or_else(|| {
        bad("kind: one of refused_storm, bad_answer, broken_attestation, protocol_violation, operator_report")
    })?;
    if body.evidence.len() > talos_reputation::report::MAX_EVIDENCE {
        return Err(bad("evidence: at most 8 digests"));
    }
    let evidence = body
        .evidence
        .iter()
        .map(|h| h.parse::<talos_primitives::Hash32>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("evidence: SHA-256 digests, 64 lowercase hex each"))?;
    let r = s.node.file_report(subject, kind, evidence).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "report": r.compact,
            "commitment": r.commitment.to_string(),
            "subject": r.report.sub,
            "kind": r.report.knd,
            "iat": r.report.iat,
        })),
    ))
}

async fn reputation(
    State(s): State<Arc<ApiState>>,
    axum::extract::Path(did): axum::extract::Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let did = talos_primitives::Did::parse(&did).map_err(|e| bad(format!("DID: {e}")))?;
    let (score, held) = s.node.reputation(&did)?;
    Ok(axum::Json(json!({
        "did": did,
        "score": score.points,
        "reports": score.reports,
        "from_seeds": score.from_seeds,
        "held": held,
        "min": s.node.min_reputation(),
    })))
}
