//! The local agent API: HTTP/JSON on loopback, behind the per-node bearer token that
//! `talos init` writes. The agent sends and receives messages through it; nothing here
//! logs a message body.
//!
//! - `GET /health/live`, `GET /health/ready` (no token: for supervisors);
//! - `GET /v1/node`: this node's DID, PeerId and listen addresses;
//! - `POST /v1/messages` `{"to": did, "data": base64}` → `{"seq": n}` once durable;
//! - `POST /v1/messages/batch` `{"messages": [{"to", "data"}, ...]}` (at most
//!   [`MAX_BATCH`]) → `{"results": [{"seq": n} | {"error": "..."}, ...]}` once every
//!   stored message is durable (they share one synced write);
//! - `GET /v1/messages?from=i&max=n&waitMs=t` → `{"messages": [...], "next": i}`, a
//!   long-poll when `waitMs` > 0;
//! - `DELETE /v1/messages?through=i` (or `POST /v1/messages/ack` `{"through": i}`) →
//!   `{"deleted": n}`: the agent is done with every entry up to index `i`; they are
//!   deleted, durably (see `docs/api.md` for the inbox's quotas and retention);
//! - `GET /v1/peers`: connected peers;
//! - `/v1/groups...`: sender-key groups (see [`groups`]).

mod approvals;
mod audit;
mod calls;
mod caps;
pub mod dashboard;
mod groups;
mod problem;
mod recipients;
mod trust;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use talos_identity::did_key;

use crate::error::NodeError;
use crate::node::Node;

/// Largest request body (a 48 KiB frame body in base64, plus JSON).
pub const MAX_BODY: usize = 80 * 1024;
/// Largest message: one frame's body less the worst-case envelope (a PQXDH initial
/// message adds about 1.3 KiB, the sealed seq 8 bytes, a mailbox deposit 42).
pub const MAX_MESSAGE: usize = talos_net::frame::MAX_BODY - 2048;
/// Most messages one batch request carries.
pub const MAX_BATCH: usize = 256;
/// Largest batch request body.
pub const MAX_BATCH_BODY: usize = 4 << 20;
/// Longest long-poll.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Most messages one read returns.
pub const MAX_READ: usize = 1024;

struct ApiState {
    node: Arc<Node>,
    token_digest: [u8; 32],
    recipients: recipients::Recipients,
}

fn bad(msg: impl Into<String>) -> NodeError {
    NodeError::BadRequest(msg.into())
}

/// A request body as JSON. Parsed by hand instead of with the Json extractor so every
/// malformed body gets the same JSON error shape.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, NodeError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("bad JSON: {e}")))
}

/// An error from the node's internals, classified by its cause (`NodeError::from`); the
/// chain of causes names keys and sequence numbers, never content.
fn internal(e: impl Into<NodeError>) -> NodeError {
    e.into()
}

/// The RFC 9457 problem document an error answer carries (for tests and tools).
pub fn problem_document(e: &NodeError) -> serde_json::Value {
    problem::document(e)
}

/// The router for `node`, guarded by `token`.
pub fn router(node: Arc<Node>, token: &str) -> Router {
    let state = Arc::new(ApiState {
        node,
        token_digest: Sha256::digest(token.as_bytes()).into(),
        recipients: recipients::Recipients::default(),
    });
    let v1 = Router::new()
        .route("/v1/node", get(node_info))
        .route(
            "/v1/messages",
            get(read_messages)
                .post(send_message)
                .delete(acknowledge_query),
        )
        .route("/v1/messages/ack", axum::routing::post(acknowledge_body))
        .route(
            "/v1/messages/batch",
            axum::routing::post(send_batch).layer(DefaultBodyLimit::max(MAX_BATCH_BODY)),
        )
        .route("/v1/messages/stream", get(stream_messages))
        .route("/v1/peers", get(peers))
        .route("/v1/peers/{did}/card", get(peer_card))
        .route("/v1/peers/{did}/attestations", get(peer_attestations))
        .route("/metrics", get(metrics))
        .merge(groups::routes())
        .merge(calls::routes())
        .merge(audit::routes())
        .merge(caps::routes())
        .merge(trust::routes())
        .merge(approvals::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(|| async { "ready" }))
        .route("/openapi.json", get(openapi))
        .route("/.well-known/agent-card.json", get(agent_card))
        .merge(v1)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::map_response(problem::for_rejections))
        .layer(middleware::map_response(close_after_refused_body))
        .with_state(state)
}

/// `GET /.well-known/agent-card.json` (no token: a card is public): the agent's signed
/// A2A card, or 404 without a `card.toml`.
async fn agent_card(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    card_response(&s.node)
}

