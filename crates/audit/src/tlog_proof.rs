//! C2SP `tlog-proof@v1`: an offline-verifiable proof that an entry is in a log, which an
//! auditor keeps as a file (`.tlog-proof`).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the entry>            (talos: always present, the signed event)
//! index <decimal>
//! <base64 hash>                          (the inclusion path, leaf's sibling first)
//! ...
//!
//! <the checkpoint note, verbatim, with its cosignatures>
//! ```
//!
//! The spec leaves `extra` to the application; talos puts the entry itself there (the
//! signed event), so the proof needs nothing else to be checked: the entry's hash, its
//! path and the signed checkpoint. `extra` is not trusted because it is there: it only
//! counts once its hash is proven in the signed tree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use talos_primitives::Hash32;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::leaf_hash;
use crate::note::{MAX_NOTE_BYTES, Note, NoteVerifier};
use crate::proof::{ProofError, verify_inclusion};
use crate::wire::{B64, InclusionProof};

/// The first line.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Longest path accepted (a tree of `u64` size has at most 64 levels).
pub const MAX_PATH: usize = 64;
/// Largest proof file accepted: the note, the path, and an entry of up to 64 KiB.
pub const MAX_PROOF_BYTES: usize = MAX_NOTE_BYTES + MAX_PATH * 46 + 90 * 1024;

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    /// The file is not a `tlog-proof@v1`.
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    /// The checkpoint is malformed or not signed by the log.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The path does not lead from the entry to the checkpoint's root.
    #[error("the entry is not proven in the checkpoint: {0}")]
    NotIncluded(ProofError),
    /// No entry to check (no `extra` line).
    #[error("the proof carries no entry to check")]
    NoEntry,
}

/// A parsed `tlog-proof@v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The opaque extra data (talos: the entry).
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: u64,
    /// The inclusion path.
    pub path: Vec<Hash32>,
    /// The checkpoint note, verbatim.
    pub checkpoint: Note,
}

