//! The monitor (`talos audit monitor`): follows one agent's public log and raises an
//! alarm when the log, the chain or the witnesses disagree.
//!
//! Each round:
//! 1. the log's checkpoint must be signed by the agent's key (its DID names it);
//! 2. every entry past the last one read is fetched from the entry bundles, decoded (a
//!    signed event of this agent, its `seq` its index) and its leaf hash appended to the
//!    tree frontier the monitor keeps; the frontier's root must then equal the new
//!    checkpoint's root. This proves at once that the new checkpoint extends the last one
//!    verified and that every entry is the one the tree commits to, without trusting a
//!    single tile. (The frontier is rebuilt from tiles at the last size read, and must
//!    reproduce the root verified there.)
//! 3. the root the agent anchored last (and at this size) must be a prefix of the tree:
//!    a consistency proof computed from the tiles must verify between the two roots;
//! 4. each witness's latest cosigned checkpoint for this log must be consistent with the
//!    log likewise, and any split-view evidence a witness kept is an alarm;
//! 5. a chain that anchored past the published log for `stall_rounds` rounds in a row
//!    is an alarm (the agent commits to entries it does not publish).
//!
//! Alarms: a split view (two signed roots for one size, or a signed root the log does
//! not extend), an anchored root the log does not reproduce, a stalled log, a changed or
//! removed entry (the tree no longer reproduces its signed root, or went back).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use talos_anchor::Anchor;
use talos_audit::tiles::TileNodes;
use talos_audit::tree;
use talos_primitives::{Did, Hash32, TreeHead};

use crate::proof::verify_checkpoint;
use crate::source::{Blocking, LogSource, SourceError};

mod entries;
pub mod state;
mod witnesses;

pub use state::{MonitorState, Seen};

/// Why a round could not run (not an alarm: the log or chain could not be read).
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The log could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The chain could not be read.
    #[error("the chain: {0}")]
    Chain(String),
    /// The state failed.
    #[error(transparent)]
    State(#[from] state::MonitorStateError),
    /// A task failed.
    #[error("internal: {0}")]
    Internal(String),
}

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Two signed checkpoints that cannot both be honest (log, witnesses).
    SplitView,
    /// The log's checkpoint is not signed by the agent, or names another log.
    BadCheckpoint,
    /// The tree went back, or no longer reproduces a root it signed: an entry was
    /// removed or changed.
    EntryChanged,
    /// An entry is not the agent's signed event at its index.
    BadEntry,
    /// A root the agent anchored is not one of this log's.
    AnchorMismatch,
    /// The chain anchored past the published log, round after round.
    Stalled,
}

/// An alarm, with the signed evidence when there is some.
#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    /// What.
    pub alarm: AlarmKind,
    /// Why, in words (sizes, roots, indices; never entry contents).
    pub detail: String,
    /// Signed notes that show it, when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Alarm {
    fn new(alarm: AlarmKind, detail: impl Into<String>) -> Self {
        Self {
            alarm,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }
}

/// One round's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Round {
    /// The agent.
    pub did: String,
    /// The log's checkpoint size.
    pub tree_size: u64,
    /// Entries read this round.
    pub new_entries: u64,
    /// Those entries by event kind.
    pub kinds: BTreeMap<String, u64>,
    /// The latest size anchored on the chain, if a chain is watched.
    pub anchored: Option<u64>,
    /// Alarms raised this round.
    pub alarms: Vec<Alarm>,
}

/// A monitor of one agent's log.
pub struct Monitor {
    /// The log.
    pub source: LogSource,
    /// The agent.
    pub did: Did,
    /// The chain it anchors on, if watched.
    pub anchor: Option<Arc<dyn Anchor>>,
    /// Witnesses' monitoring URLs.
    pub witnesses: Vec<String>,
    /// Rounds the chain may be ahead of the log before it is an alarm.
    pub stall_rounds: u32,
    /// The state.
    pub state: MonitorState,
}

impl Monitor {
    /// Runs one round; alarms are in the report (and kept in the state).
    pub async fn round(&self) -> Result<Round, MonitorError> {
        let key = self.did.to_string();
        let mut seen = self.state.get(&key)?;
        let mut round = Round {
            did: key.clone(),
            tree_size: 0,
            new_entries: 0,
            kinds: BTreeMap::new(),
            anchored: None,
            alarms: Vec::new(),
        };
        let text = self.source.checkpoint().await?;
        let cp = match verify_checkpoint(&text) {
            Ok((did, cp, _)) if did == self.did => cp,
            Ok((did, _, _)) => {
                round.alarms.push(Alarm::new(
                    AlarmKind::BadCheckpoint,
                    format!("the log's checkpoint is {did}'s"),
                ));
                return self.finish(seen, round);
            }
            Err(e) => {
                let mut a = Alarm::new(AlarmKind::BadCheckpoint, e.to_string());
                a.evidence.push(text);
                round.alarms.push(a);
                return self.finish(seen, round);
            }
        };
        round.tree_size = cp.head.size;
        if self.compare_with_seen(&seen, &cp.head, &text, &mut round) {
            self.read_entries(&mut seen, &cp.head, &mut round).await?;
            if round.alarms.is_empty() {
                seen.note = text;
                seen.size = cp.head.size;
                seen.root = b64(&cp.head.root);
            }
        }
        self.check_chain(&mut seen, &cp.head, &mut round).await?;
        witnesses::check(self, &cp.head, &mut round).await;
        self.finish(seen, round)
    }

