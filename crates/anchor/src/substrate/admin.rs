//! Consortium administration: members (who may register DIDs and anchor) and validators
//! (who produce and finalize blocks), changed through sudo, and a validator's session
//! keys. For development chains, the demo and tests, where sudo is a well-known key
//! (`//Alice`); a real consortium's sudo key never sits in a node.

use std::str::FromStr;

use subxt::dynamic::Value;
use subxt::ext::scale_value::{Composite, ValueDef};
use subxt::rpcs::RpcClient;
use subxt::rpcs::client::RpcParams;
use subxt::transactions::Payload;
use subxt::utils::AccountId32;
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::SecretUri;
use subxt_signer::sr25519::Keypair;

use super::rpc_err;
use crate::error::AnchorError;

/// The sr25519 key at a secret URI (`//Alice`).
fn keypair(uri: &str) -> Result<Keypair, AnchorError> {
    let uri = SecretUri::from_str(uri)
        .map_err(|_| AnchorError::Config("the signing key is not a secret URI".into()))?;
    Keypair::from_uri(&uri)
        .map_err(|_| AnchorError::Config("the signing key URI does not derive a key".into()))
}

async fn client(url: &str) -> Result<OnlineClient<SubstrateConfig>, AnchorError> {
    OnlineClient::<SubstrateConfig>::from_insecure_url(url)
        .await
        .map_err(rpc_err)
}

/// Signs `tx` with `signer`, waits until it is finalized and succeeded, and returns
/// whether a sudo call it wrapped failed (sudo's own extrinsic succeeds even when the
/// inner call fails; its `Sudid` event carries the inner result).
async fn submit(url: &str, tx: &impl Payload, signer: &Keypair) -> Result<bool, AnchorError> {
    let api = client(url).await?;
    let mut txc = api.transactions().await.map_err(rpc_err)?;
    let progress = txc
        .sign_and_submit_then_watch_default(tx, signer)
        .await
        .map_err(rpc_err)?;
    let events = progress
        .wait_for_finalized_success()
        .await
        .map_err(rpc_err)?;
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
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `sudo(<pallet>.<call>(who: Id(account)))`, signed by the sr25519 key at `sudo_uri`
/// (`//Alice` on dev chains), waited for until finalized.
async fn sudo_who(
    url: &str,
    sudo_uri: &str,
    pallet: &str,
    call: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    let sudo = keypair(sudo_uri)?;
    let inner = Value::unnamed_variant(
        pallet,
        [Value::named_variant(
            call,
            [(
                "who",
                Value::unnamed_variant("Id", [Value::from_bytes(account)]),
            )],
        )],
    );
    let tx = subxt::dynamic::tx("Sudo", "sudo", (inner,));
    if submit(url, &tx, &sudo).await? {
        return Err(AnchorError::Rpc(format!("sudo {pallet}.{call} failed")));
    }
    Ok(())
}

/// Whether `account` is a consortium member (at the finalized head): one map entry.
pub async fn is_member(url: &str, account: [u8; 32]) -> Result<bool, AnchorError> {
    let api = client(url).await?;
    let at = api.at_current_block().await.map_err(rpc_err)?;
    let addr = subxt::dynamic::storage::<(AccountId32,), u32>("Members", "Members");
    let joined = at
        .storage()
        .try_fetch(addr, (AccountId32(account),))
        .await
        .map_err(rpc_err)?;
    Ok(joined.is_some())
}

/// Makes `account` a consortium member; a member already is left as it is.
pub async fn add_member(url: &str, sudo_uri: &str, account: [u8; 32]) -> Result<(), AnchorError> {
    if is_member(url, account).await? {
        return Ok(());
    }
    sudo_who(url, sudo_uri, "Members", "add_member", account).await
}

/// Removes `account` from the consortium's members.
pub async fn remove_member(
    url: &str,
    sudo_uri: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    sudo_who(url, sudo_uri, "Members", "remove_member", account).await
}

/// Adds `account` to the validator list. It joins the authority set two session changes
/// later, if its session keys are set by the first ([`set_session_keys`]).
pub async fn add_validator(
    url: &str,
    sudo_uri: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    sudo_who(url, sudo_uri, "Validators", "add_member", account).await
}

/// Removes `account` from the validator list (it leaves the authority set two session
/// changes later).
pub async fn remove_validator(
    url: &str,
    sudo_uri: &str,
    account: [u8; 32],
) -> Result<(), AnchorError> {
    sudo_who(url, sudo_uri, "Validators", "remove_member", account).await
}

/// A validator's session keys as its node generated them, with the proof that the node
/// holds their private keys for the account that registers them.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    /// Aura's sr25519 public key, then GRANDPA's ed25519 one.
    pub keys: [u8; 64],
    /// Each key's signature over the owner account, as the runtime checks it.
    pub proof: Vec<u8>,
}

impl SessionKeys {
    /// Aura's public key (block authoring).
    pub fn aura(&self) -> [u8; 32] {
        let mut k = [0; 32];
        k.copy_from_slice(&self.keys[..32]);
        k
    }

    /// GRANDPA's public key (finality votes).
    pub fn grandpa(&self) -> [u8; 32] {
        let mut k = [0; 32];
        k.copy_from_slice(&self.keys[32..]);
        k
    }
}

#[derive(serde::Deserialize)]
struct Generated {
    keys: String,
    proof: Option<String>,
}

fn unhex(s: &str) -> Result<Vec<u8>, AnchorError> {
    hex::decode(s.trim_start_matches("0x"))
        .map_err(|_| AnchorError::Malformed("session keys are not hex".into()))
}

/// Asks the node at `url` to generate new session keys in its keystore for `owner`, the
/// account that will register them (`author_rotateKeysWithOwner`, an unsafe RPC: the
/// node must allow it, as it does on its own loopback).
pub async fn rotate_keys(url: &str, owner: [u8; 32]) -> Result<SessionKeys, AnchorError> {
    let rpc = RpcClient::from_insecure_url(url).await.map_err(rpc_err)?;
    let owner = format!("0x{}", hex::encode(owner));
    let mut params = RpcParams::new();
    params.push(owner).map_err(rpc_err)?;
    let generated: Generated = rpc
        .request("author_rotateKeysWithOwner", params)
        .await
        .map_err(rpc_err)?;
    let keys = unhex(&generated.keys)?;
    let keys = <[u8; 64]>::try_from(keys.as_slice())
        .map_err(|_| AnchorError::Malformed(format!("{} bytes of session keys", keys.len())))?;
    let proof = match generated.proof {
        Some(p) => unhex(&p)?,
        None => {
            return Err(AnchorError::Malformed(
                "the node gave no ownership proof for its session keys".into(),
            ));
        }
    };
    Ok(SessionKeys { keys, proof })
}

/// `Session.set_keys(keys, proof)` signed by the validator's account key at `signer_uri`
/// (the owner the keys were generated for): the keys its node signs blocks and votes
/// with from its next session on.
pub async fn set_session_keys(
    url: &str,
    signer_uri: &str,
    keys: &SessionKeys,
) -> Result<(), AnchorError> {
    let signer = keypair(signer_uri)?;
    let value = Value::named_composite([
        ("aura", Value::from_bytes(keys.aura())),
        ("grandpa", Value::from_bytes(keys.grandpa())),
    ]);
    let tx = subxt::dynamic::tx(
        "Session",
        "set_keys",
        (value, Value::from_bytes(keys.proof.clone())),
    );
    submit(url, &tx, &signer).await.map(|_| ())
}
