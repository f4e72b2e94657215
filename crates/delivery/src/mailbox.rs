//! The mailbox service: a node that holds ciphertext frames for recipients that are
//! offline, and hands them on when the recipient asks (a `Drain` frame).
//!
//! - Recipients register by draining once; frames for unregistered recipients are
//!   refused, so nobody can park data here in the name of a key that never asked.
//! - Only session frames are accepted: the deposited frame must parse as an Initial or
//!   Ratchet frame whose body is a ratchet envelope, and an Initial message must carry
//!   the depositing writer's own identity key. The mailbox never sees plaintext.
//! - Bounded per recipient (frames and bytes), in the number of recipients, and in total.
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

const TOTAL: &[u8] = b"t";
const RECIPIENTS: &[u8] = b"n";

fn recipient_key(r: &Ed25519Public) -> Vec<u8> {
    [b"r".as_slice(), r.as_bytes()].concat()
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

/// Per-recipient usage: (frames, bytes).
fn usage(v: Option<Vec<u8>>) -> Result<Option<(u64, u64)>, DeliveryError> {
    let Some(b) = v else { return Ok(None) };
    let (f, rest) = b
        .split_first_chunk::<8>()
        .ok_or(DeliveryError::Corrupt("mailbox usage"))?;
    let bytes = <[u8; 8]>::try_from(rest).map_err(|_| DeliveryError::Corrupt("mailbox usage"))?;
    Ok(Some((u64::from_be_bytes(*f), u64::from_be_bytes(bytes))))
}

fn usage_bytes(frames: u64, bytes: u64) -> Vec<u8> {
    [frames.to_be_bytes(), bytes.to_be_bytes()].concat()
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

    /// Registers `recipient` (it drained, so it wants a mailbox here). `false` when the
    /// mailbox already serves [`MAX_RECIPIENTS`] others.
    pub fn register(&self, recipient: &Ed25519Public) -> Result<bool, DeliveryError> {
        let _g = self.lock.lock().map_err(|_| DeliveryError::Poisoned)?;
        let key = recipient_key(recipient);
        if self.store.get(CF_MAILBOX, &key)?.is_some() {
            return Ok(true);
        }
        let n = u64_at(&self.store, RECIPIENTS)?;
        if n >= MAX_RECIPIENTS {
            return Ok(false);
        }
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, &key, usage_bytes(0, 0));
        batch.put_cf(cf, RECIPIENTS, (n + 1).to_be_bytes());
        self.store.write(batch, true)?;
        Ok(true)
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
        match (deposit.inner.kind(), Envelope::parse(deposit.inner.body())) {
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
        let Some((frames, bytes)) = usage(self.store.get(CF_MAILBOX, &rkey)?)? else {
            return refuse(RefuseReason::MailboxRefused);
        };
        let fkey = frame_key(&recipient, writer, deposit.inner.seq());
        if self.store.get(CF_MAILBOX, &fkey)?.is_some() {
            return Ok(AckStatus::Duplicate);
        }
        let encoded = deposit.inner.encode();
        let len = encoded.len() as u64;
        let total = u64_at(&self.store, TOTAL)?;
        if frames >= MAX_FRAMES_PER_RECIPIENT
            || bytes.saturating_add(len) > MAX_BYTES_PER_RECIPIENT
            || total.saturating_add(len) > MAX_BYTES_TOTAL
        {
            return refuse(RefuseReason::MailboxRefused);
        }
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, &fkey, encoded);
        batch.put_cf(cf, &rkey, usage_bytes(frames + 1, bytes + len));
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
        let (mut frames, mut bytes) = usage(self.store.get(CF_MAILBOX, &rkey)?)?.unwrap_or((0, 0));
        let mut total = u64_at(&self.store, TOTAL)?;
        let cf = self.store.cf(CF_MAILBOX)?;
        let mut batch = WriteBatch::default();
        for (sender, seq) in done {
            let fkey = frame_key(recipient, sender, *seq);
            if let Some(v) = self.store.get(CF_MAILBOX, &fkey)? {
                let len = v.len() as u64;
                batch.delete_cf(cf, &fkey);
                frames = frames.saturating_sub(1);
                bytes = bytes.saturating_sub(len);
                total = total.saturating_sub(len);
            }
        }
        batch.put_cf(cf, &rkey, usage_bytes(frames, bytes));
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
