//! The suite against a real anvil over HTTP and over WS, and the durability tests: anvil
//! killed mid-submission and restarted, and the client dying between broadcast and
//! confirmation. Nothing acknowledged is lost, nothing is doubled.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use talos_anchor::evm::{EvmAnchor, EvmConfig, deploy};
use talos_anchor::{Anchor, AnchorError};
use talos_primitives::{Did, TreeHead};
use talos_store::Store;
use talos_store::db::CF_ANCHOR_PENDING;

use crate::common::{Log, account, did, h, identity};
use crate::suite;
use talos_testkit::anvil::Anvil;

pub(crate) fn config(url: &str, contract: Address) -> EvmConfig {
    let mut cfg = EvmConfig::new(url, contract);
    cfg.poll_interval = Duration::from_millis(50);
    cfg.confirm_timeout = Duration::from_secs(20);
    cfg.retries = 3;
    cfg.retry_delay = Duration::from_millis(50);
    cfg
}

pub(crate) fn pending_count(store: &Store) -> usize {
    let cf = store.cf(CF_ANCHOR_PENDING).unwrap();
    store
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .count()
}

async fn suite_over(url_of: impl Fn(&Anvil) -> String) {
    let anvil = Anvil::start(None);
    let url = url_of(&anvil);
    let contract = deploy(&url, account(0)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let a = EvmAnchor::connect(config(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    let b = EvmAnchor::connect(config(&url, contract), account(1), store.clone())
        .await
        .unwrap();
    suite::all(&a, &b).await;
    assert_eq!(pending_count(&store), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_suite_http() {
    suite_over(Anvil::http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_suite_ws() {
    suite_over(Anvil::ws).await;
}

/// How many `RootAnchored` events `did` has at `size`.
pub(crate) async fn anchored_at(a: &EvmAnchor, d: &Did, size: u64) -> usize {
    // root_at returns the first; count them all through the executor's log query.
    use talos_anchor::contract::{Executor, LogQuery};
    let logs = a
        .executor()
        .logs(LogQuery {
            topic0: alloy::primitives::keccak256("RootAnchored(bytes32,address,uint256,bytes32)"),
            topic1: Some(alloy::primitives::B256::from(talos_anchor::did_key(d).0)),
            from: 0,
            to: None,
        })
        .await
        .unwrap();
    logs.iter()
        .filter(|l| {
            l.data.get(..32).map(alloy::primitives::U256::from_be_slice)
                == Some(alloy::primitives::U256::from(size))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_killed_mid_submission() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("anvil-state.json");
    let mut anvil = Anvil::start(Some(&state));
    let url = anvil.http();
    let contract = deploy(&url, account(0)).await.unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let a = EvmAnchor::connect(config(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    let d = did(20);
    let log = Log::new(8);
    a.register_did(&identity(20), h(1)).await.unwrap();
    a.anchor_root(&d, log.head(4)).await.unwrap();
    // Let anvil write its state file (every second) twice after the anchor, so a dump
    // taken after it is on disk; waiting on the file, not a fixed delay, holds on a
    // saturated machine too. Then stop mining: the next transaction will sit in the
    // mempool, broadcast but unconfirmed, when anvil dies.
    wait_for_dumps(&state, 2).await;
    let raw = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let _: () = raw
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();

    let writer = a.clone();
    let head8 = log.head(8);
    let submit = tokio::spawn(async move { writer.anchor_root(&d, head8).await });
    while pending_count(&store) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Broadcast done: anvil's pending nonce moves once the transaction is in its mempool.
    let confirmed = raw_nonce(&url).await;
    while pending_nonce(&url).await == confirmed {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anvil.kill();

    // The write is not acknowledged: it fails, clearly, and stays pending.
    let err = submit.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, AnchorError::Unavailable { endpoint, .. } if endpoint == &url),
        "{err:?}"
    );
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert!(matches!(
        a.latest_root(&d).await,
        Err(AnchorError::Unavailable { .. })
    ));
    assert_eq!(pending_count(&store), 1);
    drop(a);

    // anvil comes back with its chain (the mempool is gone); a restarted client
    // resubmits the pending transaction as signed.
    let _anvil = Anvil::start_on(anvil.port, Some(&state));
    let a = EvmAnchor::connect(config(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    assert_eq!(pending_count(&store), 0);
    assert_eq!(a.latest_root(&d).await.unwrap(), Some(log.head(8)));
    // Nothing lost (the acknowledged anchor at 4 is there) and nothing doubled.
    assert_eq!(anchored_at(&a, &d, 4).await, 1);
    assert_eq!(anchored_at(&a, &d, 8).await, 1);
    assert_eq!(a.resume().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_dies_between_broadcast_and_confirmation() {
    let anvil = Anvil::start(None);
    let url = anvil.http();
    let contract = deploy(&url, account(0)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let a = EvmAnchor::connect(config(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    let d = did(21);
    let log = Log::new(6);
    a.register_did(&identity(21), h(1)).await.unwrap();
    let nonce_before = raw_nonce(&url).await;

    // No block is mined until the client is gone, so the submission cannot confirm (and
    // leave the pending table) before the test sees it there: without this, a fast
    // submission finished between two looks and the loop below spun forever.
    automine(&url, false).await;
    let writer = a.clone();
    let head = log.head(6);
    let submit = tokio::spawn(async move { writer.anchor_root(&d, head).await });
    while pending_count(&store) == 0 {
        assert!(
            !submit.is_finished(),
            "the submission ended without a pending entry"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    submit.abort(); // the client is gone; whether it broadcast or not is unknown
    let _ = submit.await;
    drop(a);
    automine(&url, true).await;
    mine(&url).await;

    let a = EvmAnchor::connect(config(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    assert_eq!(pending_count(&store), 0);
    assert_eq!(
        a.latest_root(&d).await.unwrap(),
        Some(TreeHead {
            size: 6,
            root: head.root
        })
    );
    assert_eq!(anchored_at(&a, &d, 6).await, 1);
    assert_eq!(raw_nonce(&url).await, nonce_before + 1);
}

/// Waits until anvil has rewritten its state file `n` times from now.
async fn wait_for_dumps(state: &std::path::Path, n: usize) {
    let mtime = || std::fs::metadata(state).and_then(|m| m.modified()).ok();
    let mut last = mtime();
    for _ in 0..n {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while mtime() == last {
            assert!(
                tokio::time::Instant::now() < deadline,
                "anvil wrote no state"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        last = mtime();
    }
}

pub(crate) async fn pending_nonce(url: &str) -> u64 {
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .get_transaction_count(account(0).address())
        .pending()
        .await
        .unwrap()
}

/// Turns anvil's automatic mining on or off.
pub(crate) async fn automine(url: &str, on: bool) {
    let p = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let () = p
        .raw_request("evm_setAutomine".into(), (on,))
        .await
        .unwrap();
}

/// Mines one block (whatever is in anvil's mempool).
pub(crate) async fn mine(url: &str) {
    let p = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
}

pub(crate) async fn raw_nonce(url: &str) -> u64 {
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .get_transaction_count(account(0).address())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_down_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let url = format!("http://127.0.0.1:{port}/secret-key");
    let err = EvmAnchor::connect(config(&url, Address::ZERO), account(0), store)
        .await
        .unwrap_err();
    match &err {
        AnchorError::Unavailable {
            endpoint, attempts, ..
        } => {
            assert_eq!(endpoint, &format!("http://127.0.0.1:{port}"));
            assert_eq!(*attempts, 4);
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(!err.to_string().contains("secret-key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_contract_at_address_is_a_config_error() {
    let anvil = Anvil::start(None);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let err = EvmAnchor::connect(
        config(&anvil.http(), Address::repeat_byte(9)),
        account(0),
        store,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AnchorError::Config(_)), "{err:?}");
    let _ = did(0);
}
