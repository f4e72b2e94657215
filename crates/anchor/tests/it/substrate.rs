//! The substrate backend against a real `talos-chain --dev`: membership, the DID
//! lifecycle, commitments, revocations (point reads, the state snapshot and the live
//! stream), audit roots with their typed refusals, and an auditor's proof check against
//! the root read back from the chain.

use std::time::Duration;

use talos_anchor::substrate::{SubstrateAnchor, admin};
use talos_anchor::verify::{VerifyError, verify_consistency, verify_inclusion};
use talos_anchor::{Account, Anchor, AnchorError, Revert, did_key};
use talos_primitives::{CapabilityId, Commitment, Did, TreeHead};

use crate::common::{Log, did, h, identity};
use talos_testkit::chain::{TalosChain, wait_finalized};

const SUDO: &str = "//Alice";

fn revert(r: Result<impl std::fmt::Debug, AnchorError>) -> Revert {
    match r {
        Err(AnchorError::Revert(r)) => r,
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn key(d: &Did) -> [u8; 32] {
    *d.as_key().unwrap().as_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talos_chain_dev_suite() {
    let dir = tempfile::tempdir().unwrap();
    let chain = TalosChain::dev(dir.path());
    tokio::task::block_in_place(|| wait_finalized(&chain, 1, Duration::from_secs(90)));
    let url = chain.ws();
    let (da, db) = (did(21), did(22));
    let a = SubstrateAnchor::connect(&url, &[21; 32]).await.unwrap();
    let b = SubstrateAnchor::connect(&url, &[22; 32]).await.unwrap();
    assert_eq!(a.kind(), "substrate");
    assert_eq!(a.account(), Account::Substrate(key(&da)));

    // Not a member: the account does not even exist on chain, so the pool refuses it.
    let refused = a.register_did(&identity(21), h(1)).await;
    assert!(refused.is_err(), "{refused:?}");

    admin::add_member(&url, SUDO, key(&da)).await.unwrap();
    admin::add_member(&url, SUDO, key(&db)).await.unwrap();
    // Idempotent.
    admin::add_member(&url, SUDO, key(&da)).await.unwrap();
    assert!(admin::is_member(&url, key(&db)).await.unwrap());

    // DID lifecycle.
    assert_eq!(a.resolve_did(&da).await.unwrap(), None);
    let at = a.register_did(&identity(21), h(1)).await.unwrap();
    assert!(at.block > 0);
    let rec = a.resolve_did(&da).await.unwrap().unwrap();
    assert_eq!(rec.owner, Account::Substrate(key(&da)));
    assert_eq!((rec.version, rec.doc_hash, rec.prev_hash), (1, h(1), None));
    assert_eq!(
        revert(a.register_did(&identity(21), h(9)).await),
        Revert::DidExists { did: did_key(&da) }
    );
    // A DID registers itself: b cannot register a's key, nor write for it.
    assert!(matches!(
        b.register_did(&identity(21), h(9)).await,
        Err(AnchorError::Config(_))
    ));
    assert!(matches!(
        revert(b.rotate_did(&da, h(9), None).await),
        Revert::NotOwner { did, .. } if did == did_key(&da)
    ));
    assert!(matches!(
        revert(
            b.anchor_root(
                &da,
                TreeHead {
                    size: 1,
                    root: h(7)
                }
            )
            .await
        ),
        Revert::NotOwner { .. }
    ));
    a.rotate_did(&da, h(2), None).await.unwrap();
    let rec = a.resolve_did(&da).await.unwrap().unwrap();
    assert_eq!(
        (rec.version, rec.doc_hash, rec.prev_hash),
        (2, h(2), Some(h(1)))
    );
    // did:talos names a document, not a key: refused before anything is sent.
    let talos = Did::Talos(talos_primitives::TalosId(h(9)));
    assert!(matches!(
        a.resolve_did(&talos).await,
        Err(AnchorError::Config(_))
    ));

    // Commitments.
    let c = Commitment(h(5));
    assert_eq!(a.committed_by(&c).await.unwrap(), None);
    a.commit(&da, &[c, Commitment(h(6))]).await.unwrap();
    assert_eq!(a.committed_by(&c).await.unwrap(), Some(did_key(&da)));
    assert!(matches!(
        a.commit(&da, &[]).await,
        Err(AnchorError::BadBatch(0))
    ));

    // Revocations: point reads, the snapshot from state, then the live stream.
    let (id1, id2) = (CapabilityId([1; 16]), CapabilityId([2; 16]));
    let revoked = a.revoke(&da, &[id1]).await.unwrap();
    assert_eq!(a.revoked_by(&id1).await.unwrap(), Some(did_key(&da)));
    assert_eq!(a.revoked_by(&id2).await.unwrap(), None);
    // Revoking again is a no-op, not an error (a resubmitted write cannot fail).
    let again = a.revoke(&da, &[id1]).await.unwrap();
    let mut from_state = b.revocations(0).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(30), from_state.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((first.did, first.ids.clone()), (did_key(&da), vec![id1]));
    assert!(first.at.block >= revoked.block);
    // From the block after the last write on: only what is revoked from now on.
    let mut live = b.revocations(again.block + 1).await.unwrap();
    let second = a.revoke(&da, &[id2]).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(60), live.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (seen.did, seen.ids, seen.at),
        (did_key(&da), vec![id2], second)
    );

    // Audit roots, and an auditor's proofs against the roots on chain.
    let log = Log::new(20);
    let at8 = a.anchor_root(&da, log.head(8)).await.unwrap();
    // Re-anchoring the same head is a no-op (idempotent resubmission).
    a.anchor_root(&da, log.head(8)).await.unwrap();
    a.anchor_root(&da, log.head(20)).await.unwrap();
    assert_eq!(a.latest_root(&da).await.unwrap(), Some(log.head(20)));
    assert_eq!(
        revert(a.anchor_root(&da, log.head(8)).await),
        Revert::TreeSizeShrinks {
            did: did_key(&da),
            current: 20,
            given: 8
        }
    );
    assert_eq!(
        revert(
            a.anchor_root(
                &da,
                TreeHead {
                    size: 20,
                    root: h(5)
                }
            )
            .await
        ),
        Revert::ConflictingRoot {
            did: did_key(&da),
            tree_size: 20
        }
    );
    assert_eq!(
        revert(
            a.anchor_root(
                &da,
                TreeHead {
                    size: 21,
                    root: talos_primitives::Hash32([0; 32])
                }
            )
            .await
        ),
        Revert::InvalidRoot
    );
    let r8 = a.root_at(&da, 8).await.unwrap().unwrap();
    assert_eq!((r8.head, r8.at), (log.head(8), at8));
    assert_eq!(a.root_at(&da, 9).await.unwrap(), None);
    let dyn_anchor: &dyn Anchor = &b; // any reader
    let got = verify_inclusion(dyn_anchor, &da, &log.inclusion(5, 20))
        .await
        .unwrap();
    assert_eq!(got.head, log.head(20));
    verify_consistency(dyn_anchor, &da, &log.consistency(8, 20))
        .await
        .unwrap();
    assert!(matches!(
        verify_inclusion(dyn_anchor, &da, &log.inclusion(5, 10)).await,
        Err(VerifyError::NotAnchored { size: 10, .. })
    ));
    let mut forged = log.inclusion(5, 20);
    forged.proof[0] = talos_audit::wire::B64(h(42));
    assert!(matches!(
        verify_inclusion(dyn_anchor, &da, &forged).await,
        Err(VerifyError::Proof(_))
    ));

    // Aggregated anchoring: member B's root proves the checkpoint of an agent with no
    // account.
    crate::aggregated::scenario(&b, identity(60), identity(22)).await;

    // Deactivation is final.
    a.deactivate_did(&da).await.unwrap();
    assert!(a.resolve_did(&da).await.unwrap().unwrap().deactivated);
    assert_eq!(
        revert(a.anchor_root(&da, log.head(20)).await),
        Revert::Deactivated { did: did_key(&da) }
    );

    // A removed member can no longer register: its account is gone, so the pool refuses
    // the transaction, which the client reports as a writer who is not a member.
    admin::remove_member(&url, SUDO, key(&db)).await.unwrap();
    assert!(!admin::is_member(&url, key(&db)).await.unwrap());
    let refused = b.register_did(&identity(22), h(1)).await;
    assert!(
        matches!(refused, Err(AnchorError::Revert(Revert::NotWriter { .. }))),
        "{refused:?}"
    );
}

/// Finding 3 (issue 17): ids are chosen by issuers, so a squatter can revoke an issuer's
/// id before the issuer does. The pallet kept only the first revoker, and a follower
/// restarted from block 0 reads state, so it never saw the issuer's revocation (and the
/// node applies a chain revocation only to links its revoker issued). Now a fresh stream
/// from block 0 names both revokers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_run_revocation_does_not_hide_the_issuers_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let chain = TalosChain::dev(dir.path());
    tokio::task::block_in_place(|| wait_finalized(&chain, 1, Duration::from_secs(90)));
    let url = chain.ws();
    let (issuer, squatter) = (did(31), did(32));
    let i = SubstrateAnchor::connect(&url, &[31; 32]).await.unwrap();
    let s = SubstrateAnchor::connect(&url, &[32; 32]).await.unwrap();
    for d in [&issuer, &squatter] {
        admin::add_member(&url, SUDO, key(d)).await.unwrap();
    }
    i.register_did(&identity(31), h(1)).await.unwrap();
    s.register_did(&identity(32), h(2)).await.unwrap();

    // The squatter revokes the issuer's id first; the issuer's own revocation follows.
    let id = CapabilityId([7; 16]);
    let first = s.revoke(&squatter, &[id]).await.unwrap();
    let second = i.revoke(&issuer, &[id]).await.unwrap();
    assert!(second.block > first.block);
    // The earliest revoker is the one named, as the EVM contract names its first.
    assert_eq!(i.revoked_by(&id).await.unwrap(), Some(did_key(&squatter)));

    // A follower restarted from block 0 starts from state: both revokers are there.
    let mut stream = i.revocations(0).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let ev = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(ev.ids, vec![id]);
        assert!(ev.at.block >= second.block);
        seen.push(ev.did);
    }
    seen.sort();
    let mut want = vec![did_key(&issuer), did_key(&squatter)];
    want.sort();
    assert_eq!(seen, want);
}

/// A node that is down: a clear error, no hang.
#[tokio::test]
async fn unreachable_node_is_a_typed_error() {
    let port = talos_testkit::free_port();
    let r = SubstrateAnchor::connect(&format!("ws://127.0.0.1:{port}"), &[1; 32]).await;
    assert!(matches!(r, Err(AnchorError::Unavailable { .. })), "{r:?}");
}

/// Finding 10 (issue 17): the RPC URL's credentials, path and query never reach an error
/// (which the node logs and returns in 503 bodies); only scheme, host and port do.
#[tokio::test]
async fn substrate_rpc_url_never_leaks_into_errors() {
    let port = talos_testkit::free_port();
    let url = format!("ws://agent:PASSWORD@127.0.0.1:{port}/SECRETPATH?token=QUERYKEY");
    let err = SubstrateAnchor::connect(&url, &[1; 32]).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    for secret in ["PASSWORD", "SECRETPATH", "QUERYKEY", "agent:"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(
        shown.contains(&format!("ws://127.0.0.1:{port}")),
        "the endpoint is still named: {shown}"
    );
}
