//! The node's home directory and how the passphrase is obtained.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use talos_identity::IdentityKey;
use talos_identity::keystore::{self, KdfParams, Passphrase};

/// Name of the keystore file inside the home directory.
pub const KEYSTORE_FILE: &str = "identity.key";

/// Where a node keeps its state.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The given directory, or `$TALOS_HOME`, or `~/.talos`.
    pub fn resolve(explicit: Option<PathBuf>) -> anyhow::Result<Self> {
        let dir = match explicit {
            Some(d) => d,
            None => dirs::home_dir()
                .context("no home directory; pass --home")?
                .join(".talos"),
        };
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The keystore path.
    pub fn keystore(&self) -> PathBuf {
        self.dir.join(KEYSTORE_FILE)
    }

    /// Creates a new identity, refusing to overwrite one unless `force`.
    pub fn create_identity(
        &self,
        pass: &Passphrase,
        params: KdfParams,
        force: bool,
    ) -> anyhow::Result<IdentityKey> {
        let path = self.keystore();
        if path.exists() && !force {
            bail!(
                "{} already exists; pass --force to replace it",
                path.display()
            );
        }
        let key = IdentityKey::generate()?;
        keystore::save(&path, &key, pass, params)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(key)
    }

    /// Opens the identity.
    pub fn load_identity(&self, pass: &Passphrase) -> anyhow::Result<IdentityKey> {
        let path = self.keystore();
        if !path.exists() {
            bail!(
                "no identity at {}; run `talos id new` first",
                path.display()
            );
        }
        keystore::load(&path, pass).with_context(|| format!("opening {}", path.display()))
    }
}

/// Gets the passphrase: from a file, from `$TALOS_PASSPHRASE`, or from the terminal.
pub fn passphrase(
    file: Option<&Path>,
    env: Option<String>,
    confirm: bool,
) -> anyhow::Result<Passphrase> {
    if let Some(f) = file {
        let s = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        return Ok(Passphrase::new(
            s.trim_end_matches(['\n', '\r']).to_string(),
        ));
    }
    if let Some(s) = env {
        return Ok(Passphrase::new(s));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set TALOS_PASSPHRASE or pass --passphrase-file");
    }
    let first = rpassword::prompt_password("keystore passphrase: ")?;
    if confirm && rpassword::prompt_password("again: ")? != first {
        bail!("passphrases differ");
    }
    Ok(Passphrase::new(first))
}
