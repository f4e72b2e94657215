//! An aggregator's log, in memory, whose leaf 6 of 11 records an agent's checkpoint, and
//! the agent's aggregate proof in it: for the format's tests and the chain scenarios.

use talos_audit::MemoryTree;
use talos_audit::aggregate::AggregateProof;
use talos_audit::checkpoint::sign_talos;
use talos_audit::event::{AuditEvent, EventKind, SignedEvent, digest};
use talos_audit::hash::leaf_hash;
use talos_audit::tlog_proof::TlogProof;
use talos_audit::tree::inclusion_proof;
use talos_identity::IdentityKey;
use talos_primitives::{Hash32, TreeHead};

/// The aggregator log's size.
pub const SIZE: u64 = 11;
/// The record's index in it.
pub const AT: u64 = 6;

/// `agent`'s checkpoint of `head`, recorded by `aggregator` (after `change`, which may
/// make the record say something else), and the aggregator's head.
pub fn build(
    agent: &IdentityKey,
    aggregator: &IdentityKey,
    head: TreeHead,
    change: impl FnOnce(EventKind) -> EventKind,
) -> (AggregateProof, TreeHead) {
    let checkpoint = sign_talos(agent, head).unwrap();
    let record = change(EventKind::CheckpointAggregated {
        agent: agent.did(),
        size: head.size,
        root: head.root,
        note: digest(checkpoint.to_text().as_bytes()),
    });
    let mut tree = MemoryTree::new();
    let mut entry = Vec::new();
    for seq in 0..SIZE {
        let event = if seq == AT {
            record.clone()
        } else {
            EventKind::AnchorSubmitted {
                size: seq,
                root: Hash32([seq as u8; 32]),
                tx: Hash32([1; 32]),
            }
        };
        let body = AuditEvent {
            agent: aggregator.did(),
            seq,
            ts: 1_764_892_800_000,
            event,
        };
        let leaf = SignedEvent::sign(aggregator, body)
            .unwrap()
            .to_leaf()
            .unwrap();
        tree.append(leaf_hash(&leaf));
        if seq == AT {
            entry = leaf;
        }
    }
    let agg_head = TreeHead {
        size: SIZE,
        root: tree.root(),
    };
    let proof = AggregateProof {
        checkpoint,
        proof: TlogProof {
            extra: Some(entry),
            index: AT,
            path: inclusion_proof(&tree, AT, SIZE).unwrap(),
            checkpoint: sign_talos(aggregator, agg_head).unwrap(),
        },
    };
    (proof, agg_head)
}
