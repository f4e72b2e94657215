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
//! Durability: the mailroom's writes for a group and the events its outcomes call for
//! go to the node's store in one batch (the audit log lives there), with one fsync, under
//! the mailroom's lock (`commit::deliver`); so no frame is ever durable without its
//! event, and the ack follows both.

use talos_audit::event::EventKind;
use talos_delivery::{Evidence, Outcome, Receipt};
use talos_net::{AckStatus, Frame};
use talos_primitives::Ed25519Public;

use super::audit::{did, session_id};
use super::metrics::Metrics;

/// The receive path's memory across groups.
pub(super) struct Rounds {
    round: u64,
    /// Rounds whose events are durable, per peer, for the mailroom to settle.
    settled: Vec<(Ed25519Public, u64)>,
}

impl Rounds {
    pub(super) fn new() -> Self {
        Rounds {
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

/// The events a group's outcomes call for, to be durable with the group: sessions
/// opened, then the frames whose evidence is required (accepted ones, and duplicates
/// whose first copy's event may be missing).
pub(super) fn needed(
    me: &Ed25519Public,
    items: &[(Ed25519Public, Frame)],
    outcomes: &[Outcome],
) -> Vec<EventKind> {
    let mut events = Vec::new();
    let mut frames: Vec<(&Ed25519Public, &Frame)> = Vec::new();
    for ((peer, frame), o) in items.iter().zip(outcomes) {
        if o.opened {
            events.push(EventKind::SessionOpened {
                peer: did(peer),
                session: session_id(me, peer),
            });
        }
        if o.evidence == Evidence::Required {
            frames.push((peer, frame));
        }
    }
    events.extend(super::commit::received_events(me, frames.into_iter()));
    events
}

/// Counts a durable group's outcomes, and queues the refusals of peers with a session
/// for the audit log (shed when its queue is full).
pub(super) fn count(
    me: &Ed25519Public,
    items: &[(Ed25519Public, Frame)],
    outcomes: &[Outcome],
    auditor: &super::audit::Auditor,
    metrics: &Metrics,
) {
    for ((peer, frame), o) in items.iter().zip(outcomes) {
        match o.evidence {
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
}
