//! The receive path: frames from peers (directly, or handed on by a mailbox) are
//! deduplicated, held ahead of gaps within their byte budget, decrypted in order and
//! written with the session, the inbox entry and the stream counter in one group commit.

use talos_net::{AckStatus, Frame, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_ratchet::PreKeyStore;
use talos_store::db::{CF_HELD, CF_STREAMS};
use tracing::{debug, warn};

use super::staged::Staged;
use super::{
    Commit, Evidence, HELD_RELAYED, Mailroom, Outcome, Receipt, SessionRecord, counter_in, next,
    seal_prekeys, short_id,
};
use crate::error::DeliveryError;
use crate::layout::{
    HELD_TOTAL, INBOX_NEXT, PREKEYS, STALLED, amount, frame_key, held_bytes, next_in, stalled,
};

impl Mailroom {
    /// Takes a frame from `peer` (authenticated by the transport) and says what to answer.
    pub fn receive(&self, peer: &Ed25519Public, frame: &Frame) -> Result<Receipt, DeliveryError> {
        self.receive_many(&[(*peer, frame)])?
            .pop()
            .ok_or(DeliveryError::Corrupt("empty receive result"))
    }

    /// [`Self::receive`] for several frames with one synced write (group commit): the
    /// receipts, in order, are valid once this returns; on an error nothing was written
    /// and no frame may be acknowledged.
    pub fn receive_many(
        &self,
        items: &[(Ed25519Public, &Frame)],
    ) -> Result<Vec<Receipt>, DeliveryError> {
        let outcomes = self.receive_group(items, false, 0, &[], None)?;
        Ok(outcomes.into_iter().map(|o| o.receipt).collect())
    }

    /// [`Self::receive_many`] for frames a mailbox hands on: `peer` is the original
    /// sender as the mailbox claims it, so the transport has not authenticated it. The
    /// session still does (an Initial message must be that sender's handshake, and a
    /// ratchet message must decrypt under its session), and a frame that fails to open
    /// never moves the stream on: a mailbox can delay frames, not make any be lost.
    pub fn receive_relayed_many(
        &self,
        items: &[(Ed25519Public, &Frame)],
    ) -> Result<Vec<Receipt>, DeliveryError> {
        let outcomes = self.receive_group(items, true, 0, &[], None)?;
        Ok(outcomes.into_iter().map(|o| o.receipt).collect())
    }

    /// [`Self::receive_many`] (or, with `relayed`, [`Self::receive_relayed_many`]) for a
    /// node that audits what it receives: each receipt comes with what the audit trail
    /// needs of its frame (see [`Evidence`](super::Evidence)). `round` names this call
    /// (nonzero, never reused); `settled` lists earlier rounds whose events are now
    /// durable, per peer, so their markers go in this same write.
    ///
    /// `commit` makes the group durable instead of the mailroom's own synced write: it
    /// gets the outcomes and everything staged, and must write the staged writes, with
    /// whatever belongs beside them (the events the outcomes call for), in one synced
    /// batch before it returns. It runs under the mailroom's lock, so nothing reads the
    /// state it writes before it is durable; on its error nothing of the group counts.
    pub fn receive_audited(
        &self,
        items: &[(Ed25519Public, &Frame)],
        relayed: bool,
        round: u64,
        settled: &[(Ed25519Public, u64)],
        commit: Commit<'_>,
    ) -> Result<Vec<Outcome>, DeliveryError> {
        self.receive_group(items, relayed, round, settled, Some(commit))
    }

    fn receive_group(
        &self,
        items: &[(Ed25519Public, &Frame)],
        relayed: bool,
        round: u64,
        settled: &[(Ed25519Public, u64)],
        commit: Option<Commit<'_>>,
    ) -> Result<Vec<Outcome>, DeliveryError> {
        let mut commit = commit;
        let mut prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let before = (*prekeys).clone();
        // Frames whose own state is unreadable (`Corrupt`): answered `Later` and left out,
        // and the group staged again without them, so one peer's damaged session cannot
        // hold back every other frame of the group, retry after retry.
        let mut left_out = vec![false; items.len()];
        'attempt: loop {
            let mut txn = Staged::for_round(&self.store, round);
            for (peer, r) in settled {
                self.settle(&mut txn, peer, *r)?;
            }
            let mut prekeys_changed = false;
            let mut out = Vec::with_capacity(items.len());
            for (i, (peer, frame)) in items.iter().enumerate() {
                if left_out.get(i).copied().unwrap_or(false) {
                    out.push(Outcome::later());
                    continue;
                }
                match self.stage_receive(
                    &mut txn,
                    peer,
                    frame,
                    relayed,
                    &mut prekeys,
                    &mut prekeys_changed,
                ) {
                    Ok(receipt) => out.push(receipt),
                    Err(DeliveryError::Corrupt(what)) => {
                        warn!(peer = %short_id(peer), seq = frame.seq(), what, "frame left out: its state is unreadable");
                        *prekeys = before.clone();
                        if let Some(slot) = left_out.get_mut(i) {
                            *slot = true;
                        }
                        continue 'attempt;
                    }
                    Err(e) => {
                        // Nothing of the group is written: the prekeys go back too.
                        *prekeys = before;
                        return Err(e);
                    }
                }
            }
            if prekeys_changed {
                txn.put(
                    CF_STREAMS,
                    PREKEYS,
                    seal_prekeys(&self.storage_key, &prekeys),
                )?;
            }
            let written = match commit.as_mut() {
                Some(commit) => {
                    let (writes, touched) = txn.into_writes();
                    commit(&out, writes).map(|()| touched)
                }
                None => txn.commit(),
            };
            match written {
                Ok(touched) => self.note_woken(touched),
                Err(e) => {
                    // Nothing reached the disk: neither may the in-memory prekeys move on.
                    *prekeys = before;
                    return Err(e);
                }
            }
            // Still under the lock, after the frames are durable.
            self.evict_idle();
            return Ok(out);
        }
    }

    fn stage_receive(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        frame: &Frame,
        relayed: bool,
        prekeys: &mut PreKeyStore,
        prekeys_changed: &mut bool,
    ) -> Result<Outcome, DeliveryError> {
        let expected = counter_in(txn, &next_in(peer))?;
        let seq = frame.seq();
        if seq < expected {
            let evidence = self.duplicate_evidence(txn, peer, seq)?;
            return Ok(Outcome::ack(AckStatus::Duplicate, evidence));
        }
        if seq > expected {
            return self.stage_ahead(txn, peer, frame, expected, relayed, prekeys);
        }
        // The next frame is the one that would add to the inbox: past the bounds it waits
        // in its sender's outbox (which backs off) until the agent acknowledges entries.
        if self.over_quota(txn, peer)? {
            return Ok(Outcome::ack(AckStatus::OverQuota, Evidence::NotNeeded));
        }
        let mut session = self.load_session(txn, peer)?;
        let had_session = session.is_some();
        let mut inbox_next = counter_in(txn, INBOX_NEXT)?;
        let mut useful = false;
        let status = match self.open_frame(peer, frame, &mut session, prekeys, prekeys_changed) {
            Ok(plaintext) => {
                useful =
                    self.take_plaintext(txn, &mut inbox_next, peer, seq, &plaintext, &mut session)?;
                AckStatus::Accepted
            }
            Err(reason) if relayed => {
                // Not the sender's frame as far as we can tell: nothing moves (until
                // `skip_stalled` gives up on it).
                warn!(peer = %short_id(peer), seq, ?reason, "relayed frame refused");
                self.mark_stalled(txn, peer, seq)?;
                let authenticated = had_session;
                return Ok(Outcome::ack(
                    AckStatus::Refused(reason),
                    Evidence::Refusal { authenticated },
                ));
            }
            Err(reason) => {
                // A peer without a session has proven nothing: not worth a warning each.
                if had_session {
                    warn!(peer = %short_id(peer), seq, ?reason, "frame refused");
                } else {
                    debug!(peer = %short_id(peer), seq, ?reason, "frame refused");
                }
                AckStatus::Refused(reason)
            }
        };
        // The stream moves on either way, then drains whatever the gap was holding back.
        let (expected, released) = self.release_held(
            txn,
            peer,
            next(seq)?,
            &mut session,
            prekeys,
            prekeys_changed,
            &mut inbox_next,
        )?;
        txn.put(CF_STREAMS, &next_in(peer), expected.to_be_bytes().to_vec())?;
        txn.put(CF_STREAMS, INBOX_NEXT, inbox_next.to_be_bytes().to_vec())?;
        if let Some(record) = &session {
            self.put_session(txn, peer, record)?;
        }
        debug!(peer = %short_id(peer), seq, next = expected, "frame delivered");
        self.in_order_outcome(txn, peer, seq, status, had_session, useful || released)
    }

    /// The outcome of an in-order frame that moved the stream on: what the audit trail
    /// needs of it, and whether its peer joins the idle ones (state, nothing taken).
    fn in_order_outcome(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
        status: AckStatus,
        had_session: bool,
        useful: bool,
    ) -> Result<Outcome, DeliveryError> {
        // State for a peer that has had nothing take effect yet is bounded (idle.rs).
        if !had_session && !useful {
            self.idle_add(txn, peer)?;
        }
        let evidence = match status {
            AckStatus::Accepted => {
                self.owe_evidence(txn, peer, seq)?;
                Evidence::Required
            }
            _ => Evidence::Refusal {
                authenticated: had_session,
            },
        };
        Ok(Outcome {
            opened: !had_session && status == AckStatus::Accepted,
            ..Outcome::ack(status, evidence)
        })
    }

    /// Delivers the held frames from `expected` on, in order, until a gap; returns the
    /// next expected seq, and whether any of them took effect.
    #[allow(clippy::too_many_arguments)]
    fn release_held(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        mut expected: u64,
        session: &mut Option<SessionRecord>,
        prekeys: &mut PreKeyStore,
        prekeys_changed: &mut bool,
        inbox_next: &mut u64,
    ) -> Result<(u64, bool), DeliveryError> {
        let mut useful = false;
        while let Some(bytes) = txn.get(CF_HELD, &frame_key(peer, expected))? {
            txn.delete(CF_HELD, &frame_key(peer, expected))?;
            let (mine, total) = held_amounts(txn, peer)?;
            let len = bytes.len() as u64;
            set_held_amounts(
                txn,
                peer,
                mine.saturating_sub(len),
                total.saturating_sub(len),
            )?;
            let (was_relayed, encoded) = match bytes.split_first() {
                Some((flag, rest)) => (*flag == HELD_RELAYED, rest),
                None => (false, &[][..]),
            };
            let outcome = Frame::parse(encoded)
                .map_err(|_| RefuseReason::Malformed)
                .and_then(|f| self.open_frame(peer, &f, session, prekeys, prekeys_changed));
            match outcome {
                Ok(plaintext) => {
                    useful |=
                        self.take_plaintext(txn, inbox_next, peer, expected, &plaintext, session)?;
                }
                Err(reason) if was_relayed => {
                    // Dropped, and the stream waits for the sender's own copy.
                    warn!(peer = %short_id(peer), seq = expected, ?reason, "held relayed frame refused");
                    self.mark_stalled(txn, peer, expected)?;
                    break;
                }
                Err(reason) => {
                    warn!(peer = %short_id(peer), seq = expected, ?reason, "held frame refused")
                }
            }
            expected = next(expected)?;
        }
        Ok((expected, useful))
    }

    /// Notes when a stream first stopped at `seq` on a relayed frame that did not open.
    fn mark_stalled(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
    ) -> Result<(), DeliveryError> {
        let k = stalled(peer);
        if let Some(v) = txn.get(CF_STREAMS, &k)?
            && v.get(..8) == Some(&seq.to_be_bytes()[..])
        {
            return Ok(());
        }
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        txn.put(
            CF_STREAMS,
            &k,
            [seq.to_be_bytes(), since.to_be_bytes()].concat(),
        )
    }

    /// Gives up on frames that stopped a stream for at least `max_age` seconds: a frame
    /// a mailbox handed on that never opened (forged, or its prekey long rotated out)
    /// and that the sender, having passed custody to the mailbox, will not send again.
    /// The stream moves past it and delivers what was held behind it. Returns the
    /// (peer, seq) pairs given up.
    pub fn skip_stalled(
        &self,
        now: u64,
        max_age: u64,
    ) -> Result<Vec<(Ed25519Public, u64)>, DeliveryError> {
        let mut markers = Vec::new();
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_STREAMS)?,
            rocksdb::IteratorMode::From(STALLED, rocksdb::Direction::Forward),
        );
        for item in iter {
            let (k, v) = item?;
            if !k.starts_with(STALLED) {
                break;
            }
            let parsed = k
                .get(5..)
                .and_then(|p| <[u8; 32]>::try_from(p).ok())
                .and_then(|p| Ed25519Public::from_bytes(p).ok())
                .zip(v.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()))
                .zip(v.get(8..16).and_then(|s| <[u8; 8]>::try_from(s).ok()));
            if let Some(((peer, seq), since)) = parsed {
                markers.push((peer, u64::from_be_bytes(seq), u64::from_be_bytes(since)));
            }
        }
        let mut skipped = Vec::new();
        for (peer, seq, since) in markers {
            if now.saturating_sub(since) < max_age {
                continue;
            }
            let mut prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
            let before = (*prekeys).clone();
            let mut txn = Staged::new(&self.store);
            txn.delete(CF_STREAMS, &stalled(&peer))?;
            if counter_in(&txn, &next_in(&peer))? == seq {
                let mut session = self.load_session(&txn, &peer)?;
                let mut inbox_next = counter_in(&txn, INBOX_NEXT)?;
                let mut changed = false;
                let (expected, _) = self.release_held(
                    &mut txn,
                    &peer,
                    next(seq)?,
                    &mut session,
                    &mut prekeys,
                    &mut changed,
                    &mut inbox_next,
                )?;
                warn!(peer = %short_id(&peer), seq, next = expected, "gave up on a stalled relayed frame");
                txn.put(CF_STREAMS, &next_in(&peer), expected.to_be_bytes().to_vec())?;
                txn.put(CF_STREAMS, INBOX_NEXT, inbox_next.to_be_bytes().to_vec())?;
                if let Some(record) = &session {
                    self.put_session(&mut txn, &peer, record)?;
                }
                if changed {
                    txn.put(
                        CF_STREAMS,
                        PREKEYS,
                        seal_prekeys(&self.storage_key, &prekeys),
                    )?;
                }
                skipped.push((peer, seq));
            }
            match txn.commit() {
                Ok(touched) => self.note_woken(touched),
                Err(e) => {
                    *prekeys = before;
                    return Err(e);
                }
            }
        }
        Ok(skipped)
    }
}

pub(super) fn held_amounts(
    txn: &Staged<'_>,
    peer: &Ed25519Public,
) -> Result<(u64, u64), DeliveryError> {
    let corrupt = DeliveryError::Corrupt("held byte count");
    let mine = amount(txn.get(CF_STREAMS, &held_bytes(peer))?).ok_or(corrupt)?;
    let total = amount(txn.get(CF_STREAMS, HELD_TOTAL)?)
        .ok_or(DeliveryError::Corrupt("held byte count"))?;
    Ok((mine, total))
}

pub(super) fn set_held_amounts(
    txn: &mut Staged<'_>,
    peer: &Ed25519Public,
    mine: u64,
    total: u64,
) -> Result<(), DeliveryError> {
    // A peer with nothing held keeps no count.
    if mine == 0 {
        txn.delete(CF_STREAMS, &held_bytes(peer))?;
    } else {
        txn.put(CF_STREAMS, &held_bytes(peer), mine.to_be_bytes().to_vec())?;
    }
    txn.put(CF_STREAMS, HELD_TOTAL, total.to_be_bytes().to_vec())
}
