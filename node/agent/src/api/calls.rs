//! The call endpoints of the local API (calls between agents under capabilities):
//!
//! - `POST /v1/invoke` `{"to", "chain": [..], "resource", "action", "args"?, "nonce"?,
//!   "at_ms"?, "detached"?}` → 200 `{"result", "nonce", "at_ms"}`, or the peer node's
//!   refusal: 403 (429 when rate limited) `{"error", "kind", "nonce", "at_ms"}`; the peer
//!   agent's failure: 502 (504 when it did not answer in time) `{"error", "kind"}`;
//!   unreachable peer: 502 `{"error"}`. A retry with the same `nonce` and `at_ms` is
//!   refused as a replay, so it never runs twice;
//! - `GET /v1/calls?after=&max=&wait_ms=` → `{"calls": [..], "next"}`: calls the sidecar
//!   let through to this agent (long-poll);
//! - `POST /v1/calls/{id}` `{"result"}` or `{"error"}`: the agent's answer;
//! - `POST /v1/capabilities/revoke` `{"id": hex}` → `{"revoked": true, "fresh": bool}`,
//!   durable before it returns.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use talos_identity::did_key;
use talos_net::invoke::InvokeResponse;
use talos_primitives::CapabilityId;

use super::{ApiError, ApiState, MAX_READ, MAX_WAIT, bad, internal, parse_json};
use crate::node::{AnswerError, Authority, Invoke, InvokeFailure, Sent};
use talos_capability::Capability;

