//! The node's home directory and how the passphrase is obtained.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use talos_identity::IdentityKey;
use talos_identity::keystore::{self, KdfParams, KeystoreError, Passphrase};

/// What can go wrong with the home directory, its identity, passphrase and token.
/// Messages name paths, never secrets.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// No `--home`, no `$TALOS_HOME` and no user home directory.
    #[error("no home directory; pass --home")]
    NoHomeDir,
    /// An identity exists and `force` was not given.
    #[error("{} already exists; pass --force to replace it", .0.display())]
    IdentityExists(PathBuf),
    /// No identity has been created here.
    #[error("no identity at {}; run `talos id new` first", .0.display())]
    NoIdentity(PathBuf),
    /// The keystore would not open or could not be written.
    #[error("keystore {}", path.display())]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeystoreError,
    },
    /// A file could not be read or written.
    #[error("{what} {}", path.display())]
    Io {
        /// What was done (`reading`, `writing`, `creating`).
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No passphrase source, or the two typed ones differ.
    #[error("{0}")]
    Passphrase(&'static str),
    /// The token file holds no usable token.
    #[error("{} holds no usable token", .0.display())]
    BadToken(PathBuf),
    /// A key could not be generated.
    #[error("identity: {0}")]
    Key(#[from] talos_identity::KeyError),
    /// The storage key could not be derived (HKDF refused the length).
    #[error("storage key derivation failed")]
    KeyDerivation,
}

impl HomeError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> HomeError {
        let path = path.to_path_buf();
        move |source| HomeError::Io { what, path, source }
    }
}

/// Name of the keystore file inside the home directory.
pub const KEYSTORE_FILE: &str = "identity.key";

/// Where a node keeps its state.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The given directory, or `$TALOS_HOME`, or `~/.talos`.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self, HomeError> {
        let dir = match explicit {
            Some(d) => d,
            None => dirs::home_dir().ok_or(HomeError::NoHomeDir)?.join(".talos"),
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
    ) -> Result<IdentityKey, HomeError> {
        let path = self.keystore();
        if path.exists() && !force {
            return Err(HomeError::IdentityExists(path));
        }
        let key = IdentityKey::generate()?;
        keystore::save(&path, &key, pass, params).map_err(|source| HomeError::Keystore {
            path: path.clone(),
            source,
        })?;
        Ok(key)
    }

    /// Opens the identity.
    pub fn load_identity(&self, pass: &Passphrase) -> Result<IdentityKey, HomeError> {
        let path = self.keystore();
        if !path.exists() {
            return Err(HomeError::NoIdentity(path));
        }
        keystore::load(&path, pass).map_err(|source| HomeError::Keystore { path, source })
    }
}

/// Gets the passphrase: from a file, from `$TALOS_PASSPHRASE`, or from the terminal.
pub fn passphrase(
    file: Option<&Path>,
    env: Option<String>,
    confirm: bool,
) -> Result<Passphrase, HomeError> {
    if let Some(f) = file {
        let s = std::fs::read_to_string(f).map_err(HomeError::io("reading", f))?;
        return Ok(Passphrase::new(
            s.trim_end_matches(['\n', '\r']).to_string(),
        ));
    }
    if let Some(s) = env {
        return Ok(Passphrase::new(s));
    }
    if !std::io::stdin().is_terminal() {
        return Err(HomeError::Passphrase(
            "no passphrase: set TALOS_PASSPHRASE or pass --passphrase-file",
        ));
    }
    let tty = Path::new("/dev/tty");
    let first = rpassword::prompt_password("keystore passphrase: ")
        .map_err(HomeError::io("reading", tty))?;
    if confirm
        && rpassword::prompt_password("again: ").map_err(HomeError::io("reading", tty))? != first
    {
        return Err(HomeError::Passphrase("passphrases differ"));
    }
    Ok(Passphrase::new(first))
}

