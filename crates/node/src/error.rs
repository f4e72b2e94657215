//! [`NodeError`]: what a request to the node can end in, typed at the edge. Each variant
//! has one stable `kind` and one HTTP status, both decided in [`NodeError::kind`] and
//! [`NodeError::status`] and nowhere else (as rustls maps its errors to alerts in one
//! place); `api::problem` turns them into RFC 9457 `application/problem+json`, and
//! `docs/api.md` lists every kind. A client mistake is 4xx, a node fault 5xx. Messages
//! name ids, digests and sizes, never content or tokens.

use talos_delivery::DeliveryError;

/// A failed request to the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request is malformed or out of bounds (`bad_request`, 400).
    #[error("{0}")]
    BadRequest(String),
    /// The request or one of its parts is too large (`too_large`, 413).
    #[error("{0}")]
    TooLarge(String),
    /// No API token, or a wrong one (`unauthorized`, 401).
    #[error("{0}")]
    Unauthorized(String),
    /// Something the request names does not exist here (`not_found`, 404).
    #[error("{0}")]
    NotFound(String),
    /// No session with the peer, and no directory record of it (`peer_not_found`, 404).
    #[error("no session with the peer, and its directory record was not found")]
    PeerNotFound,
    /// This node anchors nowhere, so it cannot answer about a chain (`no_chain`, 409).
    #[error("this node has no chain configured for anchoring")]
    NoChain,
    /// A call refused by this node's or the peer's sidecar, with the refusal's fixed kind
    /// (`not_authorized`, `revoked`, `expired`, `replayed`, ...: 403; `rate_limited`: 429).
    #[error("refused: {kind}")]
    Refused {
        /// The refusal's kind, from the sidecar's fixed list.
        kind: String,
    },
    /// The peer's agent failed or did not answer in time (its kind; 502, or 504 for
    /// `agent_timeout`), with the agent's own message if it gave one.
    #[error("the peer agent failed ({kind}){}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    PeerFailed {
        /// The failure's kind.
        kind: String,
        /// The peer agent's message (its text, not this node's).
        detail: Option<String>,
    },
    /// The peer could not be reached or answered nonsense (`peer_unreachable`, 502).
    #[error("the peer could not be reached: {0}")]
    PeerUnreachable(String),
    /// Durable delivery said no (its own kinds: `unknown_group` 404, `not_creator` 403,
    /// `group_conflict` 409, `group_limit` 429, `too_large` 413, `handshake_failed` 502,
    /// `delivery` 503).
    #[error("delivery: {0}")]
    Delivery(#[from] DeliveryError),
    /// The network layer failed (`net`, 503).
    #[error("network: {0}")]
    Net(String),
    /// The anchoring chain failed or cannot be reached (`anchor`, 503).
    #[error("chain: {0}")]
    Anchor(String),
    /// The audit log is failing, so nothing that needs an event is done (`audit_failing`,
    /// 503).
    #[error("the audit log is failing")]
    AuditFailing,
    /// The node is stopping (`stopping`, 503).
    #[error("the node is stopping")]
    Stopping,
    /// A fault of this node or its host (`internal`, 500).
    #[error("{0}")]
    Internal(String),
}

/// Every kind this node gives of its own accord: [`NodeError::kind`]'s fixed kinds and
/// the delivery kinds. An agent's failure may not be named after one of them, nor a
/// peer's (`node::sidecar::answer`).
pub(crate) const OWN_KINDS: &[&str] = &[
    "bad_request",
    "too_large",
    "unauthorized",
    "not_found",
    "peer_not_found",
    "no_chain",
    "peer_unreachable",
    "net",
    "anchor",
    "audit_failing",
    "stopping",
    "internal",
    "unknown_group",
    "not_creator",
    "group_conflict",
    "group_limit",
    "handshake_failed",
    "delivery",
    "bad_card",
];

