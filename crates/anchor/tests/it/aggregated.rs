//! Aggregated anchoring on any backend: an agent that never registered and never
//! anchored is proven through an aggregator's anchored root, and nothing else passes.

use talos_anchor::Anchor;
use talos_anchor::verify::{VerifyError, verify_aggregated_inclusion};
use talos_audit::aggregate::AggregateError;

use talos_identity::IdentityKey;

use crate::common::{Log, h};

/// `anchor` signs as `aggregator` (on the talos chain a DID registers itself), which is
/// not registered yet; `agent` never registers.
pub(crate) async fn scenario(anchor: &dyn Anchor, agent: IdentityKey, aggregator: IdentityKey) {
    let log = Log::new(20);
    let (aggregate, agg_head) =
        talos_testkit::aggregate::build(&agent, &aggregator, log.head(20), |k| k);

    // Before the aggregator anchors, nothing counts.
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &log.inclusion(5, 20)).await,
        Err(VerifyError::NotRegistered { .. })
    ));
    anchor.register_did(&aggregator, h(1)).await.unwrap();
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &log.inclusion(5, 20)).await,
        Err(VerifyError::NotAnchored { .. })
    ));
    anchor
        .anchor_root(&aggregator.did(), agg_head)
        .await
        .unwrap();

    let (got, at) =
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &log.inclusion(5, 20))
            .await
            .unwrap();
    assert_eq!((got.agent, got.head), (agent.did(), log.head(20)));
    assert_eq!((got.aggregator, at.head), (aggregator.did(), agg_head));
    // The agent itself registered and anchored nothing.
    assert_eq!(anchor.root_at(&agent.did(), 20).await.unwrap(), None);

    // Another agent's DID, a proof against another head of the agent's log, a forged
    // path, and a record the aggregator changed are refused.
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &aggregator.did(), &aggregate, &log.inclusion(5, 20))
            .await,
        Err(VerifyError::OtherAgent { .. })
    ));
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &log.inclusion(5, 19)).await,
        Err(VerifyError::NotAnchored { size: 19, .. })
    ));
    let mut forged = log.inclusion(5, 20);
    forged.proof[0] = talos_audit::wire::B64(h(42));
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &forged).await,
        Err(VerifyError::Proof(_))
    ));
    let mut other_root = log.inclusion(5, 20);
    other_root.root = talos_audit::wire::B64(h(43));
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &aggregate, &other_root).await,
        Err(VerifyError::RootMismatch { size: 20, .. })
    ));
    // A second aggregate the aggregator signed but never anchored (another head).
    let (unanchored, _) =
        talos_testkit::aggregate::build(&agent, &aggregator, log.head(20), |k| match k {
            talos_audit::event::EventKind::CheckpointAggregated {
                agent, size, root, ..
            } => talos_audit::event::EventKind::CheckpointAggregated {
                agent,
                size,
                root,
                note: h(7),
            },
            k => k,
        });
    assert!(matches!(
        verify_aggregated_inclusion(anchor, &agent.did(), &unanchored, &log.inclusion(5, 20)).await,
        Err(VerifyError::Aggregate(AggregateError::Mismatch(_)))
    ));
}