/// `GET /v1/peers/{did}/card`: the peer's signed A2A card from its DHT record, verified
/// (signed by that DID); 404 when it publishes none.
async fn peer_card(
    State(s): State<Arc<ApiState>>,
    axum::extract::Path(did): axum::extract::Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let peer = did_key::decode(&did).map_err(|e| bad(format!("not a did:key: {e}")))?;
    match s.node.peer_card(&peer).await? {
        Some(card) => Ok(axum::Json(serde_json::Value::Object(card))),
        None => Err(NodeError::NotFound(
            "the peer's directory record has no card".into(),
        )),
    }
}

/// `GET /v1/peers/{did}/attestations`: the attestation credentials the peer's DHT record
/// carries, each verified (about that DID, valid now), as `{"attestations": [summary]}`.
async fn peer_attestations(
    State(s): State<Arc<ApiState>>,
    axum::extract::Path(did): axum::extract::Path<String>,
) -> Result<impl IntoResponse, NodeError> {
    let peer = did_key::decode(&did).map_err(|e| bad(format!("not a did:key: {e}")))?;
    let list: Vec<_> = s
        .node
        .peer_attestations(&peer)
        .await?
        .iter()
        .map(talos_attest::credential::describe)
        .collect();
    Ok(axum::Json(serde_json::json!({ "attestations": list })))
}

/// The agent's signed card as an answer (the API's and the public log's).
pub(crate) fn card_response(node: &Node) -> Result<axum::Json<serde_json::Value>, NodeError> {
    match node.agent_card() {
        None => Err(NodeError::NotFound(
            "this agent has no card (card.toml)".into(),
        )),
        Some(Err(e)) => Err(NodeError::Internal(e.to_string())),
        Some(Ok(card)) => Ok(axum::Json(serde_json::Value::Object(card))),
    }
}

/// The OpenAPI 3.1 document of this API (written by hand in `api/openapi.json`; a
/// process test calls every path it lists, so a documented route that does not exist
/// fails the build).
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../api/openapi.json"),
    )
}

/// A 413 leaves the rest of the body unread, so the server drops the connection after
/// the response. Saying so lets the client open a new connection for its next request
/// instead of reusing the dying one (which fails as an incomplete message).
async fn close_after_refused_body(mut res: Response) -> Response {
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    res
}

/// Checks the bearer token. Both sides are hashed first so the comparison takes the
/// same time whatever prefix matches.
async fn authorize(
    State(state): State<Arc<ApiState>>,
    req: Request,
    next: Next,
) -> Result<Response, NodeError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            NodeError::Unauthorized("missing `Authorization: Bearer <token>` (the token is in the node's api-token file)".into())
        })?;
    let digest: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
    if digest != state.token_digest {
        return Err(NodeError::Unauthorized("wrong API token".into()));
    }
    Ok(next.run(req).await)
}

