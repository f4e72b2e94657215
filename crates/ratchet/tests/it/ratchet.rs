use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use talos_ratchet::message::Message;
use talos_ratchet::session::{DecryptError, MAX_SKIP, MAX_SKIPPED_TOTAL, Session};
use talos_ratchet::x3dh::SessionConfig;

use crate::common::{message_of, pair};

fn configs() -> [SessionConfig; 2] {
    [
        SessionConfig::default(),
        SessionConfig {
            header_encryption: true,
            ..SessionConfig::default()
        },
    ]
}

/// libsignal-style interaction test: 2,000 random steps of send / deliver in order /
/// deliver out of order / drop / duplicate between two parties. Every message delivered
/// for the first time must decrypt to what was sent; every duplicate must be refused as
/// a duplicate and leave the state unchanged.
#[test]
fn interaction_2000_random_steps() {
    for (seed, config) in configs().into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(0x7a105 + seed as u64);
        let (a, b) = pair(config);
        let mut parties = [a, b];
        // In flight, per direction: (message, plaintext).
        let mut wire: [Vec<(Message, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
        let mut delivered: [Vec<Message>; 2] = [Vec::new(), Vec::new()];
        let (mut ok, mut dups, mut dropped) = (0u32, 0u32, 0u32);
        for step in 0..2000u32 {
            let from = rng.random_range(0..2usize);
            let to = 1 - from;
            match rng.random_range(0..10u8) {
                0..=3 => {
                    let mut body = vec![0u8; rng.random_range(0..200)];
                    rng.fill_bytes(&mut body);
                    body.extend_from_slice(&step.to_be_bytes());
                    // The responder cannot send before its first message; it always has here.
                    let env = parties[from].encrypt(&body).unwrap();
                    wire[from].push((message_of(env), body));
                }
                4..=5 if !wire[from].is_empty() => {
                    let (m, body) = wire[from].remove(0);
                    let age = step - u32::from_be_bytes(body[body.len() - 4..].try_into().unwrap());
                    assert_eq!(
                        parties[to].decrypt(&m).unwrap(),
                        body,
                        "step {step} age {age} seed {seed}"
                    );
                    delivered[to].push(m);
                    ok += 1;
                }
                6..=7 if !wire[from].is_empty() => {
                    let i = rng.random_range(0..wire[from].len());
                    let (m, body) = wire[from].remove(i);
                    let age = step - u32::from_be_bytes(body[body.len() - 4..].try_into().unwrap());
                    assert_eq!(
                        parties[to].decrypt(&m).unwrap(),
                        body,
                        "step {step} age {age} seed {seed} i {i}"
                    );
                    delivered[to].push(m);
                    ok += 1;
                }
                8 if !wire[from].is_empty() => {
                    let i = rng.random_range(0..wire[from].len());
                    wire[from].remove(i);
                    dropped += 1;
                }
                9 if !delivered[to].is_empty() => {
                    let i = rng.random_range(0..delivered[to].len());
                    let before = parties[to].encode();
                    let err = parties[to].decrypt(&delivered[to][i]).unwrap_err();
                    // Recent replays are named as duplicates; a replay from a chain older
                    // than MAX_RECEIVING_CHAINS ratchet steps looks like a forged new chain
                    // and fails authentication. Either way it is refused, state untouched.
                    let recent = delivered[to].len() - i <= 64;
                    assert!(
                        matches!(err, DecryptError::Duplicate { .. })
                            || (!recent
                                && matches!(
                                    err,
                                    DecryptError::Authentication | DecryptError::UnknownHeaderKey
                                )),
                        "step {step}: {err:?}"
                    );
                    assert_eq!(*before, *parties[to].encode());
                    dups += 1;
                }
                _ => {}
            }
        }
        // Drain what is left: everything still in flight decrypts.
        for from in 0..2 {
            for (m, body) in std::mem::take(&mut wire[from]) {
                assert_eq!(parties[1 - from].decrypt(&m).unwrap(), body);
                ok += 1;
            }
        }
        assert!(
            ok > 600 && dups > 100 && dropped > 50,
            "ok {ok} dups {dups} dropped {dropped}"
        );
    }
}

fn send_n(s: &mut Session, n: u32) -> Vec<Message> {
    (0..n)
        .map(|i| message_of(s.encrypt(&i.to_be_bytes()).unwrap()))
        .collect()
}

#[test]
fn max_skip_plus_one_is_refused_and_max_skip_is_not() {
    for config in configs() {
        let (mut a, mut b) = pair(config);
        let msgs = send_n(&mut a, MAX_SKIP + 2);
        // Message MAX_SKIP + 1 skips 1001 keys: refused, state unchanged.
        let before = b.encode();
        let err = b.decrypt(&msgs[(MAX_SKIP + 1) as usize]).unwrap_err();
        assert_eq!(
            err,
            DecryptError::TooManySkipped {
                skipped: u64::from(MAX_SKIP) + 1
            }
        );
        assert_eq!(*before, *b.encode());
        // Message MAX_SKIP skips exactly 1000: accepted, and all skipped keys are held.
        b.decrypt(&msgs[MAX_SKIP as usize]).unwrap();
        assert_eq!(b.skipped_keys(), MAX_SKIP as usize);
        assert_eq!(b.decrypt(&msgs[0]).unwrap(), 0u32.to_be_bytes());
        assert_eq!(
            b.decrypt(&msgs[(MAX_SKIP + 1) as usize]).unwrap(),
            (MAX_SKIP + 1).to_be_bytes()
        );
    }
}

#[test]
fn total_cap_evicts_oldest_first_with_a_typed_error() {
    for config in configs() {
        let (mut a, mut b) = pair(config);
        let mut chains = Vec::new();
        for _ in 0..3 {
            // Each chain skips MAX_SKIP keys on Bob's side; then Bob answers to ratchet.
            let msgs = send_n(&mut a, MAX_SKIP + 1);
            b.decrypt(msgs.last().unwrap()).unwrap();
            let reply = message_of(b.encrypt(b"ack").unwrap());
            a.decrypt(&reply).unwrap();
            chains.push(msgs);
        }
        assert_eq!(b.skipped_keys(), MAX_SKIPPED_TOTAL);
        // The first chain's skipped keys were the oldest: evicted, each with its own error.
        let before = b.encode();
        // (Alice's first chain began with the handshake's message, so its numbers start at 1.)
        assert_eq!(
            b.decrypt(&chains[0][0]).unwrap_err(),
            DecryptError::SkippedKeyEvicted { n: 1 }
        );
        assert_eq!(
            b.decrypt(&chains[0][999]).unwrap_err(),
            DecryptError::SkippedKeyEvicted { n: 1000 }
        );
        assert_eq!(*before, *b.encode());
        // The later chains are intact.
        assert_eq!(b.decrypt(&chains[1][0]).unwrap(), 0u32.to_be_bytes());
        assert_eq!(b.decrypt(&chains[2][999]).unwrap(), 999u32.to_be_bytes());
        // And a message already decrypted is a duplicate, not an eviction.
        assert_eq!(
            b.decrypt(&chains[1][0]).unwrap_err(),
            DecryptError::Duplicate { n: 0 }
        );
    }
}

/// Flips every bit of a message (header and ciphertext); each flip is refused and the
/// session's encoding stays byte-identical. Covers both a same-chain message and one that
/// starts a new DH ratchet step.
#[test]
fn every_single_bit_flip_is_rejected_and_state_unchanged() {
    for config in configs() {
        let (mut a, mut b) = pair(config);
        let first = message_of(b.encrypt(&[7u8; 35]).unwrap()); // a new ratchet step for Alice
        let _ = a.decrypt(&first).unwrap();
        let _ = message_of(b.encrypt(b"x").unwrap());
        let same_chain = message_of(b.encrypt(&[9u8; 35]).unwrap()); // same chain, n = 2
        let ratchet = message_of(a.encrypt(&[1u8; 35]).unwrap()); // a new ratchet step for Bob
        for (receiver, msg) in [(&mut a, same_chain), (&mut b, ratchet)] {
            let before = receiver.encode();
            let bytes = msg.as_bytes().to_vec();
            for bit in 0..bytes.len() * 8 {
                let mut flipped = bytes.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                if let Ok(m) = Message::parse(&flipped) {
                    assert!(receiver.decrypt(&m).is_err(), "bit {bit} accepted");
                }
                assert_eq!(*before, *receiver.encode(), "bit {bit} changed state");
            }
            assert!(receiver.decrypt(&msg).is_ok());
        }
    }
}

#[test]
fn state_round_trips_and_resumes() {
    for config in configs() {
        let (mut a, mut b) = pair(config);
        let msgs = send_n(&mut a, 5);
        b.decrypt(&msgs[3]).unwrap();
        let bytes = b.encode();
        let mut b2 = Session::decode(&bytes).unwrap();
        assert_eq!(*b2.encode(), *bytes);
        assert_eq!(b2.decrypt(&msgs[1]).unwrap(), 1u32.to_be_bytes());
        let reply = message_of(b2.encrypt(b"resumed").unwrap());
        assert_eq!(a.decrypt(&reply).unwrap(), b"resumed");
        // Any truncation or trailing byte is a typed error, never a panic.
        for cut in 0..bytes.len() {
            assert!(Session::decode(&bytes[..cut]).is_err());
        }
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(Session::decode(&long).is_err());
    }
}

#[test]
fn sealed_state_binds_key_and_context() {
    use talos_ratchet::at_rest::{StorageKey, UnsealError, open, seal};
    let (a, _) = pair(SessionConfig::default());
    let key = StorageKey::generate(&mut rand::rng());
    let plain = a.encode();
    let sealed = seal(&mut rand::rng(), &key, a.handshake_id(), &plain);
    assert_eq!(*open(&key, a.handshake_id(), &sealed).unwrap(), *plain);
    assert_eq!(
        open(&key, b"other session", &sealed).unwrap_err(),
        UnsealError::Authentication
    );
    let other = StorageKey::generate(&mut rand::rng());
    assert_eq!(
        open(&other, a.handshake_id(), &sealed).unwrap_err(),
        UnsealError::Authentication
    );
    assert_eq!(
        open(&key, a.handshake_id(), &sealed[..3]).unwrap_err(),
        UnsealError::Format
    );
}
