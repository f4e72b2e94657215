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

/// Writes `bytes` to `path` readable by the owner only, atomically (a temporary file in
/// the same directory, then a rename), so a crash never leaves half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

impl Home {
    /// The local API's Unix socket (the default API address).
    pub fn api_socket(&self) -> PathBuf {
        self.dir.join("api.sock")
    }

    /// The configuration file.
    pub fn config(&self) -> PathBuf {
        self.dir.join(crate::config::CONFIG_FILE)
    }

    /// The API token file.
    pub fn token(&self) -> PathBuf {
        self.dir.join(crate::config::TOKEN_FILE)
    }

    /// The RocksDB directory.
    pub fn db(&self) -> PathBuf {
        self.dir.join(crate::config::DB_DIR)
    }

    /// The audit log's RocksDB directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.dir.join("store")
    }

    /// The embedded chain's RocksDB directory.
    pub fn chain_dir(&self) -> PathBuf {
        self.dir.join("chain")
    }

    /// Pending EVM transactions, kept beside the node's other state so a restart
    /// resubmits them.
    pub fn anchor_pending_dir(&self) -> PathBuf {
        self.dir.join("anchor-pending")
    }

    /// The file where a running node writes its API address, for `talos agent`.
    pub fn api_addr_file(&self) -> PathBuf {
        self.dir.join("api-addr")
    }

    /// Writes a fresh API token (32 random bytes, hex) and returns it.
    pub fn create_token(&self) -> anyhow::Result<String> {
        use rand::Rng;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        write_private(&self.token(), token.as_bytes())?;
        Ok(token)
    }

    /// Reads the API token.
    pub fn load_token(&self) -> anyhow::Result<String> {
        let path = self.token();
        let t = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (run `talos init`)", path.display()))?;
        let t = t.trim().to_string();
        if t.len() < 32 {
            bail!("{} holds no usable token", path.display());
        }
        Ok(t)
    }
}

/// The key that seals sessions, prekeys and the inbox at rest, derived from the identity
/// seed (HKDF-SHA256, info `talos/storage-key/v1`): the keystore stays the node's only
/// secret, so backing it up is enough.
pub fn storage_key(identity: &IdentityKey) -> anyhow::Result<talos_ratchet::at_rest::StorageKey> {
    let seed = identity.seed();
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"talos"), seed.dangerous_as_bytes());
    let mut okm = zeroize::Zeroizing::new([0u8; 32]);
    hk.expand(b"talos/storage-key/v1", okm.as_mut())
        .map_err(|_| anyhow::anyhow!("HKDF output length"))?;
    Ok(talos_ratchet::at_rest::StorageKey::from_bytes(*okm))
}
