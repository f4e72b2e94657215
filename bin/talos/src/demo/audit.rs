//! Steps 10-12 of the demo: booking's decisions as signed events in its durable log, a
//! checkpoint an auditor checks, and the head anchored on the chain.

use anyhow::{Context, ensure};
use talos_audit::checkpoint::Checkpoint;
use talos_audit::event::{AuditEvent, DenyKind, EventKind, SignedEvent};
use talos_audit::hash::leaf_hash;
use talos_audit::note::NoteVerifier;
use talos_audit::verify_inclusion;
use talos_identity::IdentityKey;
use talos_identity::did_key::{self, KeyFormat};
use talos_identity::jcs;
use talos_node::home::Home;
use talos_store::AuditLog;

use super::{Decision, DemoChain, now_ms, step, verdict};

/// Steps 10-11: every decision is a signed event in booking's durable log; booking signs a
/// checkpoint; an auditor checks one event's inclusion against it, trusting neither.
pub(super) fn audit(
    booking: &IdentityKey,
    home: &Home,
    decisions: Vec<Decision>,
    rt: &tokio::runtime::Runtime,
    on: &DemoChain,
) -> anyhow::Result<()> {
    step(
        10,
        "Booking records each decision as a signed event in its durable audit log (RocksDB)",
    );
    let (_, log) = home.open_stores()?;
    let ts = now_ms();
    for (seq, d) in decisions.iter().enumerate() {
        let event = match &d.outcome {
            Ok(()) => EventKind::CapabilityUsed {
                leaf: d.leaf,
                holder: d.caller,
                request: d.request,
            },
            Err(e) => EventKind::CapabilityDenied {
                caller: d.caller,
                kind: DenyKind::new(e.kind()).context("error kinds are valid deny kinds")?,
                request: d.request,
            },
        };
        let body = AuditEvent {
            agent: booking.did(),
            seq: seq as u64,
            ts,
            event,
        };
        let leaf = SignedEvent::sign(booking, body)?.to_leaf()?;
        let index = log.append(leaf)?;
        println!("    event {index} durable ({})", verdict(d.outcome.clone()));
    }
    let name = booking.did().to_string();
    let cp = Checkpoint {
        origin: format!("talos/{name}"),
        head: log.head(),
        extensions: vec![],
    };
    let note = cp.sign(&name, booking)?.to_text();
    let vkey = NoteVerifier {
        name,
        key: booking.public(),
    }
    .to_string();
    println!(
        "    checkpoint: size {}, root {}",
        cp.head.size, cp.head.root
    );

    step(
        11,
        "An auditor verifies event 1 (the refused 900 booking) against the signed checkpoint",
    );
    let (seen, _) = Checkpoint::verify(&note, &NoteVerifier::parse(&vkey)?)?;
    let leaf = log.leaf(1)?.context("event 1 is missing")?;
    let event = SignedEvent::from_leaf(&leaf)?;
    let proof = log.inclusion_proof(1, seen.head.size)?;
    verify_inclusion(
        1,
        seen.head.size,
        &leaf_hash(&leaf),
        &proof,
        &seen.head.root,
    )?;
    println!(
        "    checkpoint signature ok; event signed by {}; inclusion proof of {} hashes leads to the signed root",
        event.body.agent,
        proof.len()
    );

    step(
        12,
        &format!(
            "Booking anchors that checkpoint on {}; the auditor checks the same proof against the anchored root",
            on.describe()
        ),
    );
    rt.block_on(anchor_and_verify(booking, home, &log, seen.head, on))?;
    Ok(())
}

/// Step 12, on the embedded EVM: register the DID, anchor the head, verify against it.
async fn anchor_and_verify(
    booking: &IdentityKey,
    home: &Home,
    log: &AuditLog,
    head: talos_primitives::TreeHead,
    on: &DemoChain,
) -> anyhow::Result<()> {
    on.fund(booking).await?;
    let backend = on.open(home, booking).await?;
    let doc = did_key::document(&booking.public(), KeyFormat::Multikey)?;
    let did = booking.did();
    let reg = backend.register_did(booking, jcs::digest(&doc)?).await?;
    let at = backend.anchor_root(&did, head).await?;
    println!(
        "    DID registered in block {}; root of size {} anchored in block {} (tx {})",
        reg.block, head.size, at.block, at.tx
    );
    let proof = talos_audit::wire::InclusionProof {
        leaf_idx: 1,
        tree_size: head.size,
        root: talos_audit::wire::B64(head.root),
        leaf_hash: talos_audit::wire::B64(leaf_hash(&log.leaf(1)?.context("event 1 is missing")?)),
        proof: log
            .inclusion_proof(1, head.size)?
            .into_iter()
            .map(talos_audit::wire::B64)
            .collect(),
    };
    let anchored = talos_anchor::verify::verify_inclusion(&*backend, &did, &proof).await?;
    println!(
        "    auditor: the root anchored at size {} (block {}) matches, and the proof leads to it",
        anchored.head.size, anchored.at.block
    );
    let shrink = backend
        .anchor_root(
            &did,
            talos_primitives::TreeHead {
                size: head.size.saturating_sub(1),
                root: head.root,
            },
        )
        .await;
    ensure!(
        matches!(
            shrink,
            Err(talos_anchor::AnchorError::Revert(
                talos_anchor::Revert::TreeSizeShrinks { .. }
            ))
        ),
        "the contract accepted a shrinking log"
    );
    println!(
        "    rewriting history (a smaller tree size) is refused by the contract: TreeSizeShrinks"
    );
    Ok(())
}