/// Routes for calls and revocations (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/invoke", post(invoke))
        .route("/v1/calls", get(calls))
        .route("/v1/calls/{id}", post(answer))
        .route("/v1/calls/answers", post(answer_many))
        .route("/v1/capabilities/revoke", post(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvokeBody {
    to: String,
    /// A capability chain, root first...
    #[serde(default)]
    chain: Vec<String>,
    /// ...or a transaction to start...
    #[serde(default)]
    txn: Option<TxnStart>,
    /// ...or the transaction of the call this agent is handling, its token replaced.
    #[serde(default)]
    within: Option<u64>,
    /// With `within`: narrower authorization details for the next hop.
    #[serde(default)]
    azd: Option<Vec<Capability>>,
    resource: String,
    action: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    at_ms: Option<u64>,
    /// Attach a detached invocation signed by this agent (an extra proof of this call).
    #[serde(default)]
    detached: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TxnStart {
    #[serde(default)]
    sub: Option<String>,
    purp: String,
    azd: Vec<Capability>,
}

fn with_kind(status: StatusCode, error: String, kind: &str, sent: &Sent) -> Response {
    let body = json!({
        "error": error,
        "kind": kind,
        "nonce": hex::encode(sent.nonce),
        "at_ms": sent.at_ms,
        "txn": sent.txn,
    });
    (status, axum::Json(body)).into_response()
}

async fn invoke(State(s): State<Arc<ApiState>>, body: Bytes) -> Result<Response, ApiError> {
    let b: InvokeBody = parse_json(&body)?;
    let to = did_key::decode(&b.to).map_err(|e| bad(format!("`to` is not a did:key: {e}")))?;
    let under = match (b.chain.is_empty(), b.txn, b.within) {
        (false, None, None) => Authority::Chain(b.chain),
        (true, Some(t), None) => Authority::Start {
            sub: match t.sub {
                Some(d) => Some(
                    talos_primitives::Did::parse(&d)
                        .map_err(|e| bad(format!("`txn.sub` is not a DID: {e}")))?,
                ),
                None => None,
            },
            purp: t.purp,
            azd: t.azd,
        },
        (true, None, Some(id)) => Authority::Within { id, azd: b.azd },
        _ => {
            return Err(bad(
                "give exactly one of `chain` (tokens, root first), `txn` (start a transaction) and `within` (a call being handled)",
            ));
        }
    };
    let nonce = match (b.nonce, b.at_ms) {
        (Some(n), Some(at)) => {
            let mut id = [0u8; 16];
            hex::decode_to_slice(&n, &mut id).map_err(|_| bad("`nonce` is 32 hex digits"))?;
            Some((id, at))
        }
        (None, None) => None,
        _ => return Err(bad("give both `nonce` and `at_ms`, or neither")),
    };
    let call = Invoke {
        to,
        under,
        resource: b.resource,
        action: b.action,
        args: b.args,
        nonce,
        sign_invocation: b.detached,
    };
    let (response, sent) = match s.node.invoke(call).await {
        Ok(r) => r,
        Err(InvokeFailure::Unsigned(e)) => {
            return Err(bad(format!("the chain cannot be used: {e}")));
        }
        Err(e @ InvokeFailure::NoTransaction(_)) => return Err(bad(e.to_string())),
        Err(InvokeFailure::Bounds(e)) => {
            return Err(ApiError(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()));
        }
        Err(e) => return Err(ApiError(StatusCode::BAD_GATEWAY, e.to_string())),
    };
    Ok(match response {
        InvokeResponse::Ok { result } => {
            let (nonce, at_ms) = (hex::encode(sent.nonce), sent.at_ms);
            axum::Json(json!({ "result": result, "nonce": nonce, "at_ms": at_ms, "txn": sent.txn }))
                .into_response()
        }
        InvokeResponse::Refused { kind } => {
            let status = if kind == "rate_limited" {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::FORBIDDEN
            };
            let msg = format!("refused by the peer's node: {kind}");
            with_kind(status, msg, &kind, &sent)
        }
        InvokeResponse::Failed { kind, detail } => {
            let status = if kind == "agent_timeout" {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            let msg = match detail {
                Some(d) => format!("the peer agent failed ({kind}): {d}"),
                None => format!("the peer agent failed ({kind})"),
            };
            with_kind(status, msg, &kind, &sent)
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallsQuery {
    #[serde(default)]
    after: u64,
    max: Option<usize>,
    #[serde(default)]
    wait_ms: u64,
}

async fn calls(State(s): State<Arc<ApiState>>, Query(q): Query<CallsQuery>) -> impl IntoResponse {
    let max = q.max.unwrap_or(64).clamp(1, MAX_READ);
    let wait = Duration::from_millis(q.wait_ms).min(MAX_WAIT);
    let got = s.node.calls(q.after, max, wait).await;
    let next = got.last().map_or(q.after, |c| c.id);
    axum::Json(json!({ "calls": got, "next": next }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<String>,
}

/// An agent's answer: its result, or its error message; `None` unless exactly one.
fn outcome(result: Option<Value>, error: Option<String>) -> Option<Result<Value, String>> {
    match (result, error) {
        (Some(r), None) => Some(Ok(r)),
        (None, Some(e)) => Some(Err(e)),
        _ => None,
    }
}

async fn answer(
    State(s): State<Arc<ApiState>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let b: AnswerBody = parse_json(&body)?;
    let outcome = outcome(b.result, b.error)
        .ok_or_else(|| bad("give exactly one of `result` and `error`"))?;
    match s.node.answer(id, outcome).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e @ AnswerError::Unknown(_)) => Err(ApiError(StatusCode::NOT_FOUND, e.to_string())),
        Err(e @ AnswerError::TooLarge(_)) => {
            Err(ApiError(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()))
        }
        Err(e) => Err(ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManyAnswers {
    answers: Vec<OneAnswer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneAnswer {
    id: u64,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<String>,
}

/// Most answers in one request.
const MAX_ANSWERS: usize = 256;

/// `POST /v1/calls/answers` `{"answers": [{"id", "result"} | {"id", "error"}]}` →
/// `{"results": [true | {"error"}]}`, in order: many calls answered with one request
/// (an agent that long-polls a batch of calls answers the batch).
async fn answer_many(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let b: ManyAnswers = parse_json(&body)?;
    if b.answers.is_empty() || b.answers.len() > MAX_ANSWERS {
        return Err(bad(format!("1 to {MAX_ANSWERS} answers")));
    }
    // All checked before any is sent, so a malformed batch answers nothing.
    let mut outcomes = Vec::with_capacity(b.answers.len());
    for (i, a) in b.answers.into_iter().enumerate() {
        let outcome = outcome(a.result, a.error).ok_or_else(|| {
            bad(format!(
                "answer {i}: give exactly one of `result` and `error`"
            ))
        })?;
        outcomes.push((a.id, outcome));
    }
    let results = futures::future::join_all(
        outcomes
            .into_iter()
            .map(|(id, outcome)| s.node.answer(id, outcome)),
    )
    .await;
    let results: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(()) => Value::Bool(true),
            Err(e) => json!({ "error": e.to_string() }),
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    id: String,
}

async fn revoke(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let b: RevokeBody = parse_json(&body)?;
    let mut id = [0u8; 16];
    hex::decode_to_slice(b.id.trim(), &mut id)
        .map_err(|_| bad("`id` is a token id: 32 hex digits (the token's `jti`)"))?;
    let fresh = s.node.revoke(CapabilityId(id)).await.map_err(internal)?;
    Ok(axum::Json(json!({ "revoked": true, "fresh": fresh })))
}
