//! The replay cache is per caller and its floors never pass now (finding #6 of issue 17:
//! one caller sending calls dated ahead raised the shared floor past every honest clock).
//! Dates here are milliseconds, as at the node's gate.

use talos_capability::CapError;
use talos_capability::nonce::ReplayCache;

const NOW: u64 = 1_750_000_000_000;
/// The gate's window and limits.
const TTL: u64 = 300_000;
const NONCES: usize = 65_536;
const PER_CALLER: usize = 8_192;
const CALLERS: usize = 1_024;

/// A nonce unique to (caller, i).
fn nonce(caller: u8, i: u32) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[0] = caller;
    n[1..5].copy_from_slice(&i.to_be_bytes());
    n
}

#[test]
fn replay_cache_one_fast_clock_caller_cannot_lock_out_nine_honest_ones() {
    let mut cache = ReplayCache::with_limits(TTL, NONCES, PER_CALLER, CALLERS);
    let fast = 0u8;
    // More calls than the whole old shared cache held (65,536), each dated 29 s ahead
    // (within the gate's 30 s skew). Its own share fills; after that it is refused, as
    // forgetting a nonce dated ahead of now would need a floor past now.
    let ahead = NOW + 29_000;
    let mut accepted = 0;
    for i in 0..70_000 {
        match cache.check(&fast, nonce(fast, i), ahead, NOW) {
            Ok(()) => accepted += 1,
            Err(e) => assert_eq!(e, CapError::Replay),
        }
    }
    assert_eq!(accepted, PER_CALLER);
    assert_eq!(cache.len(), PER_CALLER);

    // Nine honest callers with correct clocks: calls dated now and a second ago, in
    // any order, a few milliseconds apart, are all accepted.
    for step in 0..200u32 {
        let now = NOW + u64::from(step);
        for caller in 1..=9u8 {
            cache
                .check(&caller, nonce(caller, 2 * step), now, now)
                .unwrap_or_else(|e| panic!("caller {caller} at now refused: {e:?}"));
            cache
                .check(&caller, nonce(caller, 2 * step + 1), now - 1_000, now)
                .unwrap_or_else(|e| panic!("caller {caller} at now-1s refused: {e:?}"));
        }
    }
    assert_eq!(cache.callers(), 10);

    // Any replay of an exact nonce is still refused, the fast caller's too, before and
    // after its dates come due. (A replay is by the same caller: the caller is the key
    // that signed the call or owns the connection, checked before the cache.)
    let now = NOW + 200;
    for caller in 1..=9u8 {
        assert_eq!(
            cache.check(&caller, nonce(caller, 0), NOW, now),
            Err(CapError::Replay)
        );
        assert_eq!(
            cache.check(&caller, nonce(caller, 1), NOW - 1_000, now),
            Err(CapError::Replay)
        );
    }
    assert_eq!(
        cache.check(&fast, nonce(fast, 0), ahead, now),
        Err(CapError::Replay)
    );
    let due = ahead + 1;
    assert_eq!(
        cache.check(&fast, nonce(fast, 0), ahead, due),
        Err(CapError::Replay)
    );
    // Once its dates have passed, the fast caller's oldest can be forgotten (its floor
    // rising to that date, now in the past) and it can call again at the right time.
    cache.check(&fast, nonce(fast, 100_000), due, due).unwrap();
    assert_eq!(
        cache.check(&fast, nonce(fast, 1), ahead, due),
        Err(CapError::Replay)
    );
}

#[test]
fn replay_cache_forgotten_caller_stays_closed() {
    // Room for two callers: a third makes the least recently used one go.
    let mut cache = ReplayCache::with_limits(TTL, 100, 10, 2);
    let (a, b, c) = (1u8, 2u8, 3u8);
    cache.check(&a, nonce(a, 0), NOW, NOW).unwrap();
    cache.check(&b, nonce(b, 0), NOW, NOW).unwrap();
    cache.check(&c, nonce(c, 0), NOW + 1, NOW + 1).unwrap();
    assert_eq!(cache.callers(), 2);
    // A was forgotten: its nonce is not remembered, but its floor was kept.
    assert_eq!(
        cache.check(&a, nonce(a, 0), NOW, NOW + 2),
        Err(CapError::Replay)
    );
    // A fresh call from A is fine (B goes), and B's old nonce stays refused.
    cache.check(&a, nonce(a, 1), NOW + 2, NOW + 2).unwrap();
    assert_eq!(
        cache.check(&b, nonce(b, 0), NOW, NOW + 3),
        Err(CapError::Replay)
    );
}

#[test]
fn replay_cache_floor_never_passes_now() {
    let mut cache = ReplayCache::with_limits(TTL, 100, 2, 1);
    let (fast, other) = (1u8, 2u8);
    let ahead = NOW + 20_000;
    cache.check(&fast, nonce(fast, 0), ahead, NOW).unwrap();
    cache.check(&fast, nonce(fast, 1), ahead, NOW).unwrap();
    // Its share is full of calls dated ahead: it is refused, even dated now, rather
    // than its floor passing now.
    assert_eq!(
        cache.check(&fast, nonce(fast, 2), NOW, NOW),
        Err(CapError::Replay)
    );
    // And it is not forgotten while those calls are due (that would need a floor past
    // now): a newcomer is refused while the only slot is pinned, failing closed.
    assert_eq!(
        cache.check(&other, nonce(other, 0), NOW, NOW),
        Err(CapError::Replay)
    );
    // Once they are due, it may be forgotten; its replays stay refused.
    let later = ahead + 1;
    cache.check(&other, nonce(other, 0), later, later).unwrap();
    assert_eq!(
        cache.check(&fast, nonce(fast, 0), ahead, later),
        Err(CapError::Replay)
    );
}
