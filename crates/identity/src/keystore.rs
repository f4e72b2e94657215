//! The identity seed encrypted at rest.
//!
//! File layout (all integers little-endian), 97 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `TALOSKEY` |
//! | 8 | 1 | format version, `1` |
//! | 9 | 4 | argon2id memory cost, KiB |
//! | 13 | 4 | argon2id iterations |
//! | 17 | 4 | argon2id parallelism |
//! | 21 | 16 | salt |
//! | 37 | 12 | ChaCha20-Poly1305 nonce |
//! | 49 | 48 | ciphertext of the 32-byte seed + 16-byte tag |
//!
//! The 49-byte header is the AEAD's associated data, so editing the cost parameters is
//! detected like any other corruption. The key is argon2id(passphrase, salt), 32 bytes.
//! The format is ours because no crate offers a small, dependency-light keystore for a
//! bare Ed25519 seed; the primitives under it are RustCrypto's.

use std::fmt;
use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use zeroize::{Zeroize, Zeroizing};

use crate::keys::{IdentityKey, IdentitySeed};

const MAGIC: &[u8; 8] = b"TALOSKEY";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 49;
/// Exact size of a keystore file.
pub const FILE_LEN: usize = HEADER_LEN + 32 + 16;

/// Why a keystore could not be written or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The file could not be read or written.
    #[error("keystore I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file is shorter than a keystore.
    #[error("keystore is truncated: {got} of {FILE_LEN} bytes")]
    Truncated {
        /// Bytes present.
        got: usize,
    },
    /// The file is longer than a keystore.
    #[error("keystore has {got} bytes, more than the {FILE_LEN} expected")]
    TrailingBytes {
        /// Bytes present.
        got: usize,
    },
    /// The file does not start with the keystore magic.
    #[error("not a talos keystore (bad magic)")]
    BadMagic,
    /// The format version is not one we read.
    #[error("unsupported keystore version {0}")]
    UnsupportedVersion(u8),
    /// The argon2id parameters are out of the accepted range (a hostile file could
    /// otherwise ask for terabytes of memory).
    #[error("keystore KDF parameters out of range")]
    UnsafeParams,
    /// Authentication failed: the passphrase is wrong or the file was altered.
    #[error("wrong passphrase, or the keystore is corrupt")]
    WrongPassphraseOrCorrupt,
    /// The key-derivation function failed.
    #[error("key derivation failed")]
    Kdf,
    /// The decrypted seed does not give a usable key.
    #[error("keystore holds an unusable key")]
    BadKey,
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    pub const DEFAULT: Self = Self {
        m_cost: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    /// The cheapest accepted setting. Only for tests: it protects nothing.
    pub const DANGEROUS_TEST_ONLY: Self = Self {
        m_cost: 8,
        t_cost: 1,
        p_cost: 1,
    };
    const MAX_M_COST: u32 = 1024 * 1024;
    const MAX_T_COST: u32 = 64;
    const MAX_P_COST: u32 = 16;

    fn check(self) -> Result<argon2::Params, KeystoreError> {
        if self.m_cost > Self::MAX_M_COST
            || self.t_cost > Self::MAX_T_COST
            || self.p_cost > Self::MAX_P_COST
        {
            return Err(KeystoreError::UnsafeParams);
        }
        argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))
            .map_err(|_| KeystoreError::UnsafeParams)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A passphrase, zeroized on drop and never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

fn derive_key(
    pass: &Passphrase,
    salt: &[u8; 16],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.check()?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pass.0.as_bytes(), salt, out.as_mut())
        .map_err(|_| KeystoreError::Kdf)?;
    Ok(out)
}

/// Encrypts an identity into keystore bytes.
pub fn seal(
    key: &IdentityKey,
    pass: &Passphrase,
    params: KdfParams,
) -> Result<Vec<u8>, KeystoreError> {
    use rand::Rng;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut nonce);

    let mut out = Vec::with_capacity(FILE_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&params.m_cost.to_le_bytes());
    out.extend_from_slice(&params.t_cost.to_le_bytes());
    out.extend_from_slice(&params.p_cost.to_le_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);

    let k = derive_key(pass, &salt, params)?;
    let cipher = ChaCha20Poly1305::new(&Key::from(*k));
    let seed = key.seed();
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: seed.dangerous_as_bytes(),
                aad: &out,
            },
        )
        .map_err(|_| KeystoreError::Kdf)?;
    out.extend_from_slice(&ct);
    Ok(out)
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = bytes.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

