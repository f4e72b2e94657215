//! The send path: encrypt for a peer (starting a session from its bundle when there is
//! none), and stage the session, the outbox frame, the stream counter and the sealed
//! resend copy so one synced write makes the message durable.

// The parent's imports and private items (the lock, the staged writes, the codecs).
use super::*;

impl Mailroom {
    /// Encrypts `plaintext` for `peer` and makes it durable in the outbox. When this
    /// returns, the message will reach the peer's agent exactly once, whatever crashes.
    /// `bundle` is needed only when there is no session with the peer yet.
    pub fn send(
        &self,
        peer: &Ed25519Public,
        bundle: Option<&PreKeyBundle>,
        plaintext: &[u8],
    ) -> Result<Frame, DeliveryError> {
        self.send_many(&[(*peer, bundle, plaintext)])?
            .pop()
            .ok_or(DeliveryError::Corrupt("empty send result"))?
    }

    /// [`Self::send`] for several messages with one synced write (group commit). Each
    /// message gets its own result (a missing session fails that message only); the
    /// outer error means nothing was written.
    pub fn send_many(
        &self,
        items: &[(Ed25519Public, Option<&PreKeyBundle>, &[u8])],
    ) -> Result<Vec<Result<Frame, DeliveryError>>, DeliveryError> {
        let _guard = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut txn = Staged::new(&self.store);
        let mut out = Vec::with_capacity(items.len());
        // Each peer's session is unsealed once and sealed once per group, not per message.
        let mut sessions: HashMap<Ed25519Public, SessionRecord> = HashMap::new();
        for (peer, bundle, plaintext) in items {
            out.push(self.stage_send_cached(
                &mut txn,
                &mut sessions,
                peer,
                *bundle,
                groups::CONTENT_AGENT,
                plaintext,
            ));
        }
        for (peer, record) in &sessions {
            self.put_session(&mut txn, peer, record)?;
        }
        txn.commit()?;
        Ok(out)
    }

    pub(super) fn stage_send(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        bundle: Option<&PreKeyBundle>,
        content: u8,
        plaintext: &[u8],
    ) -> Result<Frame, DeliveryError> {
        let mut sessions = HashMap::new();
        let frame = self.stage_send_cached(txn, &mut sessions, peer, bundle, content, plaintext)?;
        for (peer, record) in &sessions {
            self.put_session(txn, peer, record)?;
        }
        Ok(frame)
    }

    /// [`Self::stage_send`] with the sessions kept in `sessions` (loaded on first use);
    /// the caller writes them to the transaction once it is done with them.
    pub(super) fn stage_send_cached(
        &self,
        txn: &mut Staged<'_>,
        sessions: &mut HashMap<Ed25519Public, SessionRecord>,
        peer: &Ed25519Public,
        bundle: Option<&PreKeyBundle>,
        content: u8,
        plaintext: &[u8],
    ) -> Result<Frame, DeliveryError> {
        let (mut record, fresh) = self.session_for(txn, sessions, peer, bundle)?;
        // Sends queued for the peer (refused ones waiting for a new session, group
        // traffic waiting for a first one) go first, so the stream keeps the agent's order.
        let drained = self.drain_queue(txn, peer, &mut record);
        // Queued sends staged on this session keep it, whatever becomes of the message.
        let keep = !matches!(drained, Ok(0));
        let result =
            drained.and_then(|_| self.encrypt_into(txn, peer, &mut record, content, plaintext));
        // The session goes back to the cache whatever happened (it only moved on if the
        // frame was staged); a session just started for a message that failed is dropped,
        // so a failed message leaves no trace.
        if result.is_ok() || !fresh || keep {
            sessions.insert(*peer, record);
        }
        result
    }