async fn node_info(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let listen = s
        .node
        .client()
        .listen_addrs()
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?;
    Ok(axum::Json(json!({
        "did": did_key::encode(&s.node.identity()),
        "peerId": s.node.client().local_peer_id().to_string(),
        "listen": listen.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendRequest {
    to: String,
    data: String,
}

#[derive(Serialize)]
struct SendResponse {
    seq: u64,
}

async fn send_message(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let req: SendRequest = parse_json(&body)?;
    let to = s
        .recipients
        .decode(&req.to)
        .map_err(|e| bad(format!("`to` is not a did:key: {e}")))?;
    not_self(&s, &to)?;
    let data = B64
        .decode(req.data.as_bytes())
        .map_err(|_| bad("`data` is not standard base64"))?;
    if data.len() > MAX_MESSAGE {
        return Err(NodeError::TooLarge("message larger than one frame".into()));
    }
    let seq = s.node.send(to, None, data).await.map_err(internal)?;
    Ok(axum::Json(SendResponse { seq }))
}

/// A node does not send to, or call, its own agent: there is no session with oneself, so
/// such a message would be acknowledged and then never delivered.
fn not_self(s: &ApiState, to: &talos_primitives::Ed25519Public) -> Result<(), NodeError> {
    if *to == s.node.identity() {
        return Err(bad(
            "`to` is this agent's own DID: a node does not send to or call itself",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchRequest {
    messages: Vec<SendRequest>,
}

async fn send_batch(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    let req: BatchRequest = parse_json(&body)?;
    if req.messages.is_empty() || req.messages.len() > MAX_BATCH {
        return Err(bad(format!("a batch holds 1 to {MAX_BATCH} messages")));
    }
    // Every message is checked before any is stored: a malformed batch stores nothing.
    let mut items = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let to = s
            .recipients
            .decode(&m.to)
            .map_err(|e| bad(format!("message {i}: `to` is not a did:key: {e}")))?;
        not_self(&s, &to).map_err(|e| bad(format!("message {i}: {e}")))?;
        let data = B64
            .decode(m.data.as_bytes())
            .map_err(|_| bad(format!("message {i}: `data` is not standard base64")))?;
        if data.len() > MAX_MESSAGE {
            return Err(NodeError::TooLarge(format!(
                "message {i} is larger than one frame"
            )));
        }
        items.push((to, data));
    }
    let results = s.node.send_batch(items).await;
    let results: Vec<serde_json::Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(seq) => json!({ "seq": seq }),
            Err(e) => json!({ "error": e.to_string(), "kind": e.kind() }),
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReadQuery {
    #[serde(default)]
    from: u64,
    max: Option<usize>,
    #[serde(default)]
    wait_ms: u64,
}

#[derive(Serialize)]
struct Message {
    index: u64,
    from: String,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    data: String,
}

impl Message {
    fn of(d: &talos_delivery::Delivered) -> Message {
        Message {
            index: d.index,
            from: did_key::encode(&d.peer),
            seq: d.seq,
            group: d.group.map(|g| hex::encode(g.0)),
            data: B64.encode(&d.body[..]),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StreamQuery {
    #[serde(default)]
    from: u64,
}

/// `GET /v1/messages/stream?from=N` (WebSocket): every message from inbox index `from`
/// on, one JSON text frame each (the long-poll's shape), in order, as they arrive. The
/// inbox is the truth: a client that reconnects with the next index misses nothing.
async fn stream_messages(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<StreamQuery>,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| push_messages(s, q.from, socket))
}

async fn push_messages(s: Arc<ApiState>, mut from: u64, mut socket: axum::extract::ws::WebSocket) {
    use axum::extract::ws::Message as Ws;
    loop {
        tokio::select! {
            got = s.node.wait_inbox(from, MAX_READ, MAX_WAIT) => {
                let Ok(got) = got else { return };
                if got.is_empty() && s.node.is_stopping() {
                    return;
                }
                for d in &got {
                    let Ok(text) = serde_json::to_string(&Message::of(d)) else { return };
                    if socket.send(Ws::Text(text.into())).await.is_err() {
                        return;
                    }
                    from = d.index.saturating_add(1);
                }
            }
            incoming = socket.recv() => match incoming {
                // The client closed, or the connection is gone.
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn read_messages(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<ReadQuery>,
) -> Result<impl IntoResponse, NodeError> {
    let max = q.max.unwrap_or(256).clamp(1, MAX_READ);
    let wait = Duration::from_millis(q.wait_ms).min(MAX_WAIT);
    let got = if wait.is_zero() {
        s.node.inbox(q.from, max).await
    } else {
        s.node.wait_inbox(q.from, max, wait).await
    }
    .map_err(internal)?;
    let next = got.last().map_or(q.from, |d| d.index.saturating_add(1));
    let messages: Vec<Message> = got.iter().map(Message::of).collect();
    Ok(axum::Json(json!({ "messages": messages, "next": next })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AckRequest {
    through: Option<u64>,
}

/// `DELETE /v1/messages?through=N`.
async fn acknowledge_query(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<AckRequest>,
) -> Result<impl IntoResponse, NodeError> {
    acknowledge(&s, q).await
}

/// `POST /v1/messages/ack` `{"through": N}`.
async fn acknowledge_body(
    State(s): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<impl IntoResponse, NodeError> {
    acknowledge(&s, parse_json(&body)?).await
}

/// Deletes every inbox entry with an index up to `through` (the agent has them). The
/// answer comes once the deletion is durable; entries past the last one stored are not
/// affected, so an agent may pass the `next` of its last read minus one.
async fn acknowledge(
    s: &ApiState,
    q: AckRequest,
) -> Result<axum::Json<serde_json::Value>, NodeError> {
    let through = q
        .through
        .ok_or_else(|| bad("`through` (the last inbox index read) is required"))?;
    let deleted = s.node.acknowledge(through).await.map_err(internal)?;
    Ok(axum::Json(json!({ "deleted": deleted })))
}

/// Prometheus text format (token-guarded like the rest: scrape with
/// `authorization: { credentials_file: ~/.talos/api-token }`).
async fn metrics(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.node.metrics_text().await,
    )
}

async fn peers(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, NodeError> {
    let peers = s
        .node
        .client()
        .connected_peers()
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?;
    Ok(axum::Json(json!({
        "connected": peers.iter().map(|p| p.to_string()).collect::<Vec<_>>()
    })))
}
