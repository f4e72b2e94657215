//! The scenarios every EVM backend must pass. `a` and `b` are two accounts on the same
//! chain; each scenario uses its own DIDs, so they can run in any order on one chain.

use std::time::Duration;

use alloy::primitives::{B256, U256};
use talos_anchor::contract::Executor;
use talos_anchor::meta::MetaTx;
use talos_anchor::verify::{VerifyError, verify_consistency, verify_inclusion};
use talos_anchor::{Account, Anchor, AnchorError, Call, ContractAnchor, Revert, did_key};
use talos_primitives::{CapabilityId, Commitment, TreeHead};

use crate::common::{Log, account, did, h, identity};

fn revert(r: Result<impl std::fmt::Debug, AnchorError>) -> Revert {
    match r {
        Err(AnchorError::Revert(r)) => r,
        other => panic!("expected a revert, got {other:?}"),
    }
}

pub(crate) async fn did_lifecycle<E: Executor>(a: &ContractAnchor<E>, b: &ContractAnchor<E>) {
    let (k, d) = (identity(1), did(1));
    assert_eq!(a.resolve_did(&d).await.unwrap(), None);
    let at = a.register_did(&k, h(1)).await.unwrap();
    assert!(at.block > 0);
    let rec = a.resolve_did(&d).await.unwrap().unwrap();
    assert_eq!(rec.owner, a.account());
    assert_eq!((rec.version, rec.doc_hash, rec.prev_hash), (1, h(1), None));
    assert!(!rec.deactivated);

    // A second registration by the same account, and writes by an account without a
    // claim on the DID, are refused with typed errors.
    assert_eq!(
        revert(a.register_did(&k, h(9)).await),
        Revert::DidExists { did: did_key(&d) }
    );
    let b_account = b.account().to_string();
    assert_eq!(
        revert(b.rotate_did(&d, h(9), None).await),
        Revert::NoClaim {
            did: did_key(&d),
            account: b_account.clone()
        }
    );
    assert!(matches!(
        revert(
            b.anchor_root(
                &d,
                TreeHead {
                    size: 1,
                    root: h(7)
                }
            )
            .await
        ),
        Revert::NoClaim { .. }
    ));

    a.rotate_did(&d, h(2), None).await.unwrap();
    let rec = a.resolve_did(&d).await.unwrap().unwrap();
    assert_eq!(
        (rec.version, rec.doc_hash, rec.prev_hash),
        (2, h(2), Some(h(1)))
    );

    // A claim keeps its account: handing the DID to b is b's own registration (the DID's
    // key binds b too), then a's deactivation; now b is the DID's owner and a a stranger.
    assert!(matches!(
        a.rotate_did(&d, h(3), Some(b.account())).await,
        Err(AnchorError::Config(_))
    ));
    b.register_did(&k, h(3)).await.unwrap();
    assert_eq!(a.resolve_did(&d).await.unwrap().unwrap().owner, a.account());
    a.deactivate_did(&d).await.unwrap();
    let rec = a.resolve_did(&d).await.unwrap().unwrap();
    assert_eq!(
        (rec.owner, rec.version, rec.doc_hash),
        (b.account(), 1, h(3))
    );
    assert_eq!(
        revert(a.rotate_did(&d, h(4), None).await),
        Revert::Deactivated { did: did_key(&d) }
    );
    assert!(matches!(
        b.rotate_did(&d, h(4), Some(Account::Substrate([1; 32])))
            .await,
        Err(AnchorError::Config(_))
    ));

    b.deactivate_did(&d).await.unwrap();
    let rec = a.resolve_did(&d).await.unwrap().unwrap();
    assert!(rec.deactivated);
    assert_eq!(rec.owner, b.account());
    assert_eq!(
        revert(
            b.anchor_root(
                &d,
                TreeHead {
                    size: 1,
                    root: h(7)
                }
            )
            .await
        ),
        Revert::Deactivated { did: did_key(&d) }
    );
}

