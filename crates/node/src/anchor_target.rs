//! Where the audit log's head is anchored (`--chain`, `chain` in `config.toml`):
//! `embedded` (the default) is the TalosAnchor contract on revm in `<home>/chain`;
//! `evm:URL` is a real EVM chain; `substrate:URL` is a talos consortium chain
//! (`talos-chain`) at a WebSocket RPC URL. Named `AnchorTarget` because `talos-chain`
//! has its own `AnchorTarget` (a genesis).

use std::sync::Arc;

use std::path::PathBuf;

use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain};
use talos_anchor::evm::{EvmAnchor, EvmConfig};
use talos_anchor::{Anchor, AnchorError};
use talos_identity::IdentityKey;
use talos_store::Store;

use crate::home::Home;

/// Why the anchoring backend did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A reader asked for the embedded chain of a home that never anchored.
    #[error("no embedded chain at {}: nothing was anchored there yet", .0.display())]
    NoEmbeddedChain(PathBuf),
    /// `evm:URL` without a contract address.
    #[error("--contract ADDRESS is required with --chain evm:URL")]
    ContractRequired,
    /// The contract address is not 0x-hex.
    #[error("--contract {0:?} is not a 0x-hex address")]
    BadContract(String),
    /// The chain's local store did not open.
    #[error("opening {}", path.display())]
    Store {
        /// The store's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: talos_store::StoreError,
    },
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// A throwaway reader key could not be generated.
    #[error("identity: {0}")]
    Key(#[from] talos_identity::KeyError),
}

fn open_store(dir: PathBuf, families: &[&'static str]) -> Result<Arc<Store>, OpenError> {
    match Store::open_families(&dir, families) {
        Ok(s) => Ok(Arc::new(s)),
        Err(source) => Err(OpenError::Store { path: dir, source }),
    }
}

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
) -> Result<Box<dyn Anchor>, OpenError> {
    open_capped(home, target, contract, writer, None).await
}

/// The fee cap `gwei` names, in wei per unit of gas; 0 is no cap. One place for the
/// node's `evm_max_fee_gwei` and `talos audit anchor --evm-max-fee-gwei`.
pub fn gwei_cap(gwei: u64) -> Option<u128> {
    (gwei > 0).then(|| u128::from(gwei).saturating_mul(1_000_000_000))
}

/// [`open`], with a cap on what an `evm:URL` writer signs for a unit of gas
/// (`EvmConfig::max_fee_per_gas`, wei); other backends ignore it.
pub async fn open_capped(
    home: &Home,
    target: &AnchorTarget,
    contract: Option<&str>,
    writer: Option<&IdentityKey>,
    max_fee_per_gas: Option<u128>,
) -> Result<Box<dyn Anchor>, OpenError> {
    match target {
        AnchorTarget::Substrate(url) => {
            // The identity key is the chain account; a reader signs nothing, so any key
            // does.
            let seed = match writer {
                Some(k) => k.seed(),
                None => IdentityKey::generate()?.seed(),
            };
            Ok(Box::new(
                talos_anchor::substrate::SubstrateAnchor::connect(url, seed.dangerous_as_bytes())
                    .await?,
            ))
        }
        AnchorTarget::Embedded => {
            let dir = home.chain_dir();
            if writer.is_none() && !dir.exists() {
                return Err(OpenError::NoEmbeddedChain(dir));
            }
            let signer = evm_signer(writer)?;
            let chain = EmbeddedChain::open(
                open_store(dir, &talos_store::db::CHAIN_FAMILIES)?,
                Clock::System,
                signer.address(),
            )?;
            Ok(Box::new(EmbeddedAnchor::embedded(chain, signer.address())))
        }
        AnchorTarget::Evm(url) => {
            let contract = contract.ok_or(OpenError::ContractRequired)?;
            let contract = contract
                .parse()
                .map_err(|_| OpenError::BadContract(contract.to_string()))?;
            let store = open_store(
                home.anchor_pending_dir(),
                &talos_store::db::PENDING_FAMILIES,
            )?;
            let mut cfg = EvmConfig::new(url.clone(), contract);
            cfg.max_fee_per_gas = max_fee_per_gas;
            Ok(Box::new(
                EvmAnchor::connect(cfg, evm_signer(writer)?, store).await?,
            ))
        }
    }
}

/// The writer's EVM account (derived from its seed), or a throwaway one for a reader.
fn evm_signer(
    writer: Option<&IdentityKey>,
) -> Result<talos_anchor::evm::PrivateKeySigner, AnchorError> {
    match writer {
        Some(k) => talos_anchor::evm_signer_from_seed(k.seed().dangerous_as_bytes()),
        None => Ok(talos_anchor::evm::PrivateKeySigner::random()),
    }
}
