//! The suite on the embedded EVM, plus persistence and determinism.

use std::sync::Arc;

use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain};
use talos_anchor::{Anchor, Inclusion};
use talos_store::Store;

use crate::common::{Log, account, did, h, identity};
use crate::suite;

fn open(dir: &std::path::Path, clock: Clock) -> EmbeddedChain {
    let store = Arc::new(Store::open(dir).unwrap());
    EmbeddedChain::open(store, clock, account(0).address()).unwrap()
}

fn pair(chain: &EmbeddedChain) -> (EmbeddedAnchor, EmbeddedAnchor) {
    (
        EmbeddedAnchor::embedded(chain.clone(), account(0).address()),
        EmbeddedAnchor::embedded(chain.clone(), account(1).address()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_suite() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), Clock::System);
    let (a, b) = pair(&chain);
    suite::all(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let d = did(10);
    let log = Log::new(12);
    let (contract, head) = {
        let chain = open(dir.path(), Clock::System);
        let (a, _) = pair(&chain);
        a.register_did(&identity(10), h(1)).await.unwrap();
        a.anchor_root(&d, log.head(5)).await.unwrap();
        a.anchor_root(&d, log.head(12)).await.unwrap();
        (chain.contract(), chain.head_number())
    };
    let chain = open(dir.path(), Clock::System);
    assert_eq!(chain.contract(), contract);
    assert_eq!(chain.head_number(), head);
    let (a, _) = pair(&chain);
    assert_eq!(a.latest_root(&d).await.unwrap(), Some(log.head(12)));
    assert_eq!(a.root_at(&d, 5).await.unwrap().unwrap().head, log.head(5));
    assert_eq!(a.resolve_did(&d).await.unwrap().unwrap().doc_hash, h(1));
    // Blocks continue from the stored head.
    let at = a.anchor_root(&d, log.head(12)).await.unwrap();
    assert_eq!(at.block, head + 1);
    // The revocation history is there for a watcher starting from block 0.
    a.revoke(&d, &[talos_primitives::CapabilityId([7; 16])])
        .await
        .unwrap();
    drop((a, chain));
    let chain = open(dir.path(), Clock::System);
    let (a, _) = pair(&chain);
    let mut s = a.revocations(0).await.unwrap();
    let ev = s.next().await.unwrap().unwrap();
    assert_eq!(ev.ids, vec![talos_primitives::CapabilityId([7; 16])]);
}

async fn script(chain: &EmbeddedChain) -> Vec<Inclusion> {
    let (a, _) = pair(chain);
    let d = did(11);
    let log = Log::new(4);
    vec![
        a.register_did(&identity(11), h(1)).await.unwrap(),
        a.anchor_root(&d, log.head(2)).await.unwrap(),
        a.anchor_root(&d, log.head(4)).await.unwrap(),
        a.revoke(&d, &[talos_primitives::CapabilityId([1; 16])])
            .await
            .unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_blocks_are_deterministic() {
    let clock = Clock::Fixed {
        genesis: 1_700_000_000,
    };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (c1, c2) = (open(d1.path(), clock), open(d2.path(), clock));
    assert_eq!(c1.contract(), c2.contract());
    let (r1, r2) = (script(&c1).await, script(&c2).await);
    assert_eq!(r1, r2);
    assert_eq!(
        r1.iter().map(|i| i.block).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
}
