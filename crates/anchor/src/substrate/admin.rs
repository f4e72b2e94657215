//! Consortium administration through sudo: adding and removing members (who may
//! register DIDs and anchor). For development chains and the demo, where sudo is a
//! well-known key (`//Alice`); a real consortium's sudo key never sits in a node.

use std::str::FromStr;

use subxt::dynamic::Value;
use subxt::ext::scale_value::{Composite, ValueDef};
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::SecretUri;
use subxt_signer::sr25519::Keypair;

use super::rpc_err;
use crate::error::AnchorError;

/// `sudo(Members.<call>(Id(account)))`, signed by the sr25519 key at `sudo_uri`
/// (`//Alice` on dev chains), waited for until finalized.
async fn members_call(
    url: &str,
    sudo_uri: &str,
    call: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    let uri = SecretUri::from_str(sudo_uri)
        .map_err(|_| AnchorError::Config("the sudo key is not a secret URI".into()))?;
    let sudo = Keypair::from_uri(&uri)
        .map_err(|_| AnchorError::Config("the sudo key URI does not derive a key".into()))?;
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(url)
        .await
        .map_err(rpc_err)?;
    let inner = Value::unnamed_variant(
        "Members",
        [Value::named_variant(
            call,
            [(
                "who",
                Value::unnamed_variant("Id", [Value::from_bytes(account)]),
            )],
        )],
    );
    let tx = subxt::dynamic::tx("Sudo", "sudo", (inner,));
    let mut txc = api.transactions().await.map_err(rpc_err)?;
    let progress = txc
        .sign_and_submit_then_watch_default(&tx, &sudo)
        .await
        .map_err(rpc_err)?;
    let events = progress
        .wait_for_finalized_success()
        .await
        .map_err(rpc_err)?;
    // Sudo's own extrinsic succeeds even when the inner call fails; its `Sudid` event
    // carries the inner result.
    for ev in events.iter() {
        let ev = ev.map_err(rpc_err)?;
        if ev.pallet_name() == "Sudo" && ev.event_name() == "Sudid" {
            let fields = ev
                .decode_fields_unchecked_as::<Composite<()>>()
                .map_err(rpc_err)?;
            let failed = fields
                .values()
                .any(|v| matches!(&v.value, ValueDef::Variant(variant) if variant.name == "Err"));
            if failed {
                return Err(AnchorError::Rpc(format!("sudo Members.{call} failed")));
            }
        }
    }
    Ok(())
}

/// Whether `account` is a consortium member (at the finalized head).
pub async fn is_member(url: &str, account: [u8; 32]) -> Result<bool, AnchorError> {
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(url)
        .await
        .map_err(rpc_err)?;
    let at = api.at_current_block().await.map_err(rpc_err)?;
    let addr = subxt::dynamic::storage::<(), Vec<[u8; 32]>>("Members", "Members");
    let members = match at.storage().try_fetch(addr, ()).await.map_err(rpc_err)? {
        Some(v) => v
            .decode()
            .map_err(|e| AnchorError::Malformed(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(members.contains(&account))
}

/// Makes `account` a consortium member; a member already is left as it is.
pub async fn add_member(url: &str, sudo_uri: &str, account: [u8; 32]) -> Result<(), AnchorError> {
    if is_member(url, account).await? {
        return Ok(());
    }
    members_call(url, sudo_uri, "add_member", account).await
}

/// Removes `account` from the consortium's members.
pub async fn remove_member(
    url: &str,
    sudo_uri: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    members_call(url, sudo_uri, "remove_member", account).await
}