impl TlogProof {
    /// The proof's text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(e) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(e)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            s.push_str(&STANDARD.encode(h.as_bytes()));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint.to_text());
        s
    }

    /// Parses a proof's text (nothing is verified yet; see [`TlogProof::verify`]).
    pub fn parse(text: &str) -> Result<Self, TlogProofError> {
        let bad = TlogProofError::Malformed;
        if text.len() > MAX_PROOF_BYTES {
            return Err(bad("larger than a proof can be"));
        }
        let (head, note) = text
            .split_once("\n\n")
            .ok_or(bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or(bad("no index line"))?;
        let extra = match line.strip_prefix("extra ") {
            Some(b64) => {
                let e = STANDARD
                    .decode(b64)
                    .map_err(|_| bad("extra is not base64"))?;
                line = lines.next().ok_or(bad("no index line"))?;
                Some(e)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .filter(|d| {
                !d.is_empty()
                    && d.bytes().all(|b| b.is_ascii_digit())
                    && (*d == "0" || !d.starts_with('0'))
            })
            .and_then(|d| d.parse().ok())
            .ok_or(bad("the index is not a canonical decimal"))?;
        let mut path = Vec::new();
        for l in lines {
            if path.len() == MAX_PATH {
                return Err(bad("the path is longer than any tree's"));
            }
            let h = STANDARD
                .decode(l)
                .ok()
                .and_then(|b| Hash32::from_slice(&b).ok())
                .ok_or(bad("a path line is not a base64 SHA-256 hash"))?;
            path.push(h);
        }
        let checkpoint = Note::parse(note).map_err(CheckpointError::Note)?;
        Ok(Self {
            extra,
            index,
            path,
            checkpoint,
        })
    }

    /// The same proof in the JSON wire form (`verify-inclusion`, the chain checks), for
    /// the entry in `extra` against the checkpoint's head (nothing is verified here).
    pub fn inclusion(&self) -> Result<InclusionProof, TlogProofError> {
        let cp = Checkpoint::parse_text(&self.checkpoint.text)?;
        let entry = self.extra.as_deref().ok_or(TlogProofError::NoEntry)?;
        Ok(InclusionProof {
            leaf_idx: self.index,
            tree_size: cp.head.size,
            root: B64(cp.head.root),
            leaf_hash: B64(leaf_hash(entry)),
            proof: self.path.iter().copied().map(B64).collect(),
        })
    }

    /// Checks the checkpoint's signature by `log` and that `entry` (or, when `None`, the
    /// `extra` data) is at `index` in the checkpointed tree; returns the checkpoint.
    pub fn verify(
        &self,
        log: &NoteVerifier,
        entry: Option<&[u8]>,
    ) -> Result<Checkpoint, TlogProofError> {
        self.checkpoint.verify(log).map_err(CheckpointError::Note)?;
        let cp = Checkpoint::parse_text(&self.checkpoint.text)?;
        let entry = entry
            .or(self.extra.as_deref())
            .ok_or(TlogProofError::NoEntry)?;
        verify_inclusion(
            self.index,
            cp.head.size,
            &leaf_hash(entry),
            &self.path,
            &cp.head.root,
        )
        .map_err(TlogProofError::NotIncluded)?;
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryTree;
    use crate::tree::inclusion_proof;
    use proptest::prelude::*;

    fn sample() -> (TlogProof, NoteVerifier, Vec<Vec<u8>>) {
        let key = talos_testkit::keys::identity(7);
        let entries: Vec<Vec<u8>> = (0..13u8).map(|i| vec![i; 40]).collect();
        let mut tree = MemoryTree::new();
        for e in &entries {
            tree.append(leaf_hash(e));
        }
        let cp = Checkpoint {
            origin: "talos/test".into(),
            head: talos_primitives::TreeHead {
                size: 13,
                root: tree.root(),
            },
            extensions: vec![],
        };
        let proof = TlogProof {
            extra: Some(entries[5].clone()),
            index: 5,
            path: inclusion_proof(&tree, 5, 13).unwrap(),
            checkpoint: cp.sign("test", &key).unwrap(),
        };
        let v = NoteVerifier {
            name: "test".into(),
            key: key.public(),
        };
        (proof, v, entries)
    }

    #[test]
    fn a_proof_round_trips_and_verifies() {
        let (p, v, entries) = sample();
        let text = p.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
        let back = TlogProof::parse(&text).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.verify(&v, None).unwrap().head.size, 13);
        assert!(back.verify(&v, Some(&entries[5])).is_ok());
        assert!(matches!(
            back.verify(&v, Some(&entries[6])),
            Err(TlogProofError::NotIncluded(_))
        ));
        let other = NoteVerifier {
            name: "test".into(),
            key: talos_testkit::keys::identity(8).public(),
        };
        assert!(matches!(
            back.verify(&other, None),
            Err(TlogProofError::Checkpoint(_))
        ));
        let mut no_extra = p.clone();
        no_extra.extra = None;
        let back = TlogProof::parse(&no_extra.to_text()).unwrap();
        assert_eq!(back.verify(&v, None), Err(TlogProofError::NoEntry));
    }

    #[test]
    fn malformed_proofs_are_typed() {
        let (p, _, _) = sample();
        let text = p.to_text();
        for bad in [
            text.replacen("tlog-proof@v1", "tlog-proof@v2", 1),
            text.replacen("index 5", "index 05", 1),
            text.replacen("index 5", "index -5", 1),
            text.replacen("extra ", "extra !", 1),
            text.replacen("\n\n", "\n", 1),
            format!("{}AAAA\n", text.split("\n\n").next().unwrap()) + "\n",
        ] {
            assert!(TlogProof::parse(&bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused(s in "c2sp.org/tlog-proof@v1\n(extra [A-Za-z0-9+/=]{0,8}\n)?index [0-9]{1,3}\n([A-Za-z0-9+/=]{0,44}\n){0,3}\n[ -~\n—]{0,80}") {
            if let Ok(p) = TlogProof::parse(&s) {
                prop_assert_eq!(TlogProof::parse(&p.to_text()), Ok(p));
            }
        }
    }
}
