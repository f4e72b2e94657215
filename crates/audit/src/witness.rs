//! A witness: cosigns a log's checkpoints only when each is consistent with the last one
//! it cosigned, and keeps conflicting checkpoints as evidence of a split view.
//!
//! Cosignatures follow C2SP `tlog-cosignature` (`cosignature/v1`): the signature line's
//! bytes are `key id ‖ timestamp (u64, big-endian) ‖ Ed25519 signature`, over
//! `"cosignature/v1\ntime <timestamp>\n" ‖ checkpoint text`, with key-id type `0x04`.

use talos_identity::{IdentityKey, keys};

pub mod protocol;
use talos_primitives::{Ed25519Public, Hash32, TreeHead};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{ALG_COSIGNATURE_V1, Note, NoteSignature, NoteVerifier, key_id};
use crate::proof::{ProofError, verify_consistency};

/// Why a witness refused to cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The checkpoint is malformed or not signed by the log.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint names another log.
    #[error("checkpoint is for another origin")]
    WrongOrigin,
    /// The log went backwards.
    #[error("tree size went back from {old} to {new}")]
    Rollback {
        /// Size last cosigned.
        old: u64,
        /// Size offered.
        new: u64,
    },
    /// Same size, different root: the log showed two different histories. Both signed
    /// checkpoints are kept as evidence.
    #[error("split view: the checkpoint is inconsistent with the one last cosigned")]
    SplitView,
    /// The consistency proof is malformed.
    #[error("bad consistency proof: {0}")]
    Proof(ProofError),
}

/// Two signed checkpoints of one log that cannot both be honest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitViewEvidence {
    /// The checkpoint the witness had cosigned.
    pub cosigned: String,
    /// The conflicting one.
    pub offered: String,
}

/// A witness for one log.
#[derive(Debug)]
pub struct Witness {
    name: String,
    key: IdentityKey,
    log: NoteVerifier,
    origin: String,
    last: Option<(TreeHead, String)>,
    evidence: Vec<SplitViewEvidence>,
}

/// The message a cosignature signs.
pub fn cosigned_message(timestamp: u64, checkpoint_text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

impl Witness {
    /// A witness named `name` with `key`, for the log with `origin` signed by `log`.
    pub fn new(name: &str, key: IdentityKey, log: NoteVerifier, origin: &str) -> Self {
        Self {
            name: name.into(),
            key,
            log,
            origin: origin.into(),
            last: None,
            evidence: Vec::new(),
        }
    }

    /// Checks `note_text` against the last cosigned checkpoint with `proof` and, if it is
    /// consistent, returns it with this witness's cosignature added.
    pub fn cosign(
        &mut self,
        note_text: &str,
        proof: &[Hash32],
        timestamp: u64,
    ) -> Result<String, WitnessError> {
        let (cp, mut note) = Checkpoint::verify(note_text, &self.log)?;
        if cp.origin != self.origin {
            return Err(WitnessError::WrongOrigin);
        }
        if let Some((old, old_text)) = &self.last {
            if cp.head.size < old.size {
                return Err(WitnessError::Rollback {
                    old: old.size,
                    new: cp.head.size,
                });
            }
            if cp.head.size == old.size && cp.head.root != old.root {
                // Two signed roots for one size: proof that the log forked.
                self.evidence.push(SplitViewEvidence {
                    cosigned: old_text.clone(),
                    offered: note_text.to_string(),
                });
                return Err(WitnessError::SplitView);
            }
            // A failed proof for a larger size is refused, but proves nothing by itself
            // (whoever relayed it may have garbled it), so it is not kept as evidence.
            verify_consistency(old.size, cp.head.size, &old.root, &cp.head.root, proof)
                .map_err(WitnessError::Proof)?;
        }
        note.signatures
            .push(cosignature(&self.name, &self.key, &note.text, timestamp));
        let out = note.to_text();
        self.last = Some((cp.head, note_text.to_string()));
        Ok(out)
    }

    /// Evidence of split views seen so far.
    pub fn evidence(&self) -> &[SplitViewEvidence] {
        &self.evidence
    }
}

/// The `cosignature/v1` signature line of witness `name` with `key` on a checkpoint's
/// text at `timestamp` (Unix seconds).
pub fn cosignature(name: &str, key: &IdentityKey, text: &str, timestamp: u64) -> NoteSignature {
    let sig = key.sign(&cosigned_message(timestamp, text));
    let mut bytes = timestamp.to_be_bytes().to_vec();
    bytes.extend_from_slice(&sig.0);
    NoteSignature {
        name: name.to_string(),
        key_id: key_id(name, ALG_COSIGNATURE_V1, &key.public()),
        bytes,
    }
}

/// Why C2SP `tlog-witness` `add-checkpoint` refuses a checkpoint (each with its status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// `old` is past the checkpoint's size (400).
    #[error("the old size {old} is past the checkpoint's size {size}")]
    OldPastSize {
        /// The old size sent.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// `old` is not the size last cosigned (409, with that size).
    #[error("the old size is not the size last cosigned ({latest})")]
    NotLatest {
        /// The size last cosigned.
        latest: u64,
    },
    /// The checkpoint has the size last cosigned and another root: a split view (409).
    #[error("split view: another root for the size last cosigned")]
    SplitView,
    /// The consistency proof does not verify (422).
    #[error("the consistency proof does not verify: {0}")]
    Inconsistent(ProofError),
}

/// The `add-checkpoint` rules over the head last cosigned for the checkpoint's origin
/// (`None`: never): `old` must be that head's size, the checkpoint must not be smaller,
/// an equal size must have the same root, and a larger one must be proven consistent.
pub fn check_add(
    last: Option<&TreeHead>,
    old: u64,
    new: &TreeHead,
    proof: &[Hash32],
) -> Result<(), AddError> {
    if old > new.size {
        return Err(AddError::OldPastSize {
            old,
            size: new.size,
        });
    }
    let latest = last.map_or(0, |h| h.size);
    if old != latest {
        return Err(AddError::NotLatest { latest });
    }
    match last {
        None => {
            if !proof.is_empty() {
                return Err(AddError::Inconsistent(ProofError::WrongLength));
            }
            Ok(())
        }
        Some(l) if l.size == new.size => {
            if l.root == new.root {
                Ok(())
            } else {
                Err(AddError::SplitView)
            }
        }
        Some(l) => verify_consistency(l.size, new.size, &l.root, &new.root, proof)
            .map_err(AddError::Inconsistent),
    }
}

/// A witness's C2SP verifier key for `cosignature/v1`:
/// `<name>+<hex key id>+<base64(0x04 ‖ Ed25519 key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    /// The witness's name.
    pub name: String,
    /// Its key.
    pub key: Ed25519Public,
}

