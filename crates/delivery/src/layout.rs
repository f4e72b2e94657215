//! Key layouts in the delivery column families. Fixed-width big-endian numbers, so
//! RocksDB's byte order is sequence order and a prefix scan walks one peer's stream.

use talos_primitives::Ed25519Public;

/// `streams` key: the next sequence number to send to a peer.
pub(crate) fn next_out(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'o')
}

/// `streams` key: the next sequence number expected from a peer.
pub(crate) fn next_in(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'i')
}

/// `streams` key: bytes of frames held ahead of a gap for a peer.
pub(crate) fn held_bytes(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'h')
}

/// `streams` key: bytes of held frames across all peers.
pub(crate) const HELD_TOTAL: &[u8] = b"held-total";

/// `streams` key prefix: a stream stopped at a relayed frame that did not open
/// (value: seq ‖ unix seconds since).
pub(crate) const STALLED: &[u8] = b"stall";

/// `streams` key: the stall marker of a peer's stream.
pub(crate) fn stalled(peer: &Ed25519Public) -> [u8; 37] {
    let mut k = [0u8; 37];
    k[..5].copy_from_slice(STALLED);
    k[5..].copy_from_slice(peer.as_bytes());
    k
}

/// `streams` key: the next inbox index.
pub(crate) const INBOX_NEXT: &[u8] = b"inbox-next";
/// `streams` key: the lowest inbox index that may still be stored (everything below was
/// acknowledged or expired), so a scan starts past the deleted entries' tombstones.
pub(crate) const INBOX_FIRST: &[u8] = b"inbox-first";
/// `streams` key: unread inbox entries and their bytes, in all (count ‖ bytes).
pub(crate) const INBOX_UNREAD: &[u8] = b"inbox-unread";
/// `streams` key prefix: `inbox-at` ‖ minute (unix seconds / 60) → the first inbox index
/// stored in that minute; what the retention setting reads entries' ages from.
pub(crate) const INBOX_AT: &[u8] = b"inbox-at";

/// `streams` key: the time marker of `minute`.
pub(crate) fn inbox_at(minute: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(INBOX_AT);
    k[8..].copy_from_slice(&minute.to_be_bytes());
    k
}

/// `streams` key: a peer's unread inbox entries and their bytes (count ‖ bytes).
pub(crate) fn unread(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'u')
}

/// `streams` key: the first seq from a peer whose audit event the node may not have
/// made durable yet, and the receive round that stored it (seq ‖ round).
pub(crate) fn unaudited(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'a')
}

/// `streams` key: a peer that has state here but never had anything take effect (its
/// place in the idle order).
pub(crate) fn idle_member(peer: &Ed25519Public) -> [u8; 33] {
    tagged(peer, b'x')
}

/// `streams` key prefix: `idle:` ‖ ordinal ‖ peer, oldest first.
pub(crate) const IDLE_ORDER: &[u8] = b"idle:";
/// `streams` key: how many peers are idle.
pub(crate) const IDLE_COUNT: &[u8] = b"idle-count";
/// `streams` key: the next idle ordinal.
pub(crate) const IDLE_NEXT: &[u8] = b"idle-next";

/// `streams` key: a peer's place in the idle order.
pub(crate) fn idle_order(ordinal: u64, peer: &Ed25519Public) -> [u8; 45] {
    let mut k = [0u8; 45];
    k[..5].copy_from_slice(IDLE_ORDER);
    k[5..13].copy_from_slice(&ordinal.to_be_bytes());
    k[13..].copy_from_slice(peer.as_bytes());
    k
}

/// A stored pair of numbers (0, 0 when absent).
pub(crate) fn pair(bytes: Option<Vec<u8>>) -> Option<(u64, u64)> {
    match bytes {
        None => Some((0, 0)),
        Some(b) => {
            let (a, rest) = b.split_first_chunk::<8>()?;
            let b: [u8; 8] = rest.try_into().ok()?;
            Some((u64::from_be_bytes(*a), u64::from_be_bytes(b)))
        }
    }
}

/// A pair of numbers as stored.
pub(crate) fn pair_bytes(a: u64, b: u64) -> Vec<u8> {
    [a.to_be_bytes(), b.to_be_bytes()].concat()
}
/// `streams` key: the sealed prekey store (the responder's secrets).
pub(crate) const PREKEYS: &[u8] = b"prekeys";
/// `streams` key: unix seconds of the last signed-prekey rotation.
pub(crate) const PREKEYS_ROTATED: &[u8] = b"prekeys-rotated";

fn tagged(peer: &Ed25519Public, tag: u8) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[..32].copy_from_slice(peer.as_bytes());
    k[32] = tag;
    k
}

/// `outbox` / `held` key: (peer, seq).
pub(crate) fn frame_key(peer: &Ed25519Public, seq: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(peer.as_bytes());
    k[32..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// A stored byte count (0 when absent).
pub(crate) fn amount(bytes: Option<Vec<u8>>) -> Option<u64> {
    match bytes {
        None => Some(0),
        Some(b) => <[u8; 8]>::try_from(b.as_slice())
            .ok()
            .map(u64::from_be_bytes),
    }
}

/// A stored u64 counter.
pub(crate) fn counter(bytes: Option<Vec<u8>>) -> Option<u64> {
    match bytes {
        None => Some(1),
        Some(b) => <[u8; 8]>::try_from(b.as_slice())
            .ok()
            .map(u64::from_be_bytes),
    }
}
