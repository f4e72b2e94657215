//! What the receive path records of each frame, and when.
//!
//! Every accepted frame's event is durable before its ack (so is a session's opening).
//! A duplicate gets an event only when the mailroom says its first copy's event may be
//! missing (see `talos_delivery::Evidence`); otherwise it is counted. A refusal of a
//! peer with a session goes to the auditor's bounded refusal queue, and is shed when
//! that is full; one from a peer without a session is only counted. So what a stranger
//! can add to the audit log is bounded by what this node accepts from it (a session, and
//! inbox entries within their quotas), not by what it sends.
//!
//! Latency: the store and the audit log are two synced writes. For frames that are
//! likely new (their peer's last frames were accepted and they are not behind) the
//! events are written while the store writes the frames, as before; the others wait for
//! the store's verdict, and their events (if any) are written after it. A guess that
//! turns out wrong costs one extra event, never a missing one.

use std::collections::HashMap;

use talos_audit::event::EventKind;
use talos_delivery::{Evidence, Outcome, Receipt};
use talos_net::{AckStatus, Frame};
use talos_primitives::Ed25519Public;

use super::audit::{did, session_id};
use super::metrics::Metrics;

/// Peers whose next frames are guessed new, at most (cleared when full).
const KNOWN: usize = 4096;

/// The receive path's memory across groups.
pub(super) struct Rounds {
    /// Peers whose last outcome was an acceptance, with the seq after the highest.
    known: HashMap<Ed25519Public, u64>,
    round: u64,
    /// Rounds whose events are durable, per peer, for the mailroom to settle.
    settled: Vec<(Ed25519Public, u64)>,
}

impl Rounds {
    pub(super) fn new() -> Self {
        Rounds {
            known: HashMap::new(),
            // Never reused across restarts (a marker an unsettled round left behind must
            // not be settled by a later round that happens to share its number).
            round: rand::random::<u64>() >> 1,
            settled: Vec::new(),
        }
    }

    /// A new round number (never 0: that is the mailroom's "not audited").
    pub(super) fn next(&mut self) -> u64 {
        self.round = self.round.wrapping_add(1).max(1);
        self.round
    }

    /// The settled rounds, for the next store write.
    pub(super) fn take_settled(&mut self) -> Vec<(Ed25519Public, u64)> {
        std::mem::take(&mut self.settled)
    }

    /// Settled rounds that did not reach the store (it failed): kept for the next.
    pub(super) fn restore(&mut self, settled: Vec<(Ed25519Public, u64)>) {
        self.settled.extend(settled);
    }

    /// Which frames are likely new, so their events are written beside the store.
    pub(super) fn likely_new(&self, items: &[(Ed25519Public, Frame)]) -> Vec<bool> {
        items
            .iter()
            .map(|(peer, f)| self.known.get(peer).is_some_and(|next| f.seq() >= *next))
            .collect()
    }

    /// Learns from the outcomes: accepted frames make their peer known, a refusal or
    /// a quota answer makes it unknown (its frames then wait for the verdict).
    pub(super) fn learn(&mut self, items: &[(Ed25519Public, Frame)], outcomes: &[Outcome]) {
        for ((peer, frame), o) in items.iter().zip(outcomes) {
            match o.receipt {
                Receipt::Ack(AckStatus::Accepted) => {
                    if self.known.len() >= KNOWN && !self.known.contains_key(peer) {
                        self.known.clear();
                    }
                    let next = self.known.entry(*peer).or_default();
                    *next = (*next).max(frame.seq().saturating_add(1));
                }
                Receipt::Ack(AckStatus::Refused(_) | AckStatus::OverQuota) => {
                    self.known.remove(peer);
                }
                _ => {}
            }
        }
    }

    /// Every event of round `round` is durable: the peers it accepted frames from are
    /// settled at the next store write.
    pub(super) fn settle(
        &mut self,
        items: &[(Ed25519Public, Frame)],
        outcomes: &[Outcome],
        round: u64,
    ) {
        for ((peer, _), o) in items.iter().zip(outcomes) {
            let entry = (*peer, round);
            if o.receipt == Receipt::Ack(AckStatus::Accepted) && !self.settled.contains(&entry) {
                self.settled.push(entry);
            }
        }
    }
}

/// What a group's outcomes still need once the store has spoken: the events to make
/// durable before the acks (sessions opened, then frames not audited beside the store),
/// with the counting and the refusal queue done on the way.
pub(super) fn after_store(
    me: &Ed25519Public,
    items: &[(Ed25519Public, Frame)],
    outcomes: &[Outcome],
    early: &[bool],
    auditor: &super::audit::Auditor,
    metrics: &Metrics,
) -> Vec<EventKind> {
    let mut opened = Vec::new();
    let mut late: Vec<(&Ed25519Public, &Frame)> = Vec::new();
    for (((peer, frame), o), early) in items.iter().zip(outcomes).zip(early) {
        if o.opened {
            opened.push(EventKind::SessionOpened {
                peer: did(peer),
                session: session_id(me, peer),
            });
        }
        match o.evidence {
            Evidence::Required if !early => late.push((peer, frame)),
            Evidence::Required => {}
            Evidence::Refusal { authenticated } => {
                metrics.frame_refused(authenticated);
                if authenticated {
                    let events = super::commit::received_events(me, [(peer, frame)].into_iter());
                    for e in events {
                        auditor.refusal(e);
                    }
                }
            }
            Evidence::NotNeeded => match o.receipt {
                Receipt::Ack(AckStatus::Duplicate) => {
                    metrics.frames_duplicate.inc();
                }
                Receipt::Ack(AckStatus::OverQuota) => {
                    metrics.frames_over_quota.inc();
                }
                _ => {}
            },
        }
    }
    opened.extend(super::commit::received_events(me, late.into_iter()));
    opened
}
