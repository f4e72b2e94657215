//! Fee replacement on a real anvil: a transaction whose fee cap the base fee jumped past
//! is signed again at the same nonce with higher fees and lands once, and every version
//! survives a crash, so a restarted client recognises whichever one was mined.

use std::sync::Arc;
use std::time::Duration;

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Decodable2718;
use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder};
use talos_anchor::evm::{EvmAnchor, EvmConfig, deploy};
use talos_anchor::{Anchor, AnchorError, Inclusion};
use talos_primitives::{Did, TreeHead};
use talos_store::Store;
use talos_store::db::CF_ANCHOR_PENDING;
use talos_testkit::anvil::Anvil;
use tokio::task::JoinHandle;

use crate::common::{Log, account, did, h, identity};
use crate::evm::{anchored_at, automine, config, mine, pending_count, pending_nonce, raw_nonce};

/// 1,000 gwei: hundreds of times what the first signature offered (anvil starts at 1 gwei
/// and the estimate doubles the base fee).
const SPIKE: u128 = 1_000_000_000_000;

/// 20 gwei: above what the first signature offers (anvil's 1 gwei base fee, doubled by
/// the estimate), far under the spike.
const CAP: u128 = 20_000_000_000;

fn bumping(url: &str, contract: Address) -> EvmConfig {
    let mut cfg = config(url, contract);
    cfg.bump_after_blocks = 2;
    cfg
}

fn capped(url: &str, contract: Address) -> EvmConfig {
    let mut cfg = bumping(url, contract);
    cfg.max_fee_per_gas = Some(CAP);
    // The base fee needs ~30 blocks to fall back under the cap; on a busy machine the
    // write must not give up meanwhile.
    cfg.confirm_timeout = Duration::from_secs(300);
    cfg
}

/// The hashes of every signed version in the pending table, in key order.
fn versions(store: &Store) -> Vec<B256> {
    let cf = store.cf(CF_ANCHOR_PENDING).unwrap();
    store
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|kv| B256::from_slice(&kv.unwrap().1[..32]))
        .collect()
}

/// The `maxFeePerGas` of every signed version in the pending table, in key order.
fn max_fees(store: &Store) -> Vec<u128> {
    let cf = store.cf(CF_ANCHOR_PENDING).unwrap();
    store
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|kv| {
            let raw = kv.unwrap().1;
            match TxEnvelope::decode_2718(&mut &raw[32..]).unwrap() {
                TxEnvelope::Eip1559(t) => t.tx().max_fee_per_gas,
                other => panic!("not an EIP-1559 transaction: {other:?}"),
            }
        })
        .collect()
}

/// The next block's base fee becomes `fee` (then falls 12.5 % per empty block).
async fn spike(url: &str, fee: u128) {
    let p = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let () = p
        .raw_request(
            "anvil_setNextBlockBaseFeePerGas".into(),
            (format!("{fee:#x}"),),
        )
        .await
        .unwrap();
}

