//! RFC 9457 problem details: the one place a [`NodeError`] becomes an HTTP answer. Every
//! error body is `application/problem+json` with `type`, `title`, `status`, `detail` and
//! the stable `kind` (an extension member); some answers add their own members (a refused
//! call's `nonce` and `atMs`, so the agent can retry it as the same call).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::NodeError;

/// The problem document of `e`.
pub(crate) fn document(e: &NodeError) -> Value {
    json!({
        "type": format!("urn:talos:problem:{}", e.kind()),
        "title": e.title(),
        "status": e.status(),
        "detail": e.to_string(),
        "kind": e.kind(),
    })
}

/// The answer for `e`, with `extra` members added to the document.
pub(crate) fn respond(e: &NodeError, extra: Map<String, Value>) -> Response {
    let mut doc = document(e);
    if let Value::Object(m) = &mut doc {
        for (k, v) in extra {
            m.entry(k).or_insert(v);
        }
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        doc.to_string(),
    )
        .into_response()
}

/// axum answers some requests itself before a handler runs (a body over the limit, a
/// query or path it cannot parse, no such route) with plain text. Those become problem
/// documents here too, so every error a client sees has the same shape.
pub(crate) async fn for_rejections(res: Response) -> Response {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // axum's rejection texts are short and name the parameter, never a body.
    let text = match axum::body::to_bytes(res.into_body(), 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => NodeError::TooLarge(text),
        StatusCode::NOT_FOUND if text.is_empty() => NodeError::NotFound("no such route".into()),
        StatusCode::NOT_FOUND => NodeError::NotFound(text),
        StatusCode::UNAUTHORIZED => NodeError::Unauthorized(text),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => NodeError::BadRequest(text),
        StatusCode::INTERNAL_SERVER_ERROR => NodeError::Internal(text),
        // A status NodeError has no kind for (405 for a method a route lacks): kept as
        // axum gave it, so the status stays true.
        _ => return (status, text).into_response(),
    };
    respond(&e, Map::new())
}

impl IntoResponse for NodeError {
    fn into_response(self) -> Response {
        respond(&self, Map::new())
    }
}
