//! Approvals through the local API (capability FORMAT.md §3.5, `apv`; docs/api.md):
//!
//! - `GET /v1/approvals` → `{"approvals": [{"id", "holder", "caller", "resource",
//!   "action", "args", "request", "exp"}]}`: the calls other nodes hold until this agent
//!   approves them;
//! - `POST /v1/approvals/{id}` → `{"id", "holder", "request", "approval"}`: signs the
//!   approval, audits it (`approval_granted`) and hands it to the holder's node (502 when
//!   that node cannot be reached: the request stays, to try again);
//! - `DELETE /v1/approvals/{id}` → 204: declines it (the holder refuses the call
//!   `not_approved` once its request lapses).
//!
//! A caller whose call is held gets 202 from `/v1/invoke`, problem kind `pending`, with
//! the request's `approval` id; sending the same call again (a fresh nonce) after the
//! approvals arrived gets it answered.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use talos_primitives::CapabilityId;

use super::{ApiState, NodeError, bad};

/// Routes for approvals (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/approvals", get(list))
        .route("/v1/approvals/{id}", post(approve).delete(decline))
}

fn id_of(id: &str) -> Result<CapabilityId, NodeError> {
    id.parse()
        .map_err(|_| bad("an approval request id is 32 lowercase hex digits"))
}

async fn list(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    Ok(axum::Json(
        json!({ "approvals": s.node.approvals_asked().await? }),
    ))
}

async fn approve(
    State(s): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let id = id_of(&id)?;
    let (holder, request, approval) = s.node.approve(id).await?;
    Ok(axum::Json(json!({
        "id": id.to_string(),
        "holder": holder,
        "request": request,
        "approval": approval,
    })))
}

async fn decline(
    State(s): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    s.node.decline(id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
