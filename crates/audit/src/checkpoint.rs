//! C2SP `tlog-checkpoint`: the signed statement of a log's size and root.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [extension lines]
//! ```
//!
//! signed as a note (see [`crate::note`]) with the agent's key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use talos_identity::IdentityKey;
use talos_primitives::{Did, Hash32, TreeHead};

use crate::note::{self, Note, NoteError, NoteVerifier};

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The note itself is malformed or unverified.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body is not origin / size / root.
    #[error("malformed checkpoint body: {0}")]
    Body(&'static str),
}

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (for talos, `talos/<did>`), unique per log.
    pub origin: String,
    /// Tree size and root.
    pub head: TreeHead,
    /// Optional extension lines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.head.size,
            STANDARD.encode(self.head.root.as_bytes())
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a note text as a checkpoint body.
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Body("no final newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Body("empty origin"))?;
        let size_s = lines.next().ok_or(CheckpointError::Body("missing size"))?;
        let canonical_decimal = !size_s.is_empty()
            && size_s.bytes().all(|b| b.is_ascii_digit())
            && (size_s == "0" || !size_s.starts_with('0'));
        if !canonical_decimal {
            return Err(CheckpointError::Body("size is not a canonical decimal"));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| CheckpointError::Body("size out of range"))?;
        let root_b64 = lines.next().ok_or(CheckpointError::Body("missing root"))?;
        let root = STANDARD
            .decode(root_b64)
            .map_err(|_| CheckpointError::Body("root is not base64"))?;
        let root =
            Hash32::from_slice(&root).map_err(|_| CheckpointError::Body("root is not 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Body("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_string(),
            head: TreeHead { size, root },
            extensions,
        })
    }

    /// Signs the checkpoint as a note.
    pub fn sign(&self, name: &str, key: &IdentityKey) -> Result<Note, CheckpointError> {
        Ok(note::sign(&self.to_text(), name, key)?)
    }

    /// Parses a signed note, checks the signature by `verifier`, and returns the body.
    pub fn verify(
        note_text: &str,
        verifier: &NoteVerifier,
    ) -> Result<(Self, Note), CheckpointError> {
        let note = Note::parse(note_text)?;
        note.verify(verifier)?;
        Ok((Self::parse_text(&note.text)?, note))
    }
}

/// The origin of a talos agent's log: `talos/<did>`.
pub fn talos_origin(did: &Did) -> String {
    format!("talos/{did}")
}

/// A talos log's note verifier key: the agent's did:key key, named by the DID (`None`
/// for a DID that does not carry its key).
pub fn talos_verifier(did: &Did) -> Option<NoteVerifier> {
    Some(NoteVerifier {
        name: did.to_string(),
        key: *did.as_key()?,
    })
}

/// The agent a talos log's origin names, and the log's verifier key: a talos log is
/// signed by its agent under its DID, so the origin alone says whose signature counts.
pub fn talos_log(origin: &str) -> Option<(Did, NoteVerifier)> {
    let did: Did = origin.strip_prefix("talos/")?.parse().ok()?;
    let verifier = talos_verifier(&did)?;
    Some((did, verifier))
}

/// `head` signed as agent `key`'s checkpoint: origin `talos/<did>`, note name the DID.
pub fn sign_talos(key: &IdentityKey, head: TreeHead) -> Result<Note, CheckpointError> {
    let did = key.did();
    Checkpoint {
        origin: talos_origin(&did),
        head,
        extensions: vec![],
    }
    .sign(&did.to_string(), key)
}
