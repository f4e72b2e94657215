//! The mailbox service: a node that holds ciphertext frames for recipients that are
//! offline, and hands them on when the recipient asks (a `Drain` frame).
//!
//! - Recipients register by draining once; frames for unregistered recipients are
//!   refused, so nobody can park data here in the name of a key that never asked.
//! - Only session frames are accepted: the deposited frame must parse as an Initial or
//!   Ratchet frame whose body is a ratchet envelope, and an Initial message must carry
//!   the depositing writer's own identity key. The mailbox never sees plaintext.
//! - Bounded per recipient (frames and bytes), per writer for each recipient (so one
//!   writer, or a handful, cannot use up a recipient's space and lock out the others),
//!   in the number of recipients, and in total.
//! - A registration lasts [`REGISTRATION_TTL_SECS`] after the recipient's last drain.
//!   When every slot is taken, a new recipient takes the slot of the registration that
//!   lapsed longest ago, and that registration's frames are dropped with it (the
//!   recipient has not asked for them for that long). Registrations that have not
//!   lapsed are never displaced, so strangers cannot push out recipients that drain.
//! - A deposit is durable (one synced write) before it is acknowledged; the sender then
//!   drops it from its outbox, so custody passes to the mailbox and nothing is lost.

use std::sync::{Arc, Mutex};

