//! The `add-checkpoint` request body:
//!
//! ```text
//! old <size>
//! <base64 consistency proof hash>      (0 to 63 lines)
//!
//! <checkpoint note>
//! ```

use crate::note::{MAX_NOTE_BYTES, Note};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use talos_primitives::Hash32;

/// Most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body.
pub const MAX_BODY: usize = MAX_NOTE_BYTES + MAX_PROOF_LINES * 46 + 32;
/// The content type of a 409 answer that names the size last cosigned.
pub const SIZE_TYPE: &str = "text/x.tlog.size";

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed add-checkpoint request: {0}")]
pub struct BodyError(pub &'static str);

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size the client believes the witness last cosigned.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash32>,
    /// The checkpoint.
    pub checkpoint: Note,
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_text(&self) -> String {
        let mut s = format!("old {}\n", self.old);
        for h in &self.proof {
            s.push_str(&STANDARD.encode(h.as_bytes()));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint.to_text());
        s
    }

    /// Parses a request body.
    pub fn parse(body: &str) -> Result<Self, BodyError> {
        if body.len() > MAX_BODY {
            return Err(BodyError("too large"));
        }
        let (head, note) = body
            .split_once("\n\n")
            .ok_or(BodyError("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .filter(|d| {
                !d.is_empty()
                    && d.bytes().all(|b| b.is_ascii_digit())
                    && (*d == "0" || !d.starts_with('0'))
            })
            .and_then(|d| d.parse().ok())
            .ok_or(BodyError("the old size line is not `old <decimal>`"))?;
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(BodyError("more than 63 proof lines"));
            }
            let h = STANDARD
                .decode(l)
                .ok()
                .and_then(|b| Hash32::from_slice(&b).ok())
                .ok_or(BodyError("a proof line is not a base64 SHA-256 hash"))?;
            proof.push(h);
        }
        let checkpoint =
            Note::parse(note).map_err(|_| BodyError("the checkpoint is not a note"))?;
        Ok(Self {
            old,
            proof,
            checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_round_trip_and_malformed_ones_are_typed() {
        let key = talos_testkit::keys::identity(1);
        let note = crate::note::sign("o\n1\nAAAA\n", "o", &key).unwrap();
        let r = AddCheckpoint {
            old: 3,
            proof: vec![Hash32([1; 32]), Hash32([2; 32])],
            checkpoint: note,
        };
        assert_eq!(AddCheckpoint::parse(&r.to_text()), Ok(r.clone()));
        let text = r.to_text();
        for bad in [
            text.replacen("old 3", "old 03", 1),
            text.replacen("old 3", "new 3", 1),
            text.replacen("\n\n", "\n", 1),
            text.replacen("old 3\n", "old 3\nnot base64\n", 1),
        ] {
            assert!(AddCheckpoint::parse(&bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_body_parses_or_is_refused(s in "old [0-9]{1,4}\n([A-Za-z0-9+/=]{0,44}\n){0,3}\n[ -~\n—]{0,60}") {
            if let Ok(r) = AddCheckpoint::parse(&s) {
                prop_assert_eq!(AddCheckpoint::parse(&r.to_text()), Ok(r));
            }
        }
    }
}
