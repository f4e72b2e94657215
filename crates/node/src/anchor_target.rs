//! Where the audit log's head is anchored (`--chain`, `chain` in `config.toml`):
//! `embedded` (the default) is the TalosAnchor contract on revm in `<home>/chain`;
//! `evm:URL` is a real EVM chain; `substrate:URL` is a talos consortium chain
//! (`talos-chain`) at a WebSocket RPC URL. Named `AnchorTarget` because `talos-chain`
//! has its own `AnchorTarget` (a genesis).

use std::sync::Arc;

use anyhow::{Context, bail};
use talos_anchor::Anchor;
use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain};
use talos_anchor::evm::{EvmAnchor, EvmConfig};
use talos_identity::IdentityKey;
use talos_store::Store;

use crate::home::Home;

/// A parsed `--chain` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorTarget {
    /// The embedded EVM in the node's home.
    Embedded,
    /// An EVM chain at this JSON-RPC URL.
    Evm(String),
    /// A talos-chain node at this WebSocket RPC URL (`ws://host:9944`).
    Substrate(String),
}

impl std::str::FromStr for AnchorTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            _ if s == "embedded" => Ok(AnchorTarget::Embedded),
            Some(("evm", url)) if !url.is_empty() => Ok(AnchorTarget::Evm(url.to_string())),
            Some(("substrate", url)) if !url.is_empty() => {
                Ok(AnchorTarget::Substrate(url.to_string()))
            }
            _ => Err(format!(
                "unknown chain {s:?}: use `embedded`, `evm:URL` or `substrate:URL`"
            )),
        }
    }
}

/// Opens the backend. `writer` is the identity that writes (its EVM account is derived
/// from its seed); readers pass `None`.
pub async fn open(
    home: &Home,
    target: &AnchorTarget,
    contract: Option<&str>,
    writer: Option<&IdentityKey>,
) -> anyhow::Result<Box<dyn Anchor>> {
    if let AnchorTarget::Substrate(url) = target {
        // The identity key is the chain account; a reader signs nothing, so any key does.
        let seed = match writer {
            Some(k) => k.seed(),
            None => IdentityKey::generate()?.seed(),
        };
        return Ok(Box::new(
            talos_anchor::substrate::SubstrateAnchor::connect(url, seed.dangerous_as_bytes())
                .await?,
        ));
    }
    let signer = match writer {
        Some(k) => talos_anchor::evm_signer_from_seed(k.seed().dangerous_as_bytes())?,
        None => alloy_signer(),
    };
    match target {
        AnchorTarget::Embedded => {
            let dir = home.chain_dir();
            if writer.is_none() && !dir.exists() {
                bail!(
                    "no embedded chain at {}: nothing was anchored there yet",
                    dir.display()
                );
            }
            let store =
                Arc::new(Store::open(&dir).with_context(|| format!("opening {}", dir.display()))?);
            let chain = EmbeddedChain::open(store, Clock::System, signer.address())?;
            Ok(Box::new(EmbeddedAnchor::embedded(chain, signer.address())))
        }
        AnchorTarget::Evm(url) => {
            let contract = contract
                .context("--contract ADDRESS is required with --chain evm:URL")?
                .parse()
                .context("--contract is not a 0x-hex address")?;
            let dir = home.anchor_pending_dir();
            let store =
                Arc::new(Store::open(&dir).with_context(|| format!("opening {}", dir.display()))?);
            Ok(Box::new(
                EvmAnchor::connect(EvmConfig::new(url.clone(), contract), signer, store).await?,
            ))
        }
        AnchorTarget::Substrate(_) => bail!("handled above"),
    }
}

/// A throwaway account for read-only use.
fn alloy_signer() -> talos_anchor::evm::PrivateKeySigner {
    talos_anchor::evm::PrivateKeySigner::random()
}