/// Writes `bytes` to `path` readable by the owner only, atomically (a temporary file in
/// the same directory, then a rename), so a crash never leaves half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), HomeError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(HomeError::io("creating", dir))?;
    let written = (|| {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    })();
    written.map_err(HomeError::io("writing", path))?;
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

    /// The agent's A2A card description (optional).
    pub fn card(&self) -> PathBuf {
        self.dir.join("card.toml")
    }

    /// The agent's card description, if the home has one.
    pub fn load_card(&self) -> Result<Option<talos_card::CardConfig>, talos_card::CardError> {
        match std::fs::read_to_string(self.card()) {
            Ok(text) => talos_card::CardConfig::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(talos_card::CardError::Config(e.to_string())),
        }
    }

    /// The API token file.
    pub fn token(&self) -> PathBuf {
        self.dir.join(crate::config::TOKEN_FILE)
    }

    /// The RocksDB directory.
    pub fn db(&self) -> PathBuf {
        self.dir.join(crate::config::DB_DIR)
    }

    /// Where the audit log had its own RocksDB before store layout 3; [`Home::open_stores`]
    /// moves it into [`Home::db`] and renames this directory `store.moved`.
    pub fn legacy_audit_dir(&self) -> PathBuf {
        self.dir.join("store")
    }

    /// Opens the node's RocksDB and the audit log in it, first moving a log kept in its
    /// own store (a home from before layout 3) into it. A store from a newer talos is
    /// refused before anything is touched.
    pub fn open_stores(
        &self,
    ) -> Result<
        (
            std::sync::Arc<talos_store::Store>,
            std::sync::Arc<talos_store::AuditLog>,
        ),
        talos_store::StoreError,
    > {
        let store = std::sync::Arc::new(talos_store::Store::open_families(
            &self.db(),
            &talos_store::db::NODE_FAMILIES,
        )?);
        store.layout_version()?;
        talos_store::log::adopt(&self.legacy_audit_dir(), &store)?;
        let log = talos_store::AuditLog::open_in(store.clone(), talos_store::LogConfig::default())?;
        Ok((store, std::sync::Arc::new(log)))
    }

    /// A witness's state (`talos witness`), RocksDB.
    pub fn witness_dir(&self) -> PathBuf {
        self.dir.join("witness")
    }

    /// A monitor's state (`talos audit monitor`), RocksDB.
    pub fn monitor_dir(&self) -> PathBuf {
        self.dir.join("monitor")
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

    /// The tool-definition pins of the MCP proxy `name` (`talos mcp proxy`).
    pub fn mcp_pins(&self, name: &str) -> PathBuf {
        self.dir.join("mcp-pins").join(format!("{name}.json"))
    }

    /// The file where a running node writes its API address, for `talos agent`.
    pub fn api_addr_file(&self) -> PathBuf {
        self.dir.join("api-addr")
    }

    /// Writes a fresh API token (32 random bytes, hex) and returns it.
    pub fn create_token(&self) -> Result<String, HomeError> {
        use rand::Rng;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        write_private(&self.token(), token.as_bytes())?;
        Ok(token)
    }

    /// Reads the API token.
    pub fn load_token(&self) -> Result<String, HomeError> {
        let path = self.token();
        // `reading <path>`; the CLI adds "run `talos init`" where it applies.
        let t = std::fs::read_to_string(&path).map_err(HomeError::io("reading", &path))?;
        let t = t.trim().to_string();
        if t.len() < 32 {
            return Err(HomeError::BadToken(path));
        }
        Ok(t)
    }
}

/// The key that seals sessions, prekeys and the inbox at rest, derived from the identity
/// seed (HKDF-SHA256, info `talos/storage-key/v1`): the keystore stays the node's only
/// secret, so backing it up is enough.
pub fn storage_key(
    identity: &IdentityKey,
) -> Result<talos_ratchet::at_rest::StorageKey, HomeError> {
    let seed = identity.seed();
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"talos"), seed.dangerous_as_bytes());
    let mut okm = zeroize::Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail; the
    // error is still returned rather than unwrapped (the workspace denies panics).
    hk.expand(b"talos/storage-key/v1", okm.as_mut())
        .map_err(|_| HomeError::KeyDerivation)?;
    Ok(talos_ratchet::at_rest::StorageKey::from_bytes(*okm))
}