impl NodeError {
    /// The stable `kind`: what a client branches on.
    pub fn kind(&self) -> &str {
        match self {
            NodeError::BadRequest(_) => "bad_request",
            NodeError::TooLarge(_) => "too_large",
            NodeError::Unauthorized(_) => "unauthorized",
            NodeError::NotFound(_) => "not_found",
            NodeError::PeerNotFound => "peer_not_found",
            NodeError::NoChain => "no_chain",
            NodeError::Refused { kind } | NodeError::PeerFailed { kind, .. } => kind,
            NodeError::PeerUnreachable(_) => "peer_unreachable",
            NodeError::Delivery(e) => delivery_kind(e),
            NodeError::Net(_) => "net",
            NodeError::Anchor(_) => "anchor",
            NodeError::AuditFailing => "audit_failing",
            NodeError::Stopping => "stopping",
            NodeError::Internal(_) => "internal",
        }
    }

    /// The HTTP status: 4xx for a client's mistake or a refusal, 5xx for a fault here or
    /// upstream.
    pub fn status(&self) -> u16 {
        match self {
            NodeError::BadRequest(_) => 400,
            NodeError::Unauthorized(_) => 401,
            NodeError::NotFound(_) | NodeError::PeerNotFound => 404,
            NodeError::NoChain => 409,
            NodeError::TooLarge(_) => 413,
            NodeError::Refused { kind } if kind == "rate_limited" => 429,
            // Held for approval: accepted, not refused; sent again once approved.
            NodeError::Refused { kind } if kind == "pending" => 202,
            // An aggregator's answer to a checkpoint that contradicts one it logged.
            NodeError::Refused { kind } if kind == "stale" || kind == "fork" => 409,
            NodeError::Refused { .. } => 403,
            NodeError::PeerFailed { kind, .. } if kind == "agent_timeout" => 504,
            NodeError::PeerFailed { .. } | NodeError::PeerUnreachable(_) => 502,
            NodeError::Delivery(e) => delivery_status(e),
            NodeError::Internal(_) => 500,
            NodeError::Net(_)
            | NodeError::Anchor(_)
            | NodeError::AuditFailing
            | NodeError::Stopping => 503,
        }
    }

    /// A short, fixed title for the kind (RFC 9457 `title`).
    pub fn title(&self) -> &'static str {
        match self.status() {
            400 => "Bad request",
            401 => "Unauthorized",
            202 => "Held for approval",
            403 => "Refused",
            404 => "Not found",
            409 => "Conflict",
            413 => "Too large",
            429 => "Too many requests",
            500 => "Internal error",
            502 => "Bad gateway",
            504 => "Peer timed out",
            _ => "Unavailable",
        }
    }
}

fn delivery_kind(e: &DeliveryError) -> &'static str {
    match e {
        DeliveryError::UnknownGroup(_) => "unknown_group",
        DeliveryError::NotCreator(_) => "not_creator",
        DeliveryError::Group(_) | DeliveryError::GroupState(_) => "group_conflict",
        DeliveryError::GroupLimit(_) => "group_limit",
        DeliveryError::TooLarge(_) => "too_large",
        DeliveryError::NoSession(_) => "peer_not_found",
        DeliveryError::Handshake { .. } => "handshake_failed",
        _ => "delivery",
    }
}

fn delivery_status(e: &DeliveryError) -> u16 {
    match e {
        DeliveryError::UnknownGroup(_) | DeliveryError::NoSession(_) => 404,
        DeliveryError::NotCreator(_) => 403,
        DeliveryError::Group(_) | DeliveryError::GroupState(_) => 409,
        DeliveryError::GroupLimit(_) => 429,
        DeliveryError::TooLarge(_) => 413,
        DeliveryError::Handshake { .. } => 502,
        _ => 503,
    }
}

impl From<talos_anchor::AnchorError> for NodeError {
    fn from(e: talos_anchor::AnchorError) -> Self {
        NodeError::Anchor(e.to_string())
    }
}

