//! Answers: the agent's answer to a call (or its deadline passing) goes back to the
//! caller once the call's `capability_used` is durable, with its outcome audited as
//! `call_answered` behind it.

use serde_json::Value;
use talos_audit::event::{DenyKind, EventKind};
use talos_net::invoke::{InvokeResponse, MAX_NAME};
use talos_primitives::Hash32;
use tokio::time::Instant;
use tracing::warn;

use super::{Sidecar, Waiting};

/// An agent's answer to a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// It ran: the result goes back to the caller.
    Result(Value),
    /// It failed: the caller is told `kind` (`agent_error` unless the agent names one,
    /// such as a proxy's `tool_changed`) and the detail, bounded.
    Failed {
        /// The failure's kind.
        kind: DenyKind,
        /// The agent's message (truncated to 512 bytes for the caller; its digest is
        /// audited).
        detail: String,
    },
}

impl From<Result<Value, String>> for Answer {
    /// A result, or an error message with the kind `agent_error`.
    fn from(r: Result<Value, String>) -> Self {
        match r {
            Ok(v) => Answer::Result(v),
            Err(detail) => Answer::Failed {
                kind: DenyKind::agent_error(),
                detail,
            },
        }
    }
}

/// Kinds only the callee's node gives: its refusals (the capability checks' kinds and its
/// own) and its own failures. An agent's failure may not name one, so a caller never
/// takes an agent's error for a refusal or a revocation.
const NODE_KINDS: &[&str] = &[
    "ok",
    "rate_limited",
    "busy",
    "not_holder",
    "not_attested",
    "over_budget",
    "low_reputation",
    "pending",
    "not_approved",
    "denied",
    "unavailable",
    "agent_timeout",
    "unanswered",
];

/// True when `kind` is one only a node gives: its refusals and failures as a callee
/// ([`NODE_KINDS`] and every capability error kind) and its API's own kinds as a caller
/// (`error::OWN_KINDS`, such as `peer_unreachable`).
pub(crate) fn is_node_kind(kind: &str) -> bool {
    NODE_KINDS.contains(&kind)
        || talos_capability::CapError::KINDS.contains(&kind)
        || crate::error::OWN_KINDS.contains(&kind)
}

/// Refusal kinds a callee's node gives (on the wire as `Refused`).
const OWN_REFUSALS: &[&str] = &[
    "rate_limited",
    "busy",
    "not_holder",
    "not_attested",
    "over_budget",
    "low_reputation",
    "pending",
    "not_approved",
    "denied",
    "unavailable",
];
/// Failure kinds a callee's node gives of its own (on the wire as `Failed`).
const CALLEE_FAILURES: &[&str] = &[
    "agent_error",
    "agent_timeout",
    "unanswered",
    "unavailable",
    "too_large",
];

/// A peer's answer as the caller's node passes it on. The peer node may be anyone's:
/// a refusal whose kind is not a refusal kind becomes `denied`, and a failure named
/// after one of the node's own kinds (other than those a callee's node gives) becomes
/// `agent_error`. So no answer can pass itself off as this node's own error, such as
/// `peer_unreachable`, which a caller might retry as a fresh call.
pub(crate) fn from_peer(r: InvokeResponse) -> InvokeResponse {
    match r {
        InvokeResponse::Refused { kind }
            if !OWN_REFUSALS.contains(&kind.as_str())
                && !talos_capability::CapError::KINDS.contains(&kind.as_str()) =>
        {
            InvokeResponse::refused("denied")
        }
        InvokeResponse::Failed { kind, detail }
            if is_node_kind(&kind) && !CALLEE_FAILURES.contains(&kind.as_str()) =>
        {
            InvokeResponse::Failed {
                kind: "agent_error".into(),
                detail,
            }
        }
        other => other,
    }
}

/// What answering a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No such call waiting (answered already, or past its deadline).
    #[error("no call {0} is waiting for an answer")]
    Unknown(u64),
    /// The network task is gone.
    #[error("the node is stopping")]
    Stopped,
    /// The answer is larger than a call's response may be; the caller was told
    /// `too_large`.
    #[error("the answer to call {0} is larger than a response may be (256 KiB)")]
    TooLarge(u64),
}

