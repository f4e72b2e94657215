//! Sessions and capabilities through the local API:
//!
//! - `GET /v1/sessions?after=&max=` → `{"sessions": [{"peer", "sent", "received"}], "next"}`;
//! - `POST /v1/capabilities` `{"to", "cap": [Capability], "ttl"?}` → `{"chain", "jti",
//!   "commitment"}`: a root token this agent issues (and audits);
//! - `POST /v1/capabilities/delegate` `{"parent": [chain], "to", "cap", "ttl"?}` → the
//!   extended chain (refused if it widens what the parent grants).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use talos_capability::{Capability, Claims, Token};
use talos_identity::did_key;
use talos_primitives::{CapabilityId, Did};

use super::{ApiState, MAX_READ, NodeError, bad, internal, parse_json};

/// Routes for sessions and capabilities (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/sessions", get(sessions))
        .route("/v1/capabilities", post(issue))
        .route("/v1/capabilities/delegate", post(delegate))
}

/// Longest lifetime the API issues (a day); shorter is better, revocation covers the rest.
const MAX_TTL: u64 = 24 * 3600;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionsQuery {
    after: Option<String>,
    max: Option<usize>,
}

async fn sessions(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<SessionsQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let after = match q.after {
        Some(d) => {
            Some(did_key::decode(&d).map_err(|e| bad(format!("`after` is not a did:key: {e}")))?)
        }
        None => None,
    };
    let max = q.max.unwrap_or(256).clamp(1, MAX_READ);
    let list = s.node.sessions(after, max).await.map_err(internal)?;
    let next = list.last().map(|x| did_key::encode(&x.peer));
    let sessions: Vec<_> = list
        .iter()
        .map(
            |x| json!({ "peer": did_key::encode(&x.peer), "sent": x.sent, "received": x.received }),
        )
        .collect();
    Ok(axum::Json(json!({ "sessions": sessions, "next": next })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssueBody {
    to: String,
    cap: Vec<Capability>,
    #[serde(default)]
    ttl: Option<u64>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn issued(chain: Vec<String>, leaf: &Token) -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "chain": chain,
        "jti": leaf.claims().jti,
        "commitment": leaf.commitment(),
    }))
}

fn refused(e: talos_capability::CapError) -> NodeError {
    NodeError::BadRequest(format!("cannot sign it: {e}"))
}

async fn issue(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let b: IssueBody = parse_json(&body)?;
    let to = Did::parse(&b.to).map_err(|e| bad(format!("`to` is not a DID: {e}")))?;
    if b.cap.is_empty() {
        return Err(bad("`cap` grants at least one capability"));
    }
    let key = s.node.identity_key();
    let t = now();
    let claims = Claims {
        iss: key.did(),
        aud: to,
        cap: b.cap,
        nbf: t,
        exp: t.saturating_add(b.ttl.unwrap_or(3600).clamp(1, MAX_TTL)),
        jti: CapabilityId(rand::random()),
        prf: None,
    };
    let token = Token::issue(key, claims).map_err(refused)?;
    s.node.record_issued(&token, None).await.map_err(internal)?;
    Ok(issued(vec![token.as_str().to_string()], &token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DelegateBody {
    parent: Vec<String>,
    to: String,
    cap: Vec<Capability>,
    #[serde(default)]
    ttl: Option<u64>,
}

async fn delegate(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let b: DelegateBody = parse_json(&body)?;
    let to = Did::parse(&b.to).map_err(|e| bad(format!("`to` is not a DID: {e}")))?;
    let leaf_text = b
        .parent
        .last()
        .ok_or_else(|| bad("`parent` holds the chain, root first"))?;
    let leaf = Token::parse(leaf_text).map_err(refused)?;
    let t = now();
    let exp = t
        .saturating_add(b.ttl.unwrap_or(3600).clamp(1, MAX_TTL))
        .min(leaf.claims().exp);
    let child = leaf
        .delegate(
            s.node.identity_key(),
            to,
            b.cap,
            t.max(leaf.claims().nbf),
            exp,
            CapabilityId(rand::random()),
        )
        .map_err(refused)?;
    s.node
        .record_issued(&child, Some(leaf.commitment()))
        .await
        .map_err(internal)?;
    let mut chain = b.parent;
    chain.push(child.as_str().to_string());
    Ok(issued(chain, &child))
}