impl From<crate::records::RecordError> for NodeError {
    fn from(e: crate::records::RecordError) -> Self {
        use crate::records::RecordError;
        match e {
            RecordError::OutOfRange { .. } | RecordError::BadSizes(_) => {
                NodeError::NotFound(e.to_string())
            }
            other => NodeError::Internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for NodeError {
    fn from(_: tokio::task::JoinError) -> Self {
        NodeError::Internal("a storage task failed".into())
    }
}

impl From<talos_net::NetError> for NodeError {
    fn from(e: talos_net::NetError) -> Self {
        NodeError::Net(e.to_string())
    }
}

/// Faults of this node's own state or code (a store that fails, a record it cannot
/// sign): `internal`, 500. Their messages name the failing part, never content.
macro_rules! internal_from {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl From<$t> for NodeError {
            fn from(e: $t) -> Self {
                NodeError::Internal(format!(concat!($what, ": {}"), e))
            }
        }
    )*};
}

internal_from!(
    talos_store::StoreError => "store",
    rocksdb::Error => "store",
    talos_capability::CapError => "capability",
    talos_identity::jcs::JcsError => "canonical JSON",
    talos_identity::peer_id::PeerIdError => "peer id",
    talos_net::RecordError => "directory record",
    talos_primitives::DidError => "did",
    talos_audit::event::EventError => "audit event",
    crate::home::HomeError => "home",
    crate::config::ConfigError => "configuration",
);

impl From<crate::anchor_target::OpenError> for NodeError {
    fn from(e: crate::anchor_target::OpenError) -> Self {
        NodeError::Anchor(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind: a client's mistake or a refusal is 4xx, a fault here or upstream 5xx,
    /// and the problem document carries the kind, the status and a title.
    #[test]
    fn every_kind_has_its_status_class_and_problem_shape() {
        let client = [
            NodeError::BadRequest("x".into()),
            NodeError::TooLarge("x".into()),
            NodeError::Unauthorized("x".into()),
            NodeError::NotFound("x".into()),
            NodeError::PeerNotFound,
            NodeError::NoChain,
            NodeError::Refused {
                kind: "revoked".into(),
            },
            NodeError::Refused {
                kind: "rate_limited".into(),
            },
            NodeError::Delivery(DeliveryError::UnknownGroup("g".into())),
            NodeError::Delivery(DeliveryError::NotCreator("invite")),
            NodeError::Delivery(DeliveryError::GroupState("epoch")),
            NodeError::Delivery(DeliveryError::GroupLimit("groups")),
            NodeError::Delivery(DeliveryError::NoSession("p".into())),
        ];
        let fault = [
            NodeError::PeerFailed {
                kind: "agent_error".into(),
                detail: None,
            },
            NodeError::PeerFailed {
                kind: "agent_timeout".into(),
                detail: Some("late".into()),
            },
            NodeError::PeerUnreachable("x".into()),
            NodeError::Delivery(DeliveryError::Corrupt("x")),
            NodeError::Net("x".into()),
            NodeError::Anchor("x".into()),
            NodeError::AuditFailing,
            NodeError::Stopping,
            NodeError::Internal("x".into()),
        ];
        for (errors, class) in [(&client[..], 4), (&fault[..], 5)] {
            for e in errors {
                assert_eq!(e.status() / 100, class, "{e:?}");
                let doc = crate::api::problem_document(e);
                assert_eq!(doc["kind"], e.kind(), "{e:?}");
                assert_eq!(doc["status"], e.status(), "{e:?}");
                assert_eq!(doc["type"], format!("urn:talos:problem:{}", e.kind()));
                assert!(doc["title"].as_str().is_some_and(|t| !t.is_empty()));
                assert_eq!(doc["detail"], e.to_string());
                // The node's own kinds are listed (a peer's refusal or failure passes
                // its kind through, and is checked where it arrives).
                if !matches!(e, NodeError::Refused { .. } | NodeError::PeerFailed { .. }) {
                    assert!(OWN_KINDS.contains(&e.kind()), "{e:?}");
                }
            }
        }
        assert_eq!(client[7].status(), 429);
        assert_eq!(fault[1].status(), 504);
        assert_eq!(client[4].kind(), "peer_not_found");
    }
}