/// Waits (on the table, not the clock) until `n` versions are pending; the submission
/// ending first (a confirmation timeout, say) fails the test.
async fn until_versions<T>(store: &Store, n: usize, submit: &tokio::task::JoinHandle<T>) {
    while versions(store).len() < n {
        assert!(
            !submit.is_finished(),
            "the submission ended with {} version(s)",
            versions(store).len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A write the base fee stranded: an anchor of `head` broadcast at the first fee (in
/// anvil's mempool, automining off), then a base-fee spike and two empty blocks, until
/// the client has signed and persisted a second version.
struct Stranded {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    url: String,
    contract: Address,
    store: Arc<Store>,
    a: EvmAnchor,
    d: Did,
    head: TreeHead,
    nonce_before: u64,
    /// The first version's hash.
    first: B256,
    submit: JoinHandle<Result<Inclusion, AnchorError>>,
}

async fn stranded(seed: u8, size: usize, cfg: fn(&str, Address) -> EvmConfig) -> Stranded {
    let anvil = Anvil::start(None);
    let url = anvil.http();
    let contract = deploy(&url, account(0)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let a = EvmAnchor::connect(cfg(&url, contract), account(0), store.clone())
        .await
        .unwrap();
    let d = did(seed);
    a.register_did(&identity(seed), h(1)).await.unwrap();
    let nonce_before = raw_nonce(&url).await;

    automine(&url, false).await;
    let (writer, head) = (a.clone(), Log::new(size).head(size as u64));
    let submit = tokio::spawn(async move { writer.anchor_root(&d, head).await });
    until_versions(&store, 1, &submit).await;
    let first = versions(&store)[0];
    while pending_nonce(&url).await == nonce_before {
        tokio::time::sleep(Duration::from_millis(10)).await; // broadcast, in the mempool
    }
    // The base fee jumps past the first version's fee cap: blocks go by without it.
    spike(&url, SPIKE).await;
    mine(&url).await;
    mine(&url).await;
    until_versions(&store, 2, &submit).await;
    Stranded {
        _anvil: anvil,
        _dir: dir,
        url,
        contract,
        store,
        a,
        d,
        head,
        nonce_before,
        first,
        submit,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_fee_spike_is_outbid_at_the_same_nonce() {
    let s = stranded(23, 5, bumping).await;
    mine(&s.url).await;

    let at = s.submit.await.unwrap().unwrap();
    assert_ne!(
        at.tx.0, s.first.0,
        "the replacement landed, not the first version"
    );
    assert_eq!(B256::from(at.tx.0), versions_landed(&s.url, at.block).await);
    assert_eq!(pending_count(&s.store), 0);
    assert_eq!(raw_nonce(&s.url).await, s.nonce_before + 1);
    assert_eq!(s.a.latest_root(&s.d).await.unwrap(), Some(s.head));
    assert_eq!(anchored_at(&s.a, &s.d, 5).await, 1);
}

/// The single transaction of `block`, by hash.
async fn versions_landed(url: &str, block: u64) -> B256 {
    let p = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let b = p.get_block_by_number(block.into()).await.unwrap().unwrap();
    let hashes: Vec<B256> = b.transactions.hashes().collect();
    assert_eq!(hashes.len(), 1, "one transaction at that nonce, no double");
    hashes[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_restarted_after_a_replacement_settles_the_nonce_once() {
    let s = stranded(24, 7, bumping).await;
    // The client dies with two versions signed; then the base fee climbs past the second
    // one too, and blocks come every second.
    s.submit.abort();
    let _ = s.submit.await;
    drop(s.a);
    spike(&s.url, SPIKE * 100).await;
    mine(&s.url).await;
    let p = ProviderBuilder::new().connect_http(s.url.parse().unwrap());
    let () = p
        .raw_request("evm_setIntervalMining".into(), (1u64,))
        .await
        .unwrap();

    // The restart rebroadcasts the newest version, outbids the market again when it
    // does not land, and settles the nonce exactly once.
    let a = EvmAnchor::connect(bumping(&s.url, s.contract), account(0), s.store.clone())
        .await
        .unwrap();
    assert_eq!(pending_count(&s.store), 0);
    assert_eq!(raw_nonce(&s.url).await, s.nonce_before + 1);
    assert_eq!(a.latest_root(&s.d).await.unwrap(), Some(s.head));
    assert_eq!(anchored_at(&a, &s.d, 7).await, 1);
}

/// With `max_fee_per_gas` set, the replacement is signed at the cap instead of the market
/// (~2,000 gwei after the spike), no version above it is ever signed while the base fee
/// stays over it, and the capped version lands once the base fee falls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_cap_holds_until_the_base_fee_falls_back() {
    let s = stranded(25, 6, capped).await;
    let fees = max_fees(&s.store);
    assert!(fees[0] < CAP, "{fees:?}");
    assert_eq!(fees[1], CAP, "the replacement is signed at the cap");
    let capped_version = versions(&s.store)[1];

    // Empty blocks one by one: the base fee falls 12.5 % a block, from 1,000 gwei under
    // the cap in ~30. The client tries to replace every 2 blocks and may not go higher.
    // Under the cap the base fee is held at half of it, above the first version's fee,
    // so however slowly a busy client polls, only the capped version can land.
    let p = ProviderBuilder::new().connect_http(s.url.parse().unwrap());
    let mut blocks = 0;
    while !s.submit.is_finished() {
        assert!(max_fees(&s.store).iter().all(|f| *f <= CAP));
        assert!(blocks < 2_000, "the capped version never landed");
        let latest = p
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap();
        if latest
            .header
            .base_fee_per_gas
            .is_some_and(|f| u128::from(f) <= CAP)
        {
            spike(&s.url, CAP / 2).await;
        }
        mine(&s.url).await;
        blocks += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at = s.submit.await.unwrap().unwrap();
    assert_eq!(B256::from(at.tx.0), capped_version);
    assert_eq!(versions_landed(&s.url, at.block).await, capped_version);
    assert_eq!(pending_count(&s.store), 0);
    assert_eq!(raw_nonce(&s.url).await, s.nonce_before + 1);
    assert_eq!(anchored_at(&s.a, &s.d, 6).await, 1);
}