use rocksdb::{Direction, IteratorMode, WriteBatch};
use talos_net::{AckStatus, Deposit, Frame, FrameKind, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_ratchet::Envelope;
use talos_store::Store;
use talos_store::db::CF_MAILBOX;

use crate::error::DeliveryError;
use crate::layout::amount;

/// Frames held for one recipient.
pub const MAX_FRAMES_PER_RECIPIENT: u64 = 4096;
/// Bytes held for one recipient.
pub const MAX_BYTES_PER_RECIPIENT: u64 = 16 << 20;
/// Bytes held in total.
pub const MAX_BYTES_TOTAL: u64 = 512 << 20;
/// Registered recipients.
pub const MAX_RECIPIENTS: u64 = 4096;
/// Frames one writer may have waiting for one recipient (1/8 of the recipient's room).
pub const MAX_FRAMES_PER_WRITER: u64 = MAX_FRAMES_PER_RECIPIENT / 8;
/// Bytes one writer may have waiting for one recipient.
pub const MAX_BYTES_PER_WRITER: u64 = MAX_BYTES_PER_RECIPIENT / 8;
/// How long a registration lasts after the recipient's last drain: 30 days. A node
/// drains its mailboxes at start and every 30 s while it runs.
pub const REGISTRATION_TTL_SECS: u64 = 30 * 24 * 3600;

const TOTAL: &[u8] = b"t";
const RECIPIENTS: &[u8] = b"n";

fn recipient_key(r: &Ed25519Public) -> Vec<u8> {
    [b"r".as_slice(), r.as_bytes()].concat()
}

/// What one writer has waiting for one recipient: (frames, bytes).
fn writer_key(r: &Ed25519Public, writer: &Ed25519Public) -> Vec<u8> {
    [b"w".as_slice(), r.as_bytes(), writer.as_bytes()].concat()
}

fn frame_key(r: &Ed25519Public, sender: &Ed25519Public, seq: u64) -> Vec<u8> {
    [
        b"f".as_slice(),
        r.as_bytes(),
        sender.as_bytes(),
        &seq.to_be_bytes(),
    ]
    .concat()
}

/// A stored count (0 when absent).
fn u64_at(store: &Store, key: &[u8]) -> Result<u64, DeliveryError> {
    amount(store.get(CF_MAILBOX, key)?).ok_or(DeliveryError::Corrupt("mailbox counter"))
}

/// Usage: (frames, bytes), for a recipient or for a writer to a recipient.
fn usage(v: Option<Vec<u8>>) -> Result<Option<(u64, u64)>, DeliveryError> {
    Ok(registration(v)?.map(|r| (r.frames, r.bytes)))
}

/// A recipient's registration: its usage and when it last drained.
struct Registration {
    frames: u64,
    bytes: u64,
    /// Unix seconds of the last drain; `None` for a registration written before drains
    /// were recorded (it counts as live until its next drain records one).
    drained: Option<u64>,
}

/// Parses `frames ‖ bytes [‖ drained]`, big-endian u64s (16 bytes in the first format,
/// 24 since registrations expire; both are read, so an older store needs no migration).
fn registration(v: Option<Vec<u8>>) -> Result<Option<Registration>, DeliveryError> {
    let Some(b) = v else { return Ok(None) };
    let corrupt = || DeliveryError::Corrupt("mailbox usage");
    let word = |i: usize| -> Result<u64, DeliveryError> {
        b.get(i * 8..i * 8 + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(corrupt)
    };
    let drained = match b.len() {
        16 => None,
        24 => Some(word(2)?),
        _ => return Err(corrupt()),
    };
    Ok(Some(Registration {
        frames: word(0)?,
        bytes: word(1)?,
        drained,
    }))
}

fn usage_bytes(frames: u64, bytes: u64) -> Vec<u8> {
    [frames.to_be_bytes(), bytes.to_be_bytes()].concat()
}

fn registration_bytes(r: &Registration) -> Vec<u8> {
    let mut v = usage_bytes(r.frames, r.bytes);
    if let Some(d) = r.drained {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A mailbox over the node's store.
pub struct Mailbox {
    store: Arc<Store>,
    // One writer: the counters are read-modify-write.
    lock: Mutex<()>,
}

impl core::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mailbox").finish_non_exhaustive()
    }
}

impl Mailbox {
    /// The mailbox in `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Mailbox {
            store,
            lock: Mutex::new(()),
        }
    }

    /// Registers `recipient` (it drained, so it wants a mailbox here), or renews its
    /// registration. `false` when [`MAX_RECIPIENTS`] others hold registrations that
    /// have not lapsed.
    pub fn register(&self, recipient: &Ed25519Public) -> Result<bool, DeliveryError> {
        self.register_at(recipient, unix_now())
    }

    /// [`Mailbox::register`] at `now` (unix seconds).
    pub fn register_at(&self, recipient: &Ed25519Public, now: u64) -> Result<bool, DeliveryError> {
        let _g = self.lock.lock().map_err(|_| DeliveryError::Poisoned)?;
        let key = recipient_key(recipient);
        let cf = self.store.cf(CF_MAILBOX)?;
        if let Some(mut r) = registration(self.store.get(CF_MAILBOX, &key)?)? {
            r.drained = Some(now);
            // Not synced: a lost renewal only makes the registration lapse a drain sooner.
            let mut batch = WriteBatch::default();
            batch.put_cf(cf, &key, registration_bytes(&r));
            self.store.write(batch, false)?;
            return Ok(true);
        }
        let mut n = u64_at(&self.store, RECIPIENTS)?;
        let mut batch = WriteBatch::default();
        if n >= MAX_RECIPIENTS {
            let Some(lapsed) = self.longest_lapsed(now)? else {
                return Ok(false);
            };
            self.stage_forget(&mut batch, &lapsed)?;
            n = n.saturating_sub(1);
        }
        let fresh = Registration {
            frames: 0,
            bytes: 0,
            drained: Some(now),
        };
        batch.put_cf(cf, &key, registration_bytes(&fresh));
        batch.put_cf(cf, RECIPIENTS, (n + 1).to_be_bytes());
        self.store.write(batch, true)?;
        Ok(true)
    }

    /// The registration whose last drain is oldest among those older than the TTL.
    fn longest_lapsed(&self, now: u64) -> Result<Option<Ed25519Public>, DeliveryError> {
        let cf = self.store.cf(CF_MAILBOX)?;
        let iter = self
            .store
            .db()
            .iterator_cf(cf, IteratorMode::From(b"r", Direction::Forward));
        let mut oldest: Option<(u64, [u8; 32])> = None;
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(b"r") {
                break;
            }
            let Some(drained) = registration(Some(value.to_vec()))?.and_then(|r| r.drained) else {
                continue;
            };
            let lapsed = drained.saturating_add(REGISTRATION_TTL_SECS) < now;
            if lapsed && oldest.is_none_or(|(d, _)| drained < d) {
                let r: [u8; 32] = key
                    .get(1..33)
                    .and_then(|k| k.try_into().ok())
                    .ok_or(DeliveryError::Corrupt("mailbox key"))?;
                oldest = Some((drained, r));
            }
        }
        oldest
            .map(|(_, r)| {
                Ed25519Public::from_bytes(r).map_err(|_| DeliveryError::Corrupt("mailbox key"))
            })
            .transpose()
    }

    /// Stages the removal of a registration, its frames and its writers' counts.
    fn stage_forget(&self, batch: &mut WriteBatch, r: &Ed25519Public) -> Result<(), DeliveryError> {
        let cf = self.store.cf(CF_MAILBOX)?;
        let held = usage(self.store.get(CF_MAILBOX, &recipient_key(r))?)?.map_or(0, |u| u.1);
        for tag in [b"f", b"w"] {
            let prefix = [tag.as_slice(), r.as_bytes()].concat();
            let iter = self
                .store
                .db()
                .iterator_cf(cf, IteratorMode::From(&prefix, Direction::Forward));
            for item in iter {
                let (key, _) = item?;
                if !key.starts_with(&prefix) {
                    break;
                }
                batch.delete_cf(cf, &key);
            }
        }
        batch.delete_cf(cf, recipient_key(r));
        let total = u64_at(&self.store, TOTAL)?;
        batch.put_cf(cf, TOTAL, total.saturating_sub(held).to_be_bytes());
        Ok(())
    }

    /// Takes a deposit from `writer` (authenticated by the transport) and says what to
    /// answer. `Accepted` only once the frame is on disk.
    pub fn deposit(
        &self,
        writer: &Ed25519Public,
        frame: &Frame,
    ) -> Result<AckStatus, DeliveryError> {
        let refuse = |r| Ok(AckStatus::Refused(r));
        let Ok(deposit) = Deposit::parse(frame)
            .map_err(|_| ())
            .and_then(|d| if d.relay { Err(()) } else { Ok(d) })
        else {
            return refuse(RefuseReason::Malformed);
        };
        let Ok(recipient) = Ed25519Public::from_bytes(deposit.party) else {
            return refuse(RefuseReason::Malformed);
        };
        match (
            deposit.inner.kind(),
            Envelope::parse_from(deposit.inner.body(), Some(writer)),
        ) {
            (FrameKind::Initial, Ok(Envelope::Initial(initial))) => {
                if &initial.identity != writer {
                    return refuse(RefuseReason::Unauthorized);
                }
            }
            (FrameKind::Ratchet, Ok(Envelope::Message(_))) => {}
            _ => return refuse(RefuseReason::Malformed),
        }
        let _g = self.lock.lock().map_err(|_| DeliveryError::Poisoned)?;
        let rkey = recipient_key(&recipient);
        let Some(mut reg) = registration(self.store.get(CF_MAILBOX, &rkey)?)? else {
            return refuse(RefuseReason::MailboxRefused);
        };
        let fkey = frame_key(&recipient, writer, deposit.inner.seq());
        if self.store.get(CF_MAILBOX, &fkey)?.is_some() {
            return Ok(AckStatus::Duplicate);
        }
        let encoded = deposit.inner.encode();
        let len = encoded.len() as u64;
        let total = u64_at(&self.store, TOTAL)?;
        let wkey = writer_key(&recipient, writer);
        let (wframes, wbytes) = usage(self.store.get(CF_MAILBOX, &wkey)?)?.unwrap_or((0, 0));
        if reg.frames >= MAX_FRAMES_PER_RECIPIENT
            || reg.bytes.saturating_add(len) > MAX_BYTES_PER_RECIPIENT
            || wframes >= MAX_FRAMES_PER_WRITER
            || wbytes.saturating_add(len) > MAX_BYTES_PER_WRITER
            || total.saturating_add(len) > MAX_BYTES_TOTAL
        {
            return refuse(RefuseReason::MailboxRefused);
        }
        reg.frames += 1;
        reg.bytes += len;
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, &fkey, encoded);
        batch.put_cf(cf, &rkey, registration_bytes(&reg));
        batch.put_cf(cf, &wkey, usage_bytes(wframes + 1, wbytes + len));
        batch.put_cf(cf, TOTAL, (total + len).to_be_bytes());
        self.store.write(batch, true)?;
        Ok(AckStatus::Accepted)
    }

    /// Up to `max` frames held for `recipient`, each wrapped as the hand-on to send
    /// (a `Relay` frame, party = the original sender).
    pub fn pending(
        &self,
        recipient: &Ed25519Public,
        max: usize,
    ) -> Result<Vec<(Ed25519Public, Frame)>, DeliveryError> {
        let prefix = [b"f".as_slice(), recipient.as_bytes()].concat();
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_MAILBOX)?,
            IteratorMode::From(&prefix, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(&prefix) || out.len() >= max {
                break;
            }
            let sender: [u8; 32] = key
                .get(33..65)
                .and_then(|k| k.try_into().ok())
                .ok_or(DeliveryError::Corrupt("mailbox key"))?;
            let inner =
                Frame::parse(&value).map_err(|_| DeliveryError::Corrupt("mailbox frame"))?;
            let wrapped = Deposit::wrap_relay(sender, &inner)?;
            let sender = Ed25519Public::from_bytes(sender)
                .map_err(|_| DeliveryError::Corrupt("mailbox key"))?;
            out.push((sender, wrapped));
        }
        Ok(out)
    }

    /// The recipient acknowledged these (sender, seq) frames: forget them.
    pub fn delivered(
        &self,
        recipient: &Ed25519Public,
        done: &[(Ed25519Public, u64)],
    ) -> Result<(), DeliveryError> {
        let _g = self.lock.lock().map_err(|_| DeliveryError::Poisoned)?;
        let rkey = recipient_key(recipient);
        let Some(mut reg) = registration(self.store.get(CF_MAILBOX, &rkey)?)? else {
            return Ok(()); // lapsed and forgotten meanwhile
        };
        let mut total = u64_at(&self.store, TOTAL)?;
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut batch = WriteBatch::default();
        // Writers' counts change per frame; several frames of one writer share a count.
        let mut writers: std::collections::BTreeMap<Vec<u8>, (u64, u64)> = Default::default();
        for (sender, seq) in done {
            let fkey = frame_key(recipient, sender, *seq);
            if let Some(v) = self.store.get(CF_MAILBOX, &fkey)? {
                let len = v.len() as u64;
                batch.delete_cf(cf, &fkey);
                reg.frames = reg.frames.saturating_sub(1);
                reg.bytes = reg.bytes.saturating_sub(len);
                total = total.saturating_sub(len);
                let wkey = writer_key(recipient, sender);
                let w = match writers.get(&wkey) {
                    Some(w) => *w,
                    None => usage(self.store.get(CF_MAILBOX, &wkey)?)?.unwrap_or((0, 0)),
                };
                writers.insert(wkey, (w.0.saturating_sub(1), w.1.saturating_sub(len)));
            }
        }
        for (wkey, (frames, bytes)) in writers {
            if frames == 0 {
                batch.delete_cf(cf, &wkey);
            } else {
                batch.put_cf(cf, &wkey, usage_bytes(frames, bytes));
            }
        }
        batch.put_cf(cf, &rkey, registration_bytes(&reg));
        batch.put_cf(cf, TOTAL, total.to_be_bytes());
        // Not synced: a lost delete only means the recipient gets a Duplicate later.
        self.store.write(batch, false)?;
        Ok(())
    }

    /// Recipients with frames waiting (at most `max`).
    pub fn recipients_with_pending(&self, max: usize) -> Result<Vec<Ed25519Public>, DeliveryError> {
        let mut out: Vec<Ed25519Public> = Vec::new();
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut from = b"f".to_vec();
        while out.len() < max {
            let mut iter = self
                .store
                .db()
                .iterator_cf(cf, IteratorMode::From(&from, Direction::Forward));
            let Some(item) = iter.next() else { break };
            let (key, _) = item?;
            if !key.starts_with(b"f") {
                break;
            }
            let r: [u8; 32] = key
                .get(1..33)
                .and_then(|k| k.try_into().ok())
                .ok_or(DeliveryError::Corrupt("mailbox key"))?;
            out.push(
                Ed25519Public::from_bytes(r).map_err(|_| DeliveryError::Corrupt("mailbox key"))?,
            );
            from = [b"f".as_slice(), &r, &[0xff; 41]].concat();
        }
        Ok(out)
    }
}
