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
