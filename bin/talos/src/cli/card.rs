//! `talos card show | verify`: the agent's signed A2A card, and checking anyone's.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};
use talos_card::{CardError, MAX_CARD};
use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::home::Home;
use talos_primitives::Did;

use crate::cli::audit::verdict;
use crate::cli::outcome::Outcome;

/// `talos card`.
#[derive(Debug, clap::Subcommand)]
pub enum CardCommand {
    /// Print this agent's signed card, built from the home's card.toml (unlocks the
    /// keystore; a running node serves the same card at /.well-known/agent-card.json).
    Show,
    /// Verify a card: its signature under the DID its TALOS interface names (the key
    /// comes from the DID, never from the card), and with --chain that the DID is not
    /// deactivated. Exit 0 valid, 1 invalid, 2 malformed, 3 unreachable.
    Verify(VerifyArgs),
}

/// `card verify`'s arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A card file, - for stdin, an http(s) URL (the card itself, or an agent's base URL
    /// whose /.well-known/agent-card.json is fetched), or a did:key (the card in its DHT
    /// record, through this home's running node).
    source: String,
    /// The agent the card must describe.
    #[arg(long)]
    did: Option<Did>,
    /// Also check the DID's on-chain record: `embedded`, `evm:URL` or `substrate:URL`.
    #[arg(long)]
    chain: Option<AnchorTarget>,
    /// The TalosAnchor contract address (with `evm:URL`).
    #[arg(long)]
    contract: Option<String>,
}

/// Runs `talos card`.
pub(crate) fn run(
    cmd: CardCommand,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    match cmd {
        CardCommand::Show => {
            let home = Home::resolve(home)?;
            let config = home
                .load_card()?
                .with_context(|| format!("no card: write {}", home.card().display()))?;
            let key = crate::cli::unlock(&home, pass_file)?;
            let card = talos_card::signed(&config, &key)?;
            println!("{}", serde_json::to_string_pretty(&card)?);
            Ok(Outcome::Done)
        }
        CardCommand::Verify(args) => verify(home, &args),
    }
}

fn verify(home: Option<PathBuf>, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let fetched = if args.source.starts_with("did:") {
        from_node(home.clone(), &args.source)
    } else {
        read(&args.source)
    };
    let bytes = match fetched {
        Ok(b) => b,
        Err(e) => return Ok(verdict(Err(format!("{e:#}")), Outcome::Unavailable)),
    };
    let v = match talos_card::verify(&bytes) {
        Ok(v) => v,
        Err(e @ (CardError::Malformed(_) | CardError::TooLarge(_))) => {
            return Ok(verdict(Err(e.to_string()), Outcome::Unusable));
        }
        Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Refused)),
    };
    // A card looked up by DID must be that DID's.
    let want = args.did.or_else(|| Did::parse(&args.source).ok());
    if let Some(want) = &want
        && *want != v.did
    {
        let e = format!("the card is {}'s, not {want}'s", v.did);
        return Ok(verdict(Err(e), Outcome::Refused));
    }
    let mut out = json!({
        "valid": true,
        "did": v.did.to_string(),
        "kid": v.kid,
        "name": v.card.get("name"),
        "skills": v.card.get("skills").and_then(Value::as_array).map(|s| {
            s.iter().filter_map(|k| k.get("id")).cloned().collect::<Vec<_>>()
        }),
    });
    if let Some(spec) = &args.chain {
        let home = Home::resolve(home)?;
        let record = crate::cli::runtime_multi()?.block_on(async {
            let backend = anchor_target::open(&home, spec, args.contract.as_deref(), None).await?;
            anyhow::Ok(backend.resolve_did(&v.did).await?)
        });
        match record {
            Err(e) => return Ok(verdict(Err(format!("{e:#}")), Outcome::Unavailable)),
            Ok(Some(r)) if r.deactivated => {
                let e = format!("{} is deactivated on the chain", v.did);
                return Ok(verdict(Err(e), Outcome::Refused));
            }
            Ok(r) => {
                if let Some(o) = out.as_object_mut() {
                    o.insert("registered".into(), json!(r.is_some()));
                    o.insert("deactivated".into(), json!(false));
                }
            }
        }
    }
    println!("{out}");
    Ok(Outcome::Done)
}

/// A peer's card from its directory record, through this home's running node (which
/// checked it; it is checked again here, like any card).
fn from_node(home: Option<PathBuf>, did: &str) -> anyhow::Result<Vec<u8>> {
    // Parsed, so the path segment is a DID and nothing else.
    let did = Did::parse(did).context("not a DID")?;
    let home = Home::resolve(home)?;
    let api = talos_node::client::ApiClient::open(&home)?;
    let (status, v) = crate::cli::runtime()?.block_on(api.call(
        reqwest::Method::GET,
        &format!("/v1/peers/{did}/card"),
        None,
    ))?;
    if status != 200 {
        let detail = v.get("detail").and_then(Value::as_str).unwrap_or_default();
        anyhow::bail!("the node answered {status}: {detail}");
    }
    Ok(serde_json::to_vec(&v)?)
}

/// The card's bytes from a file, stdin, or a URL (at most [`MAX_CARD`] + 1 bytes, so an
/// oversized card is refused as such).
fn read(source: &str) -> anyhow::Result<Vec<u8>> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return crate::cli::read_bounded(source, MAX_CARD);
    }
    let mut url = reqwest::Url::parse(source).context("the card's URL")?;
    if !url.path().ends_with(".json") {
        url = url
            .join("/.well-known/agent-card.json")
            .context("the card's URL")?;
    }
    crate::cli::runtime()?.block_on(async move {
        let mut resp = reqwest::Client::new()
            .get(url.clone())
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?
            .error_for_status()
            .with_context(|| format!("fetching {url}"))?;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_CARD {
                break;
            }
        }
        Ok(body)
    })
}
