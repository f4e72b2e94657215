//! Which chain the demo anchors on: the embedded EVM (default, nothing to set up), a
//! real EVM chain at a JSON-RPC URL, or a talos consortium chain (`talos-chain`). On an
//! EVM chain a funder key pays: it deploys the TalosAnchor contract unless one is given,
//! and funds each writing agent's account (derived from its identity seed, as a node's
//! is). On a talos chain the sudo key admits each writing agent's key as a member.

use anyhow::Context;
use talos_anchor::Anchor;
use talos_anchor::evm::PrivateKeySigner;
use talos_identity::IdentityKey;

use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::home::Home;

/// The demo's chain.
#[derive(Clone)]
pub struct DemoChain {
    spec: AnchorTarget,
    contract: Option<String>,
    funder: Option<PrivateKeySigner>,
    /// On a talos chain: the sudo key's secret URI (`//Alice` on a dev chain).
    sudo: Option<String>,
}

impl DemoChain {
    /// The embedded chain.
    pub fn embedded() -> Self {
        DemoChain {
            spec: AnchorTarget::Embedded,
            contract: None,
            funder: None,
            sudo: None,
        }
    }

    /// From `--chain`, `--contract`, `--funder-key` and `--sudo`; on an EVM chain,
    /// deploys the contract if none is given.
    pub async fn from_args(
        chain: Option<&str>,
        contract: Option<&str>,
        funder: Option<&str>,
        sudo: Option<&str>,
    ) -> anyhow::Result<Self> {
        let spec: AnchorTarget = match chain {
            Some(c) => c.parse().map_err(anyhow::Error::msg)?,
            None => AnchorTarget::Embedded,
        };
        if let AnchorTarget::Substrate(_) = &spec {
            let sudo = sudo.context(
                "--chain substrate:URL needs --sudo (the sudo key's secret URI, //Alice on a dev chain)",
            )?;
            return Ok(DemoChain {
                spec,
                contract: None,
                funder: None,
                sudo: Some(sudo.to_string()),
            });
        }
        let AnchorTarget::Evm(url) = &spec else {
            return Ok(Self::embedded());
        };
        let funder: PrivateKeySigner = funder
            .context("--chain evm:URL needs --funder-key (a funded account's private key, hex)")?
            .trim_start_matches("0x")
            .parse()
            .context("--funder-key is not a secp256k1 private key in hex")?;
        let contract = match contract {
            Some(c) => c.to_string(),
            None => {
                let addr = talos_anchor::evm::deploy(url, funder.clone()).await?;
                println!("    deployed TalosAnchor at {addr} on {url}");
                addr.to_string()
            }
        };
        Ok(DemoChain {
            spec,
            contract: Some(contract),
            funder: Some(funder),
            sudo: None,
        })
    }

    /// Where it is, for the narrative.
    pub fn describe(&self) -> String {
        match &self.spec {
            AnchorTarget::Embedded => {
                "the embedded chain (the TalosAnchor contract on revm, state in RocksDB)".into()
            }
            AnchorTarget::Evm(url) => format!(
                "the EVM chain at {url} (TalosAnchor at {})",
                self.contract.as_deref().unwrap_or("?")
            ),
            AnchorTarget::Substrate(url) => {
                format!("the talos consortium chain at {url} (pallets TalosDid and TalosAnchor)")
            }
        }
    }

    /// Funds `writer`'s account on an EVM chain, or makes it a member of a talos chain
    /// (no-op on the embedded one).
    pub async fn fund(&self, writer: &IdentityKey) -> anyhow::Result<()> {
        if let (AnchorTarget::Substrate(url), Some(sudo)) = (&self.spec, &self.sudo) {
            let account = *writer.public().as_bytes();
            talos_anchor::substrate::admin::add_member(url, sudo, account).await?;
            return Ok(());
        }
        let (AnchorTarget::Evm(url), Some(funder)) = (&self.spec, &self.funder) else {
            return Ok(());
        };
        let to = talos_anchor::evm_signer_from_seed(writer.seed().dangerous_as_bytes())?.address();
        let one_eth =
            talos_anchor::evm::U256::from(10u64).pow(talos_anchor::evm::U256::from(18u64));
        talos_anchor::evm::fund(url, funder.clone(), to, one_eth).await?;
        Ok(())
    }

    /// Opens the backend for `writer` in `home`.
    pub async fn open(
        &self,
        home: &Home,
        writer: &IdentityKey,
    ) -> Result<Box<dyn Anchor>, anchor_target::OpenError> {
        anchor_target::open(home, &self.spec, self.contract.as_deref(), Some(writer)).await
    }
}