    /// The peer's session: from `sessions`, else from the store, else started from
    /// `bundle` (then `true`: nothing of it is stored yet).
    pub(super) fn session_for(
        &self,
        txn: &Staged<'_>,
        sessions: &mut HashMap<Ed25519Public, SessionRecord>,
        peer: &Ed25519Public,
        bundle: Option<&PreKeyBundle>,
    ) -> Result<(SessionRecord, bool), DeliveryError> {
        let cached = match sessions.remove(peer) {
            Some(r) => Some(r),
            None => self.load_session(txn, peer)?,
        };
        if let Some(r) = cached {
            return Ok((r, false));
        }
        let bundle = bundle
            .filter(|b| &b.identity == peer)
            .ok_or_else(|| DeliveryError::NoSession(short_id(peer)))?;
        let session = x3dh::initiate(&mut rand::rng(), &self.identity, bundle, self.config)
            .map_err(|source| DeliveryError::Handshake {
                peer: short_id(peer),
                source,
            })?;
        let record = SessionRecord {
            handshake: None,
            session,
            retired: None,
        };
        Ok((record, true))
    }

    /// Encrypts one message on `record` and stages its frame and stream counter. On
    /// error nothing is staged and `record` is unchanged.
    pub(super) fn encrypt_into(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        record: &mut SessionRecord,
        content: u8,
        plaintext: &[u8],
    ) -> Result<Frame, DeliveryError> {
        // The stream seq is sealed inside the ciphertext, so nobody who relays the frame
        // (a mailbox) can hand it on under another seq; then the content type (a message
        // for the agent, or group traffic).
        let seq = counter_in(txn, &next_out(peer))?;
        let mut sealed = Zeroizing::new(Vec::with_capacity(9 + plaintext.len()));
        sealed.extend_from_slice(&seq.to_be_bytes());
        sealed.push(content);
        sealed.extend_from_slice(plaintext);
        let mut staged = record.session.clone();
        let envelope = staged
            .encrypt_with_rng(&mut rand::rng(), &sealed)
            .map_err(|source| DeliveryError::Encrypt {
                peer: short_id(peer),
                source,
            })?;
        let kind = match envelope {
            Envelope::Initial(_) => FrameKind::Initial,
            Envelope::Message(_) => FrameKind::Ratchet,
        };
        let frame = Frame::new(kind, seq, envelope.encode())?;
        let after = next(seq)?;
        // The plaintext stays, sealed, until the frame is acknowledged: a peer that
        // refuses the frame (its prekey rotated out, it lost the session) gets it again
        // on a new session (`resend.rs`).
        self.put_resend(txn, peer, seq, sealed.get(8..).unwrap_or_default())?;
        txn.put(CF_OUTBOX, &frame_key(peer, seq), frame.encode())?;
        // Noted before the write commits: a write that then fails leaves the mark too
        // high, never too low. The sender trusts only "nothing that high" and reads the
        // outbox otherwise.
        self.outbox_high.note(peer, seq);
        txn.put(CF_STREAMS, &next_out(peer), after.to_be_bytes().to_vec())?;
        record.session = staged;
        Ok(frame)
    }
}

/// Peers whose highest frame seq is remembered; past it the record is cleared and the
/// sender reads the outbox (a `HashMap` entry is ~48 bytes: ~3 MiB at the bound).
const MAX_HIGH: usize = 65_536;

/// The highest seq given to a frame for each peer since the mailroom opened. The only
/// place frames are made is [`Mailroom::encrypt_into`], and a peer's stream counter never
/// goes back, so this bounds every seq in that peer's outbox: a sender whose cursor is
/// past it knows, without a blocking read, that nothing is queued.
#[derive(Default)]
pub(super) struct OutboxHigh(std::sync::Mutex<std::collections::HashMap<Ed25519Public, u64>>);

impl OutboxHigh {
    fn note(&self, peer: &Ed25519Public, seq: u64) {
        let Ok(mut m) = self.0.lock() else {
            return;
        };
        if m.len() >= MAX_HIGH && !m.contains_key(peer) {
            m.clear();
        }
        let high = m.entry(*peer).or_insert(seq);
        *high = (*high).max(seq);
    }

    pub(super) fn highest(&self, peer: &Ed25519Public) -> Option<u64> {
        self.0.lock().ok()?.get(peer).copied()
    }
}
