//! Budgets and attestations through the local API (FORMAT.md §3.5, docs/attestation.md):
//!
//! - `GET /v1/budgets` → `{"budgets": [{"id", "cap", "root", "budget", "window", "spent",
//!   "left"}]}`: the counters of `bud` caveats on calls this node admitted;
//! - `GET /v1/attestations` → `{"attestations": [credential summary]}`: the credentials
//!   this node holds about itself;
//! - `POST /v1/attestations` (the credential, JSON) → 201 with its summary: held from now
//!   on and presented on calls whose leaf's `att` caveat names its issuer.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use talos_attest::credential::describe;

use super::{ApiState, NodeError, bad};

/// Routes for budgets and attestations (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/budgets", get(budgets))
        .route("/v1/attestations", get(attestations).post(add_attestation))
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