impl Sidecar {
    /// The agent's answer to call `id`: its result, or a failure. The answer leaves once
    /// the call's `CapabilityUsed` is durable; its `CallAnswered` is queued behind it.
    pub(crate) async fn answer(&self, id: u64, outcome: Answer) -> Result<(), AnswerError> {
        let waiting = self
            .waiting
            .lock()
            .ok()
            .and_then(|mut w| w.1.remove(&id))
            .ok_or(AnswerError::Unknown(id))?;
        let (response, result, too_large) = settle(outcome);
        let outcome = match &response {
            InvokeResponse::Failed { kind, .. } => DenyKind::new(kind),
            _ => DenyKind::new("ok"),
        };
        let answered = outcome.map(|outcome| EventKind::CallAnswered {
            caller: waiting.caller,
            request: waiting.digest,
            outcome,
            result,
            ms: elapsed_ms(waiting.admitted),
            traceparent: waiting.call.traceparent,
        });
        // The call is on record (`capability_used`) before its answer leaves; its
        // outcome follows in the next group, not waited for: a second fsync in a row
        // per call cost 26 % of the round trip and 19 % of the throughput (measured;
        // benches/RESULTS.md). A crash in between loses the outcome, never the call.
        let durable = waiting.audited.await.unwrap_or(false);
        if durable {
            self.auditor
                .record_later(answered.into_iter().collect())
                .await;
        }
        let response = if durable {
            response
        } else {
            warn!(id, "audit log failing: call answered as failed");
            failed("unavailable")
        };
        self.client
            .answer_invoke(waiting.responder, response)
            .await
            .map_err(|_| AnswerError::Stopped)?;
        if too_large {
            return Err(AnswerError::TooLarge(id));
        }
        Ok(())
    }

    /// Answers `agent_timeout` to calls past their deadline, and forgets rate-limiter
    /// entries that have refilled (so the limiters stay bounded).
    pub(super) async fn sweep(&self) {
        let now = Instant::now();
        let expired: Vec<Waiting> = match self.waiting.lock() {
            Ok(mut w) => {
                let ids: Vec<u64> =
                    w.1.iter()
                        .filter(|(_, c)| c.deadline <= now)
                        .map(|(id, _)| *id)
                        .collect();
                ids.iter().filter_map(|id| w.1.remove(id)).collect()
            }
            Err(_) => Vec::new(),
        };
        for w in expired {
            // Queued, not waited for: the caller is told `agent_timeout` either way.
            if let Some(outcome) = DenyKind::new("agent_timeout") {
                self.auditor.refusal(EventKind::CallAnswered {
                    caller: w.caller,
                    request: w.digest,
                    outcome,
                    result: Hash32([0; 32]),
                    ms: elapsed_ms(w.admitted),
                    traceparent: w.call.traceparent,
                });
            }
            let _ = self
                .client
                .answer_invoke(w.responder, failed("agent_timeout"))
                .await;
        }
        if let Ok(mut gate) = self.gate.lock() {
            gate.sweep();
        }
        self.save_pins().await;
    }
}

/// The response for an agent's answer, the digest its audit event records, and whether
/// it was too large for the protocol (then the caller is told `too_large`).
fn settle(outcome: Answer) -> (InvokeResponse, Hash32, bool) {
    let (response, digest) = match outcome {
        Answer::Result(result) => {
            let digest = talos_identity::jcs::digest(&result).unwrap_or(Hash32([0; 32]));
            (InvokeResponse::Ok { result }, digest)
        }
        Answer::Failed { kind, detail } => {
            let digest = talos_audit::event::digest(detail.as_bytes());
            let detail = Some(truncate(detail)).filter(|d| !d.is_empty());
            let kind = kind.as_str().to_owned();
            (InvokeResponse::Failed { kind, detail }, digest)
        }
    };
    if response.encode().is_err() {
        (failed("too_large"), digest, true)
    } else {
        (response, digest, false)
    }
}

/// A failure with no detail.
fn failed(kind: &str) -> InvokeResponse {
    InvokeResponse::Failed {
        kind: kind.into(),
        detail: None,
    }
}

pub(super) fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn truncate(mut s: String) -> String {
    if s.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The SDKs keep their own copy of the kinds an agent may not give (a handler's
    /// exception naming one is sent as `agent_error`); a kind added here and not there
    /// would leave a call unanswered until its deadline.
    #[test]
    fn the_sdks_know_every_kind_an_agent_may_not_give() {
        let all: BTreeSet<&str> = super::NODE_KINDS
            .iter()
            .chain(talos_capability::CapError::KINDS)
            .chain(crate::error::OWN_KINDS)
            .copied()
            .collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (file, start, end) in [
            (
                "sdks/python/src/talos_agent/client.py",
                "NODE_KINDS = frozenset({",
                "})",
            ),
            (
                "sdks/typescript/src/client.ts",
                "NODE_KINDS: ReadonlySet<string> = new Set([",
                "]);",
            ),
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let block = text.split_once(start).unwrap().1.split_once(end).unwrap().0;
            let listed: BTreeSet<&str> = block.split('"').skip(1).step_by(2).collect();
            assert_eq!(listed, all, "{file}");
        }
    }
}