/// A keystore file, parsed but not yet decrypted.
#[derive(Debug, Clone, Copy)]
pub struct SealedKeystore<'a> {
    params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 12],
    header: &'a [u8],
    ciphertext: &'a [u8],
}

impl<'a> SealedKeystore<'a> {
    /// Parses the layout and checks the KDF parameters, doing no key derivation.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, KeystoreError> {
        let truncated = KeystoreError::Truncated { got: bytes.len() };
        let Some(magic) = bytes.get(..8) else {
            return Err(truncated);
        };
        if magic != MAGIC {
            return Err(KeystoreError::BadMagic);
        }
        match bytes.get(8) {
            Some(&VERSION) => {}
            Some(&v) => return Err(KeystoreError::UnsupportedVersion(v)),
            None => return Err(truncated),
        }
        if bytes.len() < FILE_LEN {
            return Err(truncated);
        }
        if bytes.len() > FILE_LEN {
            return Err(KeystoreError::TrailingBytes { got: bytes.len() });
        }
        let (header, ciphertext) = bytes.split_at(HEADER_LEN);
        let params = KdfParams {
            m_cost: le_u32(header, 9),
            t_cost: le_u32(header, 13),
            p_cost: le_u32(header, 17),
        };
        params.check()?;
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        salt.copy_from_slice(
            header
                .get(21..37)
                .ok_or(KeystoreError::Truncated { got: bytes.len() })?,
        );
        nonce.copy_from_slice(
            header
                .get(37..49)
                .ok_or(KeystoreError::Truncated { got: bytes.len() })?,
        );
        Ok(Self {
            params,
            salt,
            nonce,
            header,
            ciphertext,
        })
    }

    /// The KDF cost this file asks for.
    pub const fn params(&self) -> KdfParams {
        self.params
    }

    /// Derives the key from the passphrase and decrypts.
    pub fn open(&self, pass: &Passphrase) -> Result<IdentityKey, KeystoreError> {
        let k = derive_key(pass, &self.salt, self.params)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(*k));
        let mut seed = cipher
            .decrypt(
                &Nonce::from(self.nonce),
                Payload {
                    msg: self.ciphertext,
                    aad: self.header,
                },
            )
            .map_err(|_| KeystoreError::WrongPassphraseOrCorrupt)?;
        let mut arr = [0u8; 32];
        let ok = seed.len() == 32;
        if ok {
            arr.copy_from_slice(&seed);
        }
        seed.zeroize();
        if !ok {
            return Err(KeystoreError::WrongPassphraseOrCorrupt);
        }
        let identity = IdentitySeed::from_bytes(arr);
        arr.zeroize();
        IdentityKey::from_seed(&identity).map_err(|_| KeystoreError::BadKey)
    }
}

/// Parses and decrypts keystore bytes.
pub fn open(bytes: &[u8], pass: &Passphrase) -> Result<IdentityKey, KeystoreError> {
    SealedKeystore::parse(bytes)?.open(pass)
}

/// Writes a keystore file atomically (temp file, fsync, rename) with mode 0600.
pub fn save(
    path: &Path,
    key: &IdentityKey,
    pass: &Passphrase,
    params: KdfParams,
) -> Result<(), KeystoreError> {
    let bytes = seal(key, pass, params)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Reads and decrypts a keystore file.
pub fn load(path: &Path, pass: &Passphrase) -> Result<IdentityKey, KeystoreError> {
    let meta = std::fs::metadata(path)?;
    // Refuse to read a huge file into memory just to report it is not a keystore.
    if meta.len() > (FILE_LEN as u64) * 4 {
        return Err(KeystoreError::TrailingBytes {
            got: usize::try_from(meta.len()).unwrap_or(usize::MAX),
        });
    }
    open(&std::fs::read(path)?, pass)
}
