//! The call endpoints of the local API (calls between agents under capabilities):
//!
//! - `POST /v1/invoke` `{"to", "chain": [..], "resource", "action", "args"?, "nonce"?,
//!   "atMs"?, "detached"?}` → 200 `{"result", "nonce", "atMs"}`, or problem+json (see
//!   `NodeError`): the peer node's refusal, 403 (429 when rate limited) with the refusal's
//!   `kind` plus `nonce` and `atMs`; the peer agent's failure, 502 (504 when it did not
//!   answer in time); an unreachable peer, 502 `peer_unreachable`. A retry with the same
//!   `nonce` and `atMs` is refused as a replay, so it never runs twice;
//! - `POST /v1/peers/{did}/invoke`: the same call as plain HTTP (the body without `to`;
//!   200's body is the result itself);
//! - `GET /v1/calls?after=&max=&waitMs=&resource=` → `{"calls": [..], "next"}`: calls the
//!   sidecar let through to this agent (long-poll), only those `resource` (a pattern)
//!   matches when given;
//! - `POST /v1/calls/{id}` `{"result"}` or `{"error", "kind"?}`: the agent's answer;
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
use talos_net::invoke::InvokeResponse;
use talos_primitives::CapabilityId;

use super::{ApiState, MAX_READ, MAX_WAIT, NodeError, bad, internal, parse_json};
use crate::node::{Answer, AnswerError, Authority, Invoke, InvokeFailure, Sent};
use talos_audit::event::DenyKind;
use talos_capability::{Capability, ResourcePattern};
use talos_primitives::TraceParent;

/// Bytes of one answer's request body: the largest response a call may have, plus room
/// for the JSON around it.
const MAX_ANSWER_BODY: usize = talos_net::invoke::MAX_INVOKE_RESPONSE + 4096;

/// Routes for calls and revocations (the caller adds the token check).
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/invoke", post(invoke))
        .route("/v1/peers/{did}/invoke", post(invoke_peer))
        .route("/v1/calls", get(calls))
        // An answer may be as large as a call's response (256 KiB), above the API's
        // default body bound.
        .route(
            "/v1/calls/{id}",
            post(answer).layer(axum::extract::DefaultBodyLimit::max(MAX_ANSWER_BODY)),
        )
        .route(
            "/v1/calls/answers",
            post(answer_many).layer(axum::extract::DefaultBodyLimit::max(super::MAX_BATCH_BODY)),
        )
        .route("/v1/capabilities/revoke", post(revoke))
        .route("/v1/transactions", axum::routing::get(transactions))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// The caller's W3C trace context, passed on to the callee.
    #[serde(default)]
    traceparent: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TxnStart {
    #[serde(default)]
    sub: Option<String>,
    purp: String,
    azd: Vec<Capability>,
}

/// A refused or failed call as problem+json, with the call's `nonce`, `atMs` and `txn`
/// so the agent can retry it as the same call (a retry is refused as a replay, never run
/// twice).
fn with_call(e: NodeError, sent: &Sent) -> Response {
    let mut extra = Map::new();
    extra.insert("nonce".into(), json!(hex::encode(sent.nonce)));
    extra.insert("atMs".into(), json!(sent.at_ms));
    extra.insert("txn".into(), json!(sent.txn));
    if e.kind() == "pending" || e.kind() == "not_approved" {
        extra.insert(
            "approval".into(),
            json!(sent.approval.map(|a| a.to_string())),
        );
    }
    super::problem::respond(&e, extra)
}

async fn invoke(State(s): State<Arc<ApiState>>, body: Bytes) -> Result<Response, NodeError> {
    let b: InvokeBody = parse_json(&body)?;
    Ok(match call_peer(&s, b).await? {
        Ok((result, sent)) => {
            let (nonce, at_ms) = (hex::encode(sent.nonce), sent.at_ms);
            axum::Json(json!({ "result": result, "nonce": nonce, "atMs": at_ms, "txn": sent.txn }))
                .into_response()
        }
        Err(refused) => refused,
    })
}