pub(crate) async fn commit_and_revoke<E: Executor>(a: &ContractAnchor<E>, b: &ContractAnchor<E>) {
    let d = did(2);
    a.register_did(&identity(2), h(1)).await.unwrap();
    let cs: Vec<Commitment> = (0..3u8).map(|i| Commitment(h(100 + i))).collect();
    a.commit(&d, &cs).await.unwrap();
    for c in &cs {
        assert_eq!(a.committed_by(c).await.unwrap(), Some(did_key(&d)));
    }
    assert_eq!(a.committed_by(&Commitment(h(99))).await.unwrap(), None);

    let ids: Vec<CapabilityId> = (0..100u8).map(|i| CapabilityId([i; 16])).collect();
    let stream_from = a.executor().head().await.unwrap();
    let mut stream = a.revocations(stream_from).await.unwrap();
    let at = a.revoke(&d, &ids).await.unwrap();
    for id in &ids {
        assert_eq!(a.revoked_by(id).await.unwrap(), Some(did_key(&d)));
    }
    assert_eq!(a.revoked_by(&CapabilityId([200; 16])).await.unwrap(), None);
    // Revoking again is harmless, and the first revoker stays recorded.
    a.revoke(&d, &ids[..1]).await.unwrap();

    // The stream carries the batch, with where it landed.
    let ev = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("revocation event in time")
        .unwrap()
        .unwrap();
    assert_eq!((ev.did, ev.at), (did_key(&d), at));
    assert_eq!(ev.ids, ids);
    let ev = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.ids, ids[..1]);

    // Only the owner revokes; batch bounds are checked before any gas is spent.
    assert!(matches!(
        revert(b.revoke(&d, &ids[..1]).await),
        Revert::NoClaim { .. }
    ));
    assert!(matches!(
        a.revoke(&d, &[]).await,
        Err(AnchorError::BadBatch(0))
    ));
    let too_many: Vec<CapabilityId> = (0..513u32)
        .map(|i| {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&i.to_be_bytes());
            CapabilityId(b)
        })
        .collect();
    assert!(matches!(
        a.revoke(&d, &too_many).await,
        Err(AnchorError::BadBatch(513))
    ));
}

pub(crate) async fn anchor_and_audit<E: Executor>(a: &ContractAnchor<E>) {
    let d = did(3);
    let log = Log::new(20);
    a.register_did(&identity(3), h(1)).await.unwrap();
    assert_eq!(a.latest_root(&d).await.unwrap(), None);

    let at8 = a.anchor_root(&d, log.head(8)).await.unwrap();
    // Re-anchoring the same head is a no-op, not an error (idempotent resubmission).
    a.anchor_root(&d, log.head(8)).await.unwrap();
    a.anchor_root(&d, log.head(20)).await.unwrap();
    assert_eq!(a.latest_root(&d).await.unwrap(), Some(log.head(20)));

    // The size never shrinks; a different root at the anchored size is a split view.
    assert_eq!(
        revert(a.anchor_root(&d, log.head(8)).await),
        Revert::TreeSizeShrinks {
            did: did_key(&d),
            current: 20,
            given: 8
        }
    );
    assert_eq!(
        revert(
            a.anchor_root(
                &d,
                TreeHead {
                    size: 20,
                    root: h(5)
                }
            )
            .await
        ),
        Revert::ConflictingRoot {
            did: did_key(&d),
            tree_size: 20
        }
    );
    assert_eq!(
        revert(
            a.anchor_root(
                &d,
                TreeHead {
                    size: 21,
                    root: talos_primitives::Hash32([0; 32])
                }
            )
            .await
        ),
        Revert::InvalidRoot
    );

    // History: each anchored size, exactly once, where it landed.
    let r8 = a.root_at(&d, 8).await.unwrap().unwrap();
    assert_eq!((r8.head, r8.at), (log.head(8), at8));
    assert_eq!(a.root_at(&d, 9).await.unwrap(), None);

    // The auditor: an inclusion proof against the anchored root, and a consistency
    // proof between two anchored roots.
    let dyn_anchor: &dyn Anchor = a;
    let got = verify_inclusion(dyn_anchor, &d, &log.inclusion(5, 20))
        .await
        .unwrap();
    assert_eq!(got.head, log.head(20));
    verify_consistency(dyn_anchor, &d, &log.consistency(8, 20))
        .await
        .unwrap();

    // A proof about an unanchored size, a different tree, or a bad path fails.
    assert!(matches!(
        verify_inclusion(dyn_anchor, &d, &log.inclusion(5, 10)).await,
        Err(VerifyError::NotAnchored { size: 10, .. })
    ));
    let mut forged = log.inclusion(5, 20);
    forged.proof[0] = talos_audit::wire::B64(h(42));
    assert!(matches!(
        verify_inclusion(dyn_anchor, &d, &forged).await,
        Err(VerifyError::Proof(_))
    ));
    let mut wrong_tree = log.inclusion(5, 20);
    wrong_tree.root = talos_audit::wire::B64(h(42));
    assert!(matches!(
        verify_inclusion(dyn_anchor, &d, &wrong_tree).await,
        Err(VerifyError::RootMismatch { size: 20, .. })
    ));
}

