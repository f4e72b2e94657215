//! Revocations that reach a verifier only through the chain (it was down during the
//! gossip): applied from a talos chain, where a DID's account is its key, and from an EVM
//! chain, where the DID's key binds the account that writes for it (an owner binding in
//! its registration; registrations without one are ignored, crates/anchor tests).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::sync::Mutex;

use crate::invoke::{agent, call, delegate, issue};
use talos_testkit::node::{NodeProc, TCP0, flags, free_port, init};

/// The verifier B (restarted, following the chain), the holder A and the delegator P
/// after P revoked its delegation to A while B was down and anchored the revocation on
/// the chain; `chain_a` is A's capability chain.
struct RevokedWhileDown {
    a: NodeProc,
    b: NodeProc,
    _p: NodeProc,
    b_did: String,
    chain_a: Vec<String>,
}

/// Sets up [`RevokedWhileDown`] with every node on `on_chain`; `admit` lets P's account
/// write to the chain (funding on an EVM chain, membership on a talos chain).
async fn revoked_while_down(
    root: &std::path::Path,
    on_chain: &[(&str, &str)],
    admit: impl AsyncFnOnce(&std::path::Path),
) -> RevokedWhileDown {
    let b_listen = format!("/ip4/127.0.0.1/tcp/{}", free_port());
    let mut fb = vec![("--listen", b_listen.as_str())];
    fb.extend_from_slice(on_chain);
    let b_home = init(root, "b", &flags(&fb));
    let mut fp = vec![("--listen", TCP0)];
    fp.extend_from_slice(on_chain);
    let p_home = init(root, "p", &flags(&fp));
    admit(&p_home).await;
    // The delegator alone: it revokes what it delegated and anchors (no one to gossip to).
    let p = NodeProc::up(&p_home, &[]).await;
    let b = NodeProc::up(&b_home, &[]).await;
    let b_did = b.did.clone();
    let boot = b.addr();
    let mut b = b;
    b.kill9().await;
    let mut fa = vec![("--listen", TCP0), ("--bootstrap", boot.as_str())];
    fa.extend_from_slice(on_chain);
    let a_home = init(root, "a", &flags(&fa));
    let a_did = {
        let a = NodeProc::up(&a_home, &[]).await;
        a.did.clone()
    };
    let (root_chain, _) = issue(&b, &p.did, "book", 600);
    let (chain_a, leaf) = delegate(&p, &root_chain, &a_did);
    let (s, v) = p
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": leaf })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Anchoring writes the queued revocation to the chain.
    let (s, v) = p.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!((s, v["anchored"].as_bool()), (200, Some(true)), "{v}");

    // The verifier restarts (same fixed address) and follows the chain.
    b.restart().await;
    let a = NodeProc::up(&a_home, &[]).await;
    RevokedWhileDown {
        a,
        b,
        _p: p,
        b_did,
        chain_a,
    }
}

/// The holder A calls the verifier B until B refuses the call as revoked (within a minute).
async fn call_until_refused(a: &NodeProc, b: &NodeProc, b_did: &str, chain_a: &[String]) {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let t = std::time::Instant::now();
    let mut refused = None;
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(60) {
        n += 1;
        let (s, v) = a
            .call(
                Method::POST,
                "/v1/invoke",
                Some(call(b_did, chain_a, &format!("LH{n}"), 10)),
            )
            .await;
        if s == 403 {
            refused = Some(v["kind"].as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(refused.as_deref(), Some("revoked"), "never refused");
    eprintln!(
        "the chain's revocation reached the verifier {:?} after its restart",
        t.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
}

/// On an EVM chain the delegator's registration carries the owner binding its DID's key
/// signed for its account, so its revocation there is the delegator's: a verifier that
/// missed the gossip learns it from the chain and refuses the call. (Before owner
/// bindings anyone could register a DID's hash first, and EVM revocations were ignored.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evm_chains_revocations_by_a_bound_did_reach_a_verifier_that_missed_the_gossip() {
    use crate::anchoring::{anvil::Anvil, deploy, fund_node};
    let chain = Anvil::start(None);
    let contract = deploy(&chain).await;
    let spec = format!("evm:{}", chain.http());
    let root = tempfile::tempdir().unwrap();
    let on_chain = [
        ("--chain", spec.as_str()),
        ("--contract", contract.as_str()),
        ("--anchor-secs", "0"),
    ];
    let RevokedWhileDown {
        a,
        b,
        b_did,
        chain_a,
        ..
    } = revoked_while_down(root.path(), &on_chain, async |p_home| {
        fund_node(&chain, p_home).await
    })
    .await;
    call_until_refused(&a, &b, &b_did, &chain_a).await;
}

/// On a talos consortium chain a DID's account is its own key, so a revocation there is
/// the issuer's: a verifier that missed the gossip (it was down) learns it from the
/// chain and refuses the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_talos_chains_revocations_reach_a_verifier_that_missed_the_gossip() {
    use crate::substrate::{dev_chain, node_key};
    let root = tempfile::tempdir().unwrap();
    let chain = tokio::task::block_in_place(|| dev_chain(&root.path().join("chain")));
    let spec = format!("substrate:{}", chain.ws());
    let on_chain = [("--chain", spec.as_str()), ("--anchor-secs", "0")];
    let RevokedWhileDown {
        a,
        b,
        b_did,
        chain_a,
        ..
    } = revoked_while_down(root.path(), &on_chain, async |p_home| {
        talos_anchor::substrate::admin::add_member(&chain.ws(), "//Alice", node_key(p_home))
            .await
            .unwrap()
    })
    .await;
    call_until_refused(&a, &b, &b_did, &chain_a).await;
}