/// `POST /v1/peers/{did}/invoke`: the call as plain HTTP, for an agent that only changes
/// its base URL. The body is `/v1/invoke`'s without `to` (the peer is in the path); a
/// `traceparent` header is used when the body has none. 200's body is the peer agent's
/// result itself, with the call's `nonce` and time in the `talos-nonce` and
/// `talos-at-ms` headers; failures are the same problem documents as `/v1/invoke`'s.
async fn invoke_peer(
    State(s): State<Arc<ApiState>>,
    Path(did): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, NodeError> {
    let mut fields: Map<String, Value> = parse_json(&body)?;
    if fields.contains_key("to") {
        return Err(bad("the peer is the path's DID; the body has no `to`"));
    }
    fields.insert("to".into(), Value::String(did));
    // W3C Trace Context: a header that does not parse is ignored, not an error.
    if let Some(tp) = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .filter(|t| TraceParent::parse(t).is_ok())
    {
        fields
            .entry("traceparent")
            .or_insert_with(|| Value::String(tp.to_owned()));
    }
    let b: InvokeBody =
        serde_json::from_value(Value::Object(fields)).map_err(|e| bad(e.to_string()))?;
    Ok(match call_peer(&s, b).await? {
        Ok((result, sent)) => (
            [
                ("talos-nonce", hex::encode(sent.nonce)),
                ("talos-at-ms", sent.at_ms.to_string()),
            ],
            axum::Json(result),
        )
            .into_response(),
        Err(refused) => refused,
    })
}

/// Makes the call `b` describes: the peer agent's result, or the refusal or failure as
/// its problem document (with the call's `nonce` and `atMs`); an error when the call
/// could not be made.
async fn call_peer(
    s: &ApiState,
    b: InvokeBody,
) -> Result<Result<(Value, Sent), Response>, NodeError> {
    let to = s
        .recipients
        .decode(&b.to)
        .map_err(|e| bad(format!("`to` is not a did:key: {e}")))?;
    super::not_self(s, &to)?;
    let under = authority(b.chain, b.txn, b.within, b.azd)?;
    let nonce = match (b.nonce, b.at_ms) {
        (Some(n), Some(at)) => {
            let mut id = [0u8; 16];
            hex::decode_to_slice(&n, &mut id).map_err(|_| bad("`nonce` is 32 hex digits"))?;
            Some((id, at))
        }
        (None, None) => None,
        _ => return Err(bad("give both `nonce` and `atMs`, or neither")),
    };
    let traceparent = b
        .traceparent
        .map(|t| TraceParent::parse(&t))
        .transpose()
        .map_err(|e| bad(format!("`traceparent`: {e}")))?;
    let call = Invoke {
        traceparent,
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
            return Err(NodeError::TooLarge(e.to_string()));
        }
        Err(InvokeFailure::Network(e)) => return Err(NodeError::PeerUnreachable(e.to_string())),
        Err(e) => return Err(NodeError::BadRequest(e.to_string())),
    };
    Ok(match crate::node::from_peer(response) {
        InvokeResponse::Ok { result } => Ok((result, sent)),
        InvokeResponse::Refused { kind } => Err(with_call(NodeError::Refused { kind }, &sent)),
        InvokeResponse::Failed { kind, detail } => {
            Err(with_call(NodeError::PeerFailed { kind, detail }, &sent))
        }
    })
}

