//! The sidecar's kinds on the wire, in the audit log, and from peers.

use talos_audit::event::DenyKind;
use talos_capability::CapError;
use talos_net::invoke::InvokeResponse;
use talos_primitives::CapabilityId;

/// A peer's answer named after one of this node's own kinds is renamed, so it cannot
/// pass for this node's error.
#[test]
fn a_peers_answer_cannot_pass_for_this_nodes_own_error() {
    use talos_net::invoke::InvokeResponse as R;
    let f = |k: &str| R::Failed {
        kind: k.into(),
        detail: None,
    };
    for renamed in [
        "peer_unreachable",
        "revoked",
        "unauthorized",
        "not_authorized",
    ] {
        assert_eq!(super::from_peer(f(renamed)), f("agent_error"), "{renamed}");
    }
    for kept in [
        "agent_timeout",
        "too_large",
        "sold_out",
        "agent_error",
        "unanswered",
    ] {
        assert_eq!(super::from_peer(f(kept)), f(kept), "{kept}");
    }
    assert_eq!(
        super::from_peer(R::refused("peer_unreachable")),
        R::refused("denied")
    );
    for kept in ["revoked", "rate_limited", "busy", "not_authorized"] {
        assert_eq!(super::from_peer(R::refused(kept)), R::refused(kept));
    }
}

/// Every refusal this node can send is a kind the wire format and the audit event
/// accept: one that were not would be dropped by the caller's parser, or recorded
/// as the fallback kind.
#[test]
fn every_refusal_kind_is_valid_on_the_wire_and_in_the_audit_log() {
    let id = CapabilityId([0; 16]);
    let caps = [
        CapError::TooLarge(0),
        CapError::MalformedJws(""),
        CapError::BadAlg,
        CapError::BadTyp,
        CapError::BadHeader,
        CapError::UnknownKid,
        CapError::MalformedClaims(String::new()),
        CapError::BadSignature,
        CapError::Expired(id),
        CapError::NotYetValid(id),
        CapError::Widening(id),
        CapError::BrokenChain(id),
        CapError::UntrustedRoot,
        CapError::TooDeep(0),
        CapError::EmptyChain,
        CapError::Revoked(id),
        CapError::WrongAudience,
        CapError::NotAuthorized,
        CapError::Replay,
        CapError::InvocationMismatch,
    ];
    let own = [
        "rate_limited",
        "busy",
        "not_holder",
        "unavailable",
        "denied",
    ];
    for kind in caps.iter().map(CapError::kind).chain(own) {
        assert!(DenyKind::new(kind).is_some(), "{kind}");
        // ...and none of them is an agent's to give.
        assert!(super::is_node_kind(kind), "{kind}");
        let r = InvokeResponse::refused(kind);
        assert_eq!(InvokeResponse::parse(&r.encode().unwrap()).unwrap(), r);
    }
    for kind in ["agent_timeout", "agent_error", "unanswered", "unavailable"] {
        let r = InvokeResponse::Failed {
            kind: kind.into(),
            detail: Some(super::answer::truncate("é".repeat(1000))),
        };
        assert_eq!(InvokeResponse::parse(&r.encode().unwrap()).unwrap(), r);
    }
}
