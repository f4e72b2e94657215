//! Fees are zero, so the pool refuses a transaction signed by anyone but a member, a
//! validator or the sudo key. On `talos-chain --dev`, Bob holds a million units and is
//! no member: his remark is refused on submission, so it is never gossiped or included.
//! Once governance makes him a member the same remark is finalized, and once it removes
//! him he is refused again (his balance still keeps his account alive).

use subxt::dynamic::Value;
use subxt::{OnlineClient, SubstrateConfig};
use talos_anchor::substrate::admin;
use talos_testkit::chain::{TalosChain, wait_finalized};

/// The runtime's `InvalidTransaction::Custom(NOT_A_SIGNER)`, as the pool reports it
/// (lowercased: the RPC error and the watched status spell it differently).
const REFUSED: &str = "custom error: 1";

async fn remark(url: &str, who: &subxt_signer::sr25519::Keypair) -> Result<(), String> {
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(url)
        .await
        .map_err(|e| e.to_string())?;
    let tx = subxt::dynamic::tx("System", "remark", (Value::from_bytes(b"spam"),));
    let mut txc = api.transactions().await.map_err(|e| e.to_string())?;
    let progress = txc
        .sign_and_submit_then_watch_default(&tx, who)
        .await
        .map_err(|e| format!("{e:?}"))?;
    progress
        .wait_for_finalized_success()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

#[test]
fn endowed_non_members_are_refused_by_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let chain = TalosChain::dev(dir.path());
    wait_finalized(&chain, 1, std::time::Duration::from_secs(180));
    let url = chain.ws();
    let bob = subxt_signer::sr25519::dev::bob();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let err = remark(&url, &bob).await.unwrap_err();
        assert!(err.to_lowercase().contains(REFUSED), "{err}");

        admin::add_member(&url, "//Alice", bob.public_key().0)
            .await
            .unwrap();
        remark(&url, &bob).await.unwrap();

        admin::remove_member(&url, "//Alice", bob.public_key().0)
            .await
            .unwrap();
        let err = remark(&url, &bob).await.unwrap_err();
        assert!(err.to_lowercase().contains(REFUSED), "{err}");
    });
}
