//! C2SP signed notes (`c2sp.org/signed-note`) with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
//! `— <name> <base64(key id ‖ signature)>`. The key id is the first four bytes of
//! `SHA-256(name ‖ "\n" ‖ type ‖ public key)`, type `0x01` for Ed25519, and the signature is
//! over the text. Verifier keys are written `<name>+<hex key id>+<base64(type ‖ key)>`.
//!
//! Hand-written because no maintained Rust crate implements signed notes; the format is a
//! few lines of text and the parser below is bounded and total.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use talos_identity::{IdentityKey, Signature, keys};
use talos_primitives::Ed25519Public;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;
/// Most signature lines accepted.
pub const MAX_SIGNATURES: usize = 64;
/// Signature type byte of plain Ed25519 note signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of `cosignature/v1` witness cosignatures.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Over [`MAX_NOTE_BYTES`] or [`MAX_SIGNATURES`].
    #[error("note too large")]
    TooLarge,
    /// Not UTF-8, no blank line before signatures, a text not ending in newline, or a
    /// malformed signature line.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// A verifier key string is malformed.
    #[error("malformed verifier key")]
    BadKey,
    /// No signature by the given key, or it does not verify.
    #[error("no valid signature by {0}")]
    Unverified(String),
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: [u8; 4],
    /// Signature bytes after the key id (64 for Ed25519; 72 for cosignatures).
    pub bytes: Vec<u8>,
}

/// A parsed note: its text and signature lines, none checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in `\n`.
    pub text: String,
    /// The signatures.
    pub signatures: Vec<NoteSignature>,
}

/// The key id of a key of type `alg`.
pub fn key_id(name: &str, alg: u8, key: &Ed25519Public) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(key.as_bytes());
    let d: [u8; 32] = h.finalize().into();
    let [a, b, c, e, ..] = d;
    [a, b, c, e]
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && !name.contains('+')
        && !name.chars().any(char::is_whitespace)
}

/// A verifier key: a name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    /// Key name.
    pub name: String,
    /// The key.
    pub key: Ed25519Public,
}

impl NoteVerifier {
    /// Parses `<name>+<hex key id>+<base64(0x01 ‖ key)>`.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let mut parts = s.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey);
        };
        let raw = STANDARD.decode(b64).map_err(|_| NoteError::BadKey)?;
        let (Some(&ALG_ED25519), Some(k)) = (raw.first(), raw.get(1..)) else {
            return Err(NoteError::BadKey);
        };
        let key = Ed25519Public::from_slice(k).map_err(|_| NoteError::BadKey)?;
        if !name_ok(name)
            || id_hex.len() != 8
            || hex::encode(key_id(name, ALG_ED25519, &key)) != id_hex.to_ascii_lowercase()
        {
            return Err(NoteError::BadKey);
        }
        Ok(Self {
            name: name.to_string(),
            key,
        })
    }

    /// The key's id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, ALG_ED25519, &self.key)
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            STANDARD.encode(raw)
        )
    }
}

impl Note {
    /// Parses a signed note.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        if s.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        if s.contains('\r') {
            return Err(NoteError::Malformed("carriage return"));
        }
        let split = s
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let (text, sigs) = (
            s.get(..=split).unwrap_or_default(),
            s.get(split + 2..).unwrap_or_default(),
        );
        if text.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("note must end with a newline"));
        }
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            if signatures.len() >= MAX_SIGNATURES {
                return Err(NoteError::TooLarge);
            }
            let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
                "signature line must start with an em dash",
            ))?;
            let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
                "signature line needs a name and a signature",
            ))?;
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if !name_ok(name) || raw.len() < 5 {
                return Err(NoteError::Malformed("bad signature line"));
            }
            let (id, bytes) = raw.split_at(4);
            let key_id: [u8; 4] = id
                .try_into()
                .map_err(|_| NoteError::Malformed("bad signature line"))?;
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id,
                bytes: bytes.to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signatures"));
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// Checks for a valid Ed25519 signature by `verifier`.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), NoteError> {
        let id = verifier.key_id();
        let ok = self.signatures.iter().any(|s| {
            s.name == verifier.name
                && s.key_id == id
                && Signature::from_slice(&s.bytes).is_ok_and(|sig| {
                    keys::verify(&verifier.key, self.text.as_bytes(), &sig).is_ok()
                })
        });
        if ok {
            Ok(())
        } else {
            Err(NoteError::Unverified(verifier.name.clone()))
        }
    }

    /// Serializes text and signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            let mut raw = s.key_id.to_vec();
            raw.extend_from_slice(&s.bytes);
            out.push_str(SIG_PREFIX);
            out.push_str(&s.name);
            out.push(' ');
            out.push_str(&STANDARD.encode(raw));
            out.push('\n');
        }
        out
    }
}

/// Signs `text` (which must end in a newline) as a note by `name`.
pub fn sign(text: &str, name: &str, key: &IdentityKey) -> Result<Note, NoteError> {
    if !text.ends_with('\n') || text.contains("\n\n") || !name_ok(name) {
        return Err(NoteError::Malformed(
            "note text must be non-empty lines ending in newline",
        ));
    }
    let sig = key.sign(text.as_bytes());
    Ok(Note {
        text: text.to_string(),
        signatures: vec![NoteSignature {
            name: name.to_string(),
            key_id: key_id(name, ALG_ED25519, &key.public()),
            bytes: sig.0.to_vec(),
        }],
    })
}
