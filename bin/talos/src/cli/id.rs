//! `talos id ...`

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde_json::json;
use talos_identity::did_key::{self, KeyFormat};
use talos_identity::keystore::KdfParams;
use talos_identity::{IdentityKey, IdentitySeed, peer_id};

use crate::cli::outcome::Outcome;
use talos_node::home::{Home, passphrase};

/// Identity commands.
#[derive(Debug, Subcommand)]
pub enum IdCommand {
    /// Create a new identity in an encrypted keystore.
    New {
        /// Replace an existing identity.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the identity: DID, PeerId, keys.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the identity's DID document.
    DidDoc {
        /// How keys are written.
        #[arg(long, value_enum, default_value_t = DocFormat::Multikey)]
        format: DocFormat,
        /// Print compact JSON (the document is always JSON).
        #[arg(long)]
        json: bool,
    },
    /// Print the did:key of an Ed25519 seed.
    DidKey {
        /// The 32-byte seed, hex.
        #[arg(long)]
        seed: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Key representation in a printed DID document.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DocFormat {
    /// Multikey / publicKeyMultibase.
    Multikey,
    /// Ed25519VerificationKey2018 / publicKeyBase58.
    Legacy2018,
    /// JsonWebKey2020 / publicKeyJwk.
    Jwk,
}

impl From<DocFormat> for KeyFormat {
    fn from(f: DocFormat) -> Self {
        match f {
            DocFormat::Multikey => KeyFormat::Multikey,
            DocFormat::Legacy2018 => KeyFormat::Legacy2018,
            DocFormat::Jwk => KeyFormat::JsonWebKey2020,
        }
    }
}

fn env_pass() -> Option<String> {
    std::env::var("TALOS_PASSPHRASE").ok()
}

/// A summary of an identity, as printed by `show` and `new`.
pub(crate) fn describe(
    key: &IdentityKey,
    keystore: Option<&Path>,
) -> anyhow::Result<serde_json::Value> {
    let pid = peer_id::peer_id_of(&key.public())?;
    // The EVM account the node anchors from (derived from the seed): what an operator
    // funds on an EVM chain.
    let evm = talos_anchor::evm_signer_from_seed(key.seed().dangerous_as_bytes())?.address();
    Ok(json!({
        "did": key.did().to_string(),
        "peerId": pid.to_base58(),
        "publicKeyMultibase": key.public().to_multikey(),
        "keyAgreement": did_key::x25519_multikey(&key.key_agreement().public()),
        "evmAccount": evm.to_string(),
        "keystore": keystore.map(|p| p.display().to_string()),
    }))
}

fn print_summary(v: &serde_json::Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(v)?);
    } else {
        for (k, val) in v.as_object().into_iter().flatten() {
            if let Some(s) = val.as_str() {
                println!("{k:<19} {s}");
            }
        }
    }
    Ok(())
}

pub(crate) fn run(
    cmd: IdCommand,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    match cmd {
        IdCommand::New { force, json } => {
            let home = Home::resolve(home)?;
            let pass = passphrase(pass_file, env_pass(), true)?;
            let key = home.create_identity(&pass, KdfParams::DEFAULT, force)?;
            print_summary(&describe(&key, Some(&home.keystore()))?, json)?;
        }
        IdCommand::Show { json } => {
            let home = Home::resolve(home)?;
            let key = home.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
            print_summary(&describe(&key, Some(&home.keystore()))?, json)?;
        }
        IdCommand::DidDoc { format, json } => {
            let home = Home::resolve(home)?;
            let key = home.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
            let doc = did_key::document(&key.public(), format.into())?;
            if json {
                println!("{}", serde_json::to_string(&doc)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
        }
        IdCommand::DidKey { seed, json } => {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(seed.trim(), &mut bytes)
                .context("--seed must be exactly 64 hex digits (32 bytes)")?;
            let key = IdentityKey::from_seed(&IdentitySeed::from_bytes(bytes))?;
            if json {
                print_summary(&describe(&key, None)?, true)?;
            } else {
                println!("{}", key.did());
            }
        }
    }
    Ok(Outcome::Done)
}