impl WitnessKey {
    /// Parses a cosignature verifier key.
    pub fn parse(s: &str) -> Result<Self, crate::note::NoteError> {
        use base64::Engine;
        let bad = crate::note::NoteError::BadKey;
        let mut parts = s.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad);
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| crate::note::NoteError::BadKey)?;
        let (Some(&ALG_COSIGNATURE_V1), Some(k)) = (raw.first(), raw.get(1..)) else {
            return Err(bad);
        };
        let key = Ed25519Public::from_slice(k).map_err(|_| crate::note::NoteError::BadKey)?;
        let named = NoteVerifier {
            name: name.to_string(),
            key,
        };
        // The name rules are the note's; reuse its parser on the same name and key.
        if NoteVerifier::parse(&named.to_string()).is_err()
            || id_hex.len() != 8
            || hex::encode(key_id(name, ALG_COSIGNATURE_V1, &key)) != id_hex.to_ascii_lowercase()
        {
            return Err(bad);
        }
        Ok(Self {
            name: name.to_string(),
            key,
        })
    }

    /// The witness key of `name` and `key`.
    pub fn of(name: &str, key: &IdentityKey) -> Self {
        Self {
            name: name.into(),
            key: key.public(),
        }
    }

    /// Its cosignature on `note`, if present and valid: the timestamp.
    pub fn cosigned(&self, note: &Note) -> Option<u64> {
        verify_cosignature(note, &self.name, &self.key)
    }
}

impl std::fmt::Display for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, ALG_COSIGNATURE_V1, &self.key)),
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// Checks a cosignature by witness `name` with `key` on a note; returns its timestamp.
pub fn verify_cosignature(note: &Note, name: &str, key: &Ed25519Public) -> Option<u64> {
    let id = key_id(name, ALG_COSIGNATURE_V1, key);
    note.signatures
        .iter()
        .filter(|s| s.name == name && s.key_id == id)
        .find_map(|s| {
            let (ts, sig) = s.bytes.split_at_checked(8)?;
            let ts = u64::from_be_bytes(ts.try_into().ok()?);
            let sig = talos_identity::Signature::from_slice(sig).ok()?;
            keys::verify(key, &cosigned_message(ts, &note.text), &sig)
                .ok()
                .map(|()| ts)
        })
}