/// The signer (account 2) holds no gas; the relayer pays.
pub(crate) async fn meta_transactions<E: Executor>(relayer: &ContractAnchor<E>) {
    let key = account(2);
    let d = did(4);
    let domain = relayer.meta_domain();
    let nonce = relayer.meta_nonce(key.address()).await.unwrap();
    let deadline = 4_000_000_000;
    // The DID's key binds the signer's account, not the relayer's.
    let call = Call::register(&identity(4), h(1), domain, key.address());
    let meta = MetaTx::sign(&key, domain, &call, nonce, deadline).unwrap();
    relayer.relay_meta(&meta).await.unwrap();
    // The signer, not the relayer, owns the DID.
    let rec = relayer.resolve_did(&d).await.unwrap().unwrap();
    assert_eq!(rec.owner, Account::Evm(key.address().into_array()));
    assert_eq!(relayer.meta_nonce(key.address()).await.unwrap(), nonce + 1);

    // A replay fails on the nonce.
    assert_eq!(
        revert(relayer.relay_meta(&meta).await),
        Revert::BadNonce {
            expected: nonce + 1,
            given: nonce
        }
    );

    // The malleable twin (s' = n - s, flipped v) of a fresh signature is refused.
    let anchor = Call::AnchorRoot {
        did: d,
        head: TreeHead {
            size: 1,
            root: h(3),
        },
    };
    let good = MetaTx::sign(&key, domain, &anchor, nonce + 1, deadline).unwrap();
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let mut twin = good.clone();
    twin.s = B256::from(n - U256::from_be_bytes(good.s.0));
    twin.v = if good.v == 27 { 28 } else { 27 };
    assert_eq!(
        revert(relayer.relay_meta(&twin).await),
        Revert::MalleableSignature
    );

    // Signed by someone else, or past its deadline.
    let mut forged = good.clone();
    forged.signer = account(0).address();
    forged.nonce = relayer.meta_nonce(forged.signer).await.unwrap();
    assert_eq!(
        revert(relayer.relay_meta(&forged).await),
        Revert::BadSignature
    );
    let expired = MetaTx::sign(&key, domain, &anchor, nonce + 1, 1).unwrap();
    assert_eq!(
        revert(relayer.relay_meta(&expired).await),
        Revert::Expired { deadline: 1 }
    );

    // The good one still works, and its digest is the contract's.
    relayer.relay_meta(&good).await.unwrap();
    assert_eq!(
        relayer.latest_root(&d).await.unwrap(),
        Some(TreeHead {
            size: 1,
            root: h(3)
        })
    );
}

/// Every scenario, in order, on one chain.
pub(crate) async fn all<E: Executor>(a: &ContractAnchor<E>, b: &ContractAnchor<E>) {
    did_lifecycle(a, b).await;
    commit_and_revoke(a, b).await;
    anchor_and_audit(a).await;
    meta_transactions(a).await;
    crate::aggregated::scenario(a, identity(60), identity(61)).await;
}
