//! The forwarding sidecar (`agent_url`): each call the gate lets through is POSTed to
//! the agent's own HTTP endpoint, and the agent's HTTP answer is the call's answer. An
//! existing agent is protected without a change: it only ever sees allowed calls.
//!
//! The request body is the call as a long-poll returns it (`id`, `from` (the verified
//! caller DID), `resource`, `action`, `args`, `capability`, `scope`, `txn`,
//! `traceparent`), with the W3C `traceparent` header too. The answer:
//!
//! - 2xx: the body is the result (JSON; an empty body is `null`);
//! - any other status: a failure. A JSON body's `kind` (a-z and _, 1 to 32) names it,
//!   else `agent_error`; its `detail` or `error` string is the detail.
//!
//! Deadlines are the long-poll's (`answer_within_ms`; past it the sweeper answers
//! `agent_timeout`). A connection that could not be opened is retried with backoff until
//! the deadline, since nothing reached the agent (it may be restarting). A request that
//! failed after it was sent is never retried: the call may have run, and a call must
//! never run twice.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use talos_audit::event::DenyKind;
use talos_net::invoke::MAX_INVOKE_RESPONSE;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::debug;

use super::{Answer, Call, Sidecar};

/// Calls being forwarded at once; more wait for a slot (within their deadline). The
/// waiting table (`MAX_WAITING`) bounds them all.
const MAX_FORWARDS: usize = 64;
/// Bytes of an agent's HTTP answer read, at most: a result above the protocol's response
/// bound is answered `too_large` anyway, so nothing past it is worth reading.
const MAX_BODY: usize = MAX_INVOKE_RESPONSE;
/// First pause before reconnecting to an agent that refused the connection; it doubles
/// up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The agent's endpoint and the HTTP client that reaches it.
#[derive(Clone)]
pub(crate) struct Forwarder {
    http: reqwest::Client,
    url: reqwest::Url,
    slots: Arc<Semaphore>,
}

impl Forwarder {
    /// A forwarder to `url`. Redirects are not followed (a call's arguments go to the
    /// configured URL or nowhere), nor are proxies from the environment.
    pub(crate) fn new(url: reqwest::Url) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(MAX_FORWARDS)
            .build()?;
        Ok(Forwarder {
            http,
            url,
            slots: Arc::new(Semaphore::new(MAX_FORWARDS)),
        })
    }

    /// POSTs `call` until the agent answers or `deadline` passes (then `None`: the
    /// sweeper answers `agent_timeout`).
    async fn deliver(&self, call: &Call, deadline: Instant) -> Option<Answer> {
        let _slot = tokio::time::timeout_at(deadline, self.slots.acquire())
            .await
            .ok()?
            .ok()?;
        let mut pause = FIRST_PAUSE;
        loop {
            let mut req = self.http.post(self.url.clone()).json(call);
            if let Some(tp) = &call.traceparent {
                req = req.header("traceparent", tp.to_string());
            }
            match tokio::time::timeout_at(deadline, req.send()).await {
                Err(_) => return None,
                Ok(Ok(resp)) => return read_answer(resp, deadline).await,
                Ok(Err(e)) if e.is_connect() => {
                    debug!(id = call.id, "agent refused the connection; retrying");
                    if Instant::now() + pause >= deadline {
                        return None;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                Ok(Err(_)) => {
                    return Some(failed(
                        "the connection to the agent failed after the call was sent; not retried, as it may have run",
                    ));
                }
            }
        }
    }
}

impl Sidecar {
    /// Forwards held call `id` to the agent's URL, if one is configured, and answers it
    /// with what the agent says.
    pub(super) fn forward(self: &Arc<Self>, id: u64) {
        let Some(forwarder) = self.forward.clone() else {
            return;
        };
        let held = self.waiting.lock().ok().and_then(|w| {
            w.1.get(&id)
                .map(|waiting| (waiting.call.clone(), waiting.deadline))
        });
        let Some((call, deadline)) = held else {
            return;
        };
        let me = self.clone();
        tokio::spawn(async move {
            if let Some(answer) = forwarder.deliver(&call, deadline).await {
                // `Unknown`: the sweeper answered it at its deadline meanwhile;
                // `TooLarge`: the caller was told `too_large`. Nothing more to do.
                if let Err(e) = me.answer(id, answer).await {
                    debug!(id, %e, "forwarded call not answered");
                }
            }
        });
    }
}

/// The agent's answer from its HTTP response, read within the deadline.
async fn read_answer(mut resp: reqwest::Response, deadline: Instant) -> Option<Answer> {
    let status = resp.status();
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => return None,
            Ok(Ok(Some(chunk))) => {
                if body.len().saturating_add(chunk.len()) > MAX_BODY {
                    return Some(Answer::Failed {
                        kind: DenyKind::new("too_large")?,
                        detail: format!("the agent's answer is over {MAX_BODY} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => break,
            Ok(Err(_)) => return Some(failed("the agent's answer was cut off")),
        }
    }
    Some(if status.is_success() {
        if body.iter().all(u8::is_ascii_whitespace) {
            Answer::Result(Value::Null)
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => Answer::Result(v),
                Err(_) => failed("the agent's answer is not JSON"),
            }
        }
    } else {
        error_of(status, &body)
    })
}

/// A non-2xx answer as a failure: the body's `kind` and `detail` (or `error`) when it is
/// a JSON object that has them (a problem document does), else `agent_error` and the
/// status.
fn error_of(status: reqwest::StatusCode, body: &[u8]) -> Answer {
    let doc: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        doc.as_ref()
            .and_then(|d| d.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let kind = field("kind")
        .as_deref()
        .and_then(DenyKind::new)
        .filter(|k| !super::is_node_kind(k.as_str()))
        .unwrap_or_else(DenyKind::agent_error);
    let detail = field("detail")
        .or_else(|| field("error"))
        .unwrap_or_else(|| format!("the agent answered HTTP {}", status.as_u16()));
    Answer::Failed { kind, detail }
}

fn failed(detail: &str) -> Answer {
    Answer::Failed {
        kind: DenyKind::agent_error(),
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_map_to_kinds() {
        let kind = |a: Answer| match a {
            Answer::Failed { kind, detail } => (kind.as_str().to_owned(), detail),
            Answer::Result(_) => panic!("not a failure"),
        };
        let s = reqwest::StatusCode::from_u16(409).unwrap();
        assert_eq!(
            kind(error_of(s, br#"{"kind":"sold_out","detail":"no seats"}"#)),
            ("sold_out".into(), "no seats".into())
        );
        assert_eq!(
            kind(error_of(s, br#"{"error":"boom"}"#)),
            ("agent_error".into(), "boom".into())
        );
        // A kind the wire cannot carry, and the node's own kinds (`ok`, a refusal), fall
        // back to agent_error: an agent cannot pass its failure off as a revocation.
        for k in [
            "Bad Kind",
            "ok",
            "revoked",
            "not_authorized",
            "rate_limited",
        ] {
            let body = serde_json::to_vec(&serde_json::json!({ "kind": k })).unwrap();
            assert_eq!(kind(error_of(s, &body)).0, "agent_error", "{k}");
        }
        assert_eq!(
            kind(error_of(s, b"<html>")),
            ("agent_error".into(), "the agent answered HTTP 409".into())
        );
    }
}