/// The authority a call is made under: exactly one of a capability chain, a transaction
/// to start, and the transaction of a call being handled.
fn authority(
    chain: Vec<String>,
    txn: Option<TxnStart>,
    within: Option<u64>,
    azd: Option<Vec<Capability>>,
) -> Result<Authority, NodeError> {
    Ok(match (chain.is_empty(), txn, within) {
        (false, None, None) => Authority::Chain(chain),
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
        (true, None, Some(id)) => Authority::Within { id, azd },
        _ => {
            return Err(bad(
                "give exactly one of `chain` (tokens, root first), `txn` (start a transaction) and `within` (a call being handled)",
            ));
        }
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallsQuery {
    #[serde(default)]
    after: u64,
    max: Option<usize>,
    #[serde(default)]
    wait_ms: u64,
    /// Only calls whose resource this pattern matches (`mcp://fs/**`), so several agent
    /// processes (a proxy beside the agent) each take their own.
    #[serde(default)]
    resource: Option<String>,
}

async fn calls(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<CallsQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let max = q.max.unwrap_or(64).clamp(1, MAX_READ);
    let wait = Duration::from_millis(q.wait_ms).min(MAX_WAIT);
    let only = q
        .resource
        .map(|p| ResourcePattern::parse(&p))
        .transpose()
        .map_err(|e| bad(format!("`resource` is a resource pattern: {e}")))?;
    let got = s.node.calls(q.after, max, wait, only.as_ref()).await;
    let next = got.last().map_or(q.after, |c| c.id);
    Ok(axum::Json(json!({ "calls": got, "next": next })))
}

/// An agent's answer: `{"result": any JSON, null included}` or `{"error", "kind"?}`.
/// Read as a map rather than a struct so a `null` result is told from a missing one.
fn outcome(mut body: Map<String, Value>) -> Result<Answer, NodeError> {
    let result = body.remove("result");
    let error = body.remove("error");
    let kind = body.remove("kind");
    if let Some(extra) = body.keys().next() {
        return Err(bad(format!("unknown field `{extra}` in an answer")));
    }
    match (result, error, kind) {
        (Some(r), None, None) => Ok(Answer::Result(r)),
        (None, Some(Value::String(detail)), kind) => {
            let kind = match kind {
                None => "agent_error".to_owned(),
                Some(Value::String(k)) => k,
                Some(_) => return Err(bad("`kind` is a string")),
            };
            let kind = DenyKind::new(&kind)
                .ok_or_else(|| bad("`kind` is 1 to 32 characters of a-z and _"))?;
            if crate::node::is_node_kind(kind.as_str()) {
                // A caller must never take an agent's failure for a refusal.
                return Err(bad(format!(
                    "`kind` {} is the node's own (a refusal or its failure); name the agent's failure otherwise",
                    kind.as_str()
                )));
            }
            Ok(Answer::Failed { kind, detail })
        }
        (None, Some(_), _) => Err(bad("`error` is a string")),
        (Some(_), None, Some(_)) => Err(bad("`kind` goes with `error`")),
        _ => Err(bad("give exactly one of `result` and `error`")),
    }
}

async fn answer(
    State(s): State<Arc<ApiState>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let outcome = outcome(parse_json(&body)?)?;
    match s.node.answer(id, outcome).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(answer_error(e)),
    }
}

/// Why an answer was not taken, as the API says it.
fn answer_error(e: AnswerError) -> NodeError {
    match e {
        e @ AnswerError::Unknown(_) => NodeError::NotFound(e.to_string()),
        e @ AnswerError::TooLarge(_) => NodeError::TooLarge(e.to_string()),
        AnswerError::Stopped => NodeError::Stopping,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ManyAnswers {
    answers: Vec<Map<String, Value>>,
}

/// Most answers in one request.
const MAX_ANSWERS: usize = 256;

/// `POST /v1/calls/answers` `{"answers": [{"id", "result"} | {"id", "error", "kind"?}]}`
/// → `{"results": [true | {"error", "kind"}]}`, in order: many calls answered with one
/// request (an agent that long-polls a batch of calls answers the batch).
async fn answer_many(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let b: ManyAnswers = parse_json(&body)?;
    if b.answers.is_empty() || b.answers.len() > MAX_ANSWERS {
        return Err(bad(format!("1 to {MAX_ANSWERS} answers")));
    }
    // All checked before any is sent, so a malformed batch answers nothing.
    let mut outcomes = Vec::with_capacity(b.answers.len());
    for (i, mut a) in b.answers.into_iter().enumerate() {
        let id = a
            .remove("id")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad(format!("answer {i}: `id` is the call's id")))?;
        let outcome = outcome(a).map_err(|e| bad(format!("answer {i}: {e}")))?;
        outcomes.push((id, outcome));
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
            Err(e) => {
                let e = answer_error(e);
                json!({ "error": e.to_string(), "kind": e.kind() })
            }
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeBody {
    id: String,
}

async fn revoke(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let b: RevokeBody = parse_json(&body)?;
    let mut id = [0u8; 16];
    hex::decode_to_slice(b.id.trim(), &mut id)
        .map_err(|_| bad("`id` is a token id: 32 hex digits (the token's `jti`)"))?;
    let fresh = s.node.revoke(CapabilityId(id)).await.map_err(internal)?;
    Ok(axum::Json(json!({ "revoked": true, "fresh": fresh })))
}

/// `GET /v1/transactions`: the transactions this agent was called in lately (at most
/// 64, newest first), each with its hop chain and every hop's claims.
async fn transactions(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
    axum::Json(json!({ "transactions": s.node.recent_transactions() }))
}
