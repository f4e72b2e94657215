//! Reading and writing the sealed per-peer records the send and receive paths share: a
//! peer's session (sealed under the storage key, bound to the peer) and an inbox entry.

// The parent's imports and private items (the staged writes, the seals, the contexts).
use super::*;

impl Mailroom {
    pub(super) fn load_session(
        &self,
        txn: &Staged<'_>,
        peer: &Ed25519Public,
    ) -> Result<Option<SessionRecord>, DeliveryError> {
        let Some(sealed) = txn.get(CF_SESSIONS, peer.as_bytes())? else {
            return Ok(None);
        };
        let bytes = at_rest::open(&self.storage_key, &session_context(peer), &sealed)
            .map_err(|_| DeliveryError::Corrupt("session does not unseal"))?;
        // flags(1: bit 0 handshake, bit 1 retired) ‖ handshake(32) ‖ state, or with a
        // retired session: ... ‖ len(4) ‖ state ‖ retired state.
        let (flag, rest) = bytes
            .split_first()
            .ok_or(DeliveryError::Corrupt("session"))?;
        let (hs, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(DeliveryError::Corrupt("session"))?;
        // Sealed at rest (authenticated): its keys were checked when the session was made.
        let decode = |b: &[u8]| {
            Session::dangerous_decode_sealed(b).map_err(|_| DeliveryError::Corrupt("session state"))
        };
        let (session, retired) = if flag & 2 == 0 {
            (decode(rest)?, None)
        } else {
            let (len, rest) = rest
                .split_first_chunk::<4>()
                .ok_or(DeliveryError::Corrupt("session"))?;
            let len = u32::from_be_bytes(*len) as usize;
            if rest.len() < len {
                return Err(DeliveryError::Corrupt("session"));
            }
            let (active, retired) = rest.split_at(len);
            (decode(active)?, Some(decode(retired)?))
        };
        Ok(Some(SessionRecord {
            handshake: (flag & 1 == 1).then_some(*hs),
            session,
            retired,
        }))
    }

    pub(super) fn put_session(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        record: &SessionRecord,
    ) -> Result<(), DeliveryError> {
        let state = record.session.encode();
        let mut plain = Zeroizing::new(Vec::with_capacity(37 + 2 * state.len()));
        plain
            .push(u8::from(record.handshake.is_some()) | (u8::from(record.retired.is_some()) << 1));
        plain.extend_from_slice(&record.handshake.unwrap_or([0; 32]));
        match &record.retired {
            None => plain.extend_from_slice(&state),
            Some(retired) => {
                let len = u32::try_from(state.len())
                    .map_err(|_| DeliveryError::Corrupt("session state too large"))?;
                plain.extend_from_slice(&len.to_be_bytes());
                plain.extend_from_slice(&state);
                plain.extend_from_slice(&retired.encode());
            }
        }
        let sealed = at_rest::seal(
            &mut rand::rng(),
            &self.storage_key,
            &session_context(peer),
            &plain,
        );
        txn.put(CF_SESSIONS, peer.as_bytes(), sealed)
    }

    pub(super) fn put_inbox(
        &self,
        txn: &mut Staged<'_>,
        inbox_next: &mut u64,
        peer: &Ed25519Public,
        seq: u64,
        group: Option<&GroupId>,
        plaintext: &[u8],
    ) -> Result<(), DeliveryError> {
        let index = *inbox_next;
        // peer ‖ seq ‖ 0 ‖ body, or peer ‖ seq ‖ 1 ‖ group ‖ body.
        let mut plain = Zeroizing::new(Vec::with_capacity(73 + plaintext.len()));
        plain.extend_from_slice(peer.as_bytes());
        plain.extend_from_slice(&seq.to_be_bytes());
        match group {
            None => plain.push(0),
            Some(g) => {
                plain.push(1);
                plain.extend_from_slice(&g.0);
            }
        }
        plain.extend_from_slice(plaintext);
        let sealed = at_rest::seal(
            &mut rand::rng(),
            &self.storage_key,
            &inbox_context(index),
            &plain,
        );
        self.count_entry(txn, peer, index, sealed.len() as u64)?;
        txn.put(CF_INBOX, &index.to_be_bytes(), sealed)?;
        *inbox_next = next(index)?;
        // Raised before the write commits (see `Mailroom::inbox_may_hold`).
        self.inbox_end
            .fetch_max(*inbox_next, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}
