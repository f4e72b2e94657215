//! The group endpoints of the local API:
//!
//! - `POST /v1/groups` → `{"group": hex}`: a new group with this agent as creator;
//! - `GET /v1/groups` → `{"groups": [...], "invitations": [...]}`;
//! - `GET /v1/groups/{group}` → the group (members, invited, epoch, pending proposal);
//! - `DELETE /v1/groups/{group}`: decline an invitation (or forget a group left);
//! - `POST /v1/groups/{group}/members` `{"did"}`: invite (creator only);
//! - `DELETE /v1/groups/{group}/members/{did}`: remove (creator), or leave (own DID);
//! - `POST /v1/groups/{group}/join`: accept an invitation;
//! - `POST /v1/groups/{group}/messages` `{"data": base64}` → `{"recipients": n}` once
//!   durable. Group messages arrive on `GET /v1/messages` with a `"group"` field.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};
use talos_delivery::{DeliveryError, GroupId, GroupView, Invitation};
use talos_identity::did_key;

use super::{ApiState, MAX_MESSAGE, NodeError, bad, parse_json};

/// Routes under `/v1/groups` (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/groups", get(list).post(create))
        .route("/v1/groups/{group}", get(show).delete(forget))
        .route("/v1/groups/{group}/members", post(invite))
        .route("/v1/groups/{group}/members/{did}", delete(remove))
        .route("/v1/groups/{group}/join", post(join))
        .route("/v1/groups/{group}/messages", post(send))
}

/// A typed delivery error as an HTTP answer (statuses and kinds in `NodeError`).
fn refused(e: DeliveryError) -> NodeError {
    NodeError::Delivery(e)
}

fn group_id(s: &str) -> Result<GroupId, NodeError> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(s, &mut id).map_err(|_| bad("the group id is not 64 hex digits"))?;
    Ok(GroupId(id))
}

fn did(s: &str) -> Result<talos_primitives::Ed25519Public, NodeError> {
    did_key::decode(s).map_err(|e| bad(format!("not a did:key: {e}")))
}

pub(super) fn group_json(g: &GroupView) -> Value {
    json!({
        "group": hex::encode(g.id.0),
        "creator": did_key::encode(&g.creator),
        "members": g.members.iter().map(did_key::encode).collect::<Vec<_>>(),
        "invited": g.invited.iter().map(did_key::encode).collect::<Vec<_>>(),
        "epoch": g.epoch,
        "member": g.member,
        "pending": g.pending,
    })
}

fn invitation_json(i: &Invitation) -> Value {
    json!({
        "group": hex::encode(i.id.0),
        "creator": did_key::encode(&i.creator),
        "members": i.members.iter().map(did_key::encode).collect::<Vec<_>>(),
        "ready": i.ready,
    })
}

async fn create(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let id = s.node.group_create().await.map_err(refused)?;
    Ok(axum::Json(json!({ "group": hex::encode(id.0) })))
}

async fn list(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let (groups, invitations) = s
        .node
        .groups(talos_delivery::MAX_GROUPS as usize)
        .await
        .map_err(refused)?;
    Ok(axum::Json(json!({
        "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
        "invitations": invitations.iter().map(invitation_json).collect::<Vec<_>>(),
    })))
}

async fn show(
    State(s): State<Arc<ApiState>>,
    Path(group): Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    match s.node.group(id).await.map_err(refused)? {
        Some(g) => Ok(axum::Json(group_json(&g))),
        None => Err(NodeError::NotFound("unknown group".into())),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InviteRequest {
    did: String,
}

async fn invite(
    State(s): State<Arc<ApiState>>,
    Path(group): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    let req: InviteRequest = parse_json(&body)?;
    let who = did(&req.did)?;
    s.node.group_invite(id, who).await.map_err(refused)?;
    Ok(axum::Json(json!({})))
}

async fn remove(
    State(s): State<Arc<ApiState>>,
    Path((group, member)): Path<(String, String)>,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    let who = did(&member)?;
    s.node.group_remove(id, who).await.map_err(refused)?;
    Ok(axum::Json(json!({})))
}

async fn forget(
    State(s): State<Arc<ApiState>>,
    Path(group): Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    s.node.group_forget(id).await.map_err(refused)?;
    Ok(axum::Json(json!({})))
}

async fn join(
    State(s): State<Arc<ApiState>>,
    Path(group): Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    s.node.group_join(id).await.map_err(refused)?;
    Ok(axum::Json(json!({})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupSend {
    data: String,
}

async fn send(
    State(s): State<Arc<ApiState>>,
    Path(group): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let id = group_id(&group)?;
    let req: GroupSend = parse_json(&body)?;
    let data = B64
        .decode(req.data.as_bytes())
        .map_err(|_| bad("`data` is not standard base64"))?;
    // The group message adds its own header and signature (158 bytes) inside the
    // pairwise message.
    if data.len() > MAX_MESSAGE - 256 {
        return Err(NodeError::TooLarge("message larger than one frame".into()));
    }
    let recipients = s.node.group_send(id, data).await.map_err(refused)?;
    Ok(axum::Json(json!({ "recipients": recipients })))
}