    /// Reads every entry again at the next round (after a suspicion, or periodically:
    /// an entry changed in storage after it was read shows only when read again).
    pub fn recheck(&self) -> Result<(), MonitorError> {
        let key = self.did.to_string();
        let mut seen = self.state.get(&key)?;
        seen.read = 0;
        seen.kinds.clear();
        Ok(self.state.put(&key, &seen)?)
    }

    fn finish(&self, mut seen: Seen, round: Round) -> Result<Round, MonitorError> {
        for a in &round.alarms {
            let kind = serde_json::to_value(a.alarm)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if !seen.alarms.contains(&kind) {
                seen.alarms.push(kind);
            }
        }
        self.state.put(&round.did, &seen)?;
        Ok(round)
    }

    /// Same size, another root; or a smaller size: alarms. Returns whether to read on.
    fn compare_with_seen(
        &self,
        seen: &Seen,
        head: &TreeHead,
        text: &str,
        round: &mut Round,
    ) -> bool {
        if seen.note.is_empty() {
            return true;
        }
        let same_root = b64(&head.root) == seen.root;
        let (kind, detail) = if head.size < seen.size {
            (
                AlarmKind::EntryChanged,
                format!("the log went back from size {} to {}", seen.size, head.size),
            )
        } else if head.size == seen.size && !same_root {
            (
                AlarmKind::SplitView,
                format!("two signed roots for size {}", head.size),
            )
        } else {
            return true;
        };
        let mut a = Alarm::new(kind, detail);
        a.evidence = vec![seen.note.clone(), text.to_string()];
        round.alarms.push(a);
        false
    }

    /// Whether the tree of `head` extends `old` (a consistency proof from the tiles).
    pub(crate) async fn extends(
        &self,
        head: &TreeHead,
        old: &TreeHead,
    ) -> Result<bool, MonitorError> {
        if old.size > head.size {
            return Ok(false);
        }
        if old.size == head.size {
            return Ok(old.root == head.root);
        }
        let (source, runtime, h, o) = (
            self.source.clone(),
            tokio::runtime::Handle::current(),
            *head,
            *old,
        );
        tokio::task::spawn_blocking(move || {
            let fetch = Blocking {
                source: &source,
                runtime,
            };
            let proof = tree::consistency_proof(&TileNodes::new(&fetch, h.size), o.size, h.size);
            proof.is_ok_and(|p| {
                talos_audit::verify_consistency(o.size, h.size, &o.root, &h.root, &p).is_ok()
            })
        })
        .await
        .map_err(|e| MonitorError::Internal(e.to_string()))
    }

    async fn check_chain(
        &self,
        seen: &mut Seen,
        head: &TreeHead,
        round: &mut Round,
    ) -> Result<(), MonitorError> {
        let Some(anchor) = &self.anchor else {
            return Ok(());
        };
        let chain = |e: talos_anchor::AnchorError| MonitorError::Chain(e.to_string());
        let latest = anchor.latest_root(&self.did).await.map_err(chain)?;
        let at_size = anchor.root_at(&self.did, head.size).await.map_err(chain)?;
        round.anchored = latest.map(|h| h.size);
        let mut anchored: Vec<TreeHead> = latest.into_iter().collect();
        anchored.extend(at_size.map(|r| r.head));
        for a in anchored.iter().filter(|a| a.size <= head.size) {
            if !self.extends(head, a).await? {
                round.alarms.push(Alarm::new(
                    AlarmKind::AnchorMismatch,
                    format!(
                        "the root anchored at size {} ({}) is not one of this log's",
                        a.size,
                        hex(&a.root)
                    ),
                ));
            }
        }
        match latest {
            Some(l) if l.size > head.size => {
                seen.behind_rounds = seen.behind_rounds.saturating_add(1);
                if seen.behind_rounds >= self.stall_rounds.max(1) {
                    round.alarms.push(Alarm::new(
                        AlarmKind::Stalled,
                        format!(
                            "the chain has size {} anchored, the log publishes {} ({} rounds)",
                            l.size, head.size, seen.behind_rounds
                        ),
                    ));
                }
            }
            _ => seen.behind_rounds = 0,
        }
        Ok(())
    }
}

fn hex(h: &Hash32) -> String {
    h.to_string()
}

fn b64(h: &Hash32) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h.as_bytes())
}
