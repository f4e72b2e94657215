//! Ratchet benchmarks, side by side with vodozemac (Olm) in the same run: message
//! encryption at 35 B and 10 KB, the DH-ratchet ping-pong round trip, and session setup
//! (X3DH, PQXDH; vodozemac's Olm 3DH).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use talos_identity::{IdentityKey, IdentitySeed};
use talos_ratchet::{Envelope, Message, PqPolicy, PreKeyStore, Session, SessionConfig, x3dh};
use vodozemac::olm::{
    Account, AccountPickle, OlmMessage, Session as OlmSession, SessionConfig as OlmConfig,
};

fn key(n: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([n; 32])).unwrap()
}

fn msg(env: Envelope) -> Message {
    match env {
        Envelope::Message(m) => m,
        Envelope::Initial(i) => i.message,
    }
}

/// An established talos session pair (both sides have sent and received).
fn talos_pair(header_encryption: bool) -> (Session, Session) {
    let (alice, bob) = (key(1), key(2));
    let mut store = PreKeyStore::new(&mut rand::rng(), &bob, false).unwrap();
    store
        .generate_one_time_prekeys(&mut rand::rng(), 1)
        .unwrap();
    let bundle = store.bundle(&bob, store.next_one_time_id()).unwrap();
    let cfg = SessionConfig {
        header_encryption,
        ..SessionConfig::default()
    };
    let mut a = x3dh::initiate(&mut rand::rng(), &alice, &bundle, cfg).unwrap();
    let Envelope::Initial(init) = a.encrypt(b"hi").unwrap() else {
        panic!()
    };
    let (mut b, _) = x3dh::respond(&bob, &mut store, &init, cfg).unwrap();
    a.decrypt(&msg(b.encrypt(b"hi").unwrap())).unwrap();
    (a, b)
}

/// An established vodozemac Olm session pair.
fn olm_pair() -> (OlmSession, OlmSession) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice
        .create_outbound_session(OlmConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let OlmMessage::PreKey(pre) = a.encrypt(b"hi").unwrap() else {
        panic!()
    };
    let mut b = bob
        .create_inbound_session(OlmConfig::version_1(), alice.curve25519_key(), &pre)
        .unwrap()
        .session;
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    (a, b)
}

fn encrypt(c: &mut Criterion) {
    for size in [35usize, 10 * 1024] {
        let mut g = c.benchmark_group(format!("ratchet/encrypt_{size}B"));
        g.throughput(Throughput::Elements(1));
        let body = vec![0x5a; size];
        let (mut a, _) = talos_pair(false);
        g.bench_function("talos", |bch| {
            bch.iter(|| black_box(a.encrypt(black_box(&body)).unwrap()))
        });
        let (mut a, _) = talos_pair(true);
        g.bench_function("talos_header_encryption", |bch| {
            bch.iter(|| black_box(a.encrypt(black_box(&body)).unwrap()))
        });
        let (mut o, _) = olm_pair();
        g.bench_function("vodozemac", |bch| {
            bch.iter(|| black_box(o.encrypt(black_box(&body)).unwrap()))
        });
        g.finish();
    }
}

fn same_chain_round(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet/encrypt_decrypt_35B_same_chain");
    g.throughput(Throughput::Elements(1));
    let body = [0x5a; 35];
    let (mut a, mut b) = talos_pair(false);
    g.bench_function("talos", |bch| {
        bch.iter(|| {
            let m = msg(a.encrypt(&body).unwrap());
            black_box(b.decrypt(&m).unwrap())
        })
    });
    let (mut oa, mut ob) = olm_pair();
    g.bench_function("vodozemac", |bch| {
        bch.iter(|| {
            let m = oa.encrypt(body).unwrap();
            black_box(ob.decrypt(&m).unwrap())
        })
    });
    g.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet/dh_ratchet_ping_pong");
    let body = [0x5a; 35];
    let (mut a, mut b) = talos_pair(false);
    g.bench_function("talos", |bch| {
        bch.iter(|| {
            b.decrypt(&msg(a.encrypt(&body).unwrap())).unwrap();
            black_box(a.decrypt(&msg(b.encrypt(&body).unwrap())).unwrap())
        })
    });
    let (mut a, mut b) = talos_pair(true);
    g.bench_function("talos_header_encryption", |bch| {
        bch.iter(|| {
            b.decrypt(&msg(a.encrypt(&body).unwrap())).unwrap();
            black_box(a.decrypt(&msg(b.encrypt(&body).unwrap())).unwrap())
        })
    });
    let (mut oa, mut ob) = olm_pair();
    g.bench_function("vodozemac", |bch| {
        bch.iter(|| {
            ob.decrypt(&oa.encrypt(body).unwrap()).unwrap();
            black_box(oa.decrypt(&ob.encrypt(body).unwrap()).unwrap())
        })
    });
    g.finish();
}

/// Session setup, both sides: the initiator's handshake and first message, the
/// responder's handshake and decryption of it.
fn setup(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet/session_setup");
    let (alice, bob) = (key(1), key(2));
    for (name, pq) in [("talos_x3dh", false), ("talos_pqxdh", true)] {
        let mut store = PreKeyStore::new(&mut rand::rng(), &bob, pq).unwrap();
        store
            .generate_one_time_prekeys(&mut rand::rng(), 1)
            .unwrap();
        let bundle = store.bundle(&bob, store.next_one_time_id()).unwrap();
        let cfg = SessionConfig {
            pq: if pq { PqPolicy::Require } else { PqPolicy::Off },
            ..SessionConfig::default()
        };
        g.bench_function(name, |bch| {
            bch.iter_batched(
                || store.clone(),
                |mut store| {
                    let mut a = x3dh::initiate(&mut rand::rng(), &alice, &bundle, cfg).unwrap();
                    let Envelope::Initial(init) = a.encrypt(b"hello").unwrap() else {
                        panic!()
                    };
                    black_box(x3dh::respond(&bob, &mut store, &init, cfg).unwrap())
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    // Each side on its own: what one node spends on a new session.
    let mut g = c.benchmark_group("ratchet/session_setup_per_side");
    for (name, pq) in [("x3dh", false), ("pqxdh", true)] {
        let mut store = PreKeyStore::new(&mut rand::rng(), &bob, pq).unwrap();
        store
            .generate_one_time_prekeys(&mut rand::rng(), 1)
            .unwrap();
        let bundle = store.bundle(&bob, store.next_one_time_id()).unwrap();
        let cfg = SessionConfig {
            pq: if pq { PqPolicy::Require } else { PqPolicy::Off },
            ..SessionConfig::default()
        };
        g.bench_function(format!("talos_{name}_initiator"), |bch| {
            bch.iter(|| {
                let mut a = x3dh::initiate(&mut rand::rng(), &alice, &bundle, cfg).unwrap();
                black_box(a.encrypt(b"hello").unwrap())
            })
        });
        let mut a = x3dh::initiate(&mut rand::rng(), &alice, &bundle, cfg).unwrap();
        let Envelope::Initial(init) = a.encrypt(b"hello").unwrap() else {
            panic!()
        };
        g.bench_function(format!("talos_{name}_responder"), |bch| {
            bch.iter_batched(
                || store.clone(),
                |mut store| black_box(x3dh::respond(&bob, &mut store, &init, cfg).unwrap()),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("ratchet/session_setup");
    let oa = Account::new();
    let mut ob = Account::new();
    ob.generate_one_time_keys(1);
    let otk = *ob.one_time_keys().values().next().unwrap();
    let pickle_key = [7u8; 32];
    let pickle = ob.pickle().encrypt(&pickle_key);
    let ob_id = ob.curve25519_key();
    g.bench_function("vodozemac_olm_3dh", |bch| {
        bch.iter_batched(
            || Account::from_pickle(AccountPickle::from_encrypted(&pickle, &pickle_key).unwrap()),
            |mut ob| {
                let mut s = oa
                    .create_outbound_session(OlmConfig::version_1(), ob_id, otk)
                    .unwrap();
                let OlmMessage::PreKey(pre) = s.encrypt(b"hello").unwrap() else {
                    panic!()
                };
                black_box(
                    ob.create_inbound_session(OlmConfig::version_1(), oa.curve25519_key(), &pre)
                        .unwrap(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The AEAD under every message and every record sealed at rest: talos_ratchet's (ring)
/// beside the RustCrypto `chacha20poly1305` crate it replaced, at the sizes a message
/// moves (a 35-byte body, a session record, an initial message with its KEM ciphertext).
fn aead(c: &mut Criterion) {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    for size in [48usize, 400, 1300] {
        let mut g = c.benchmark_group(format!("aead/seal_{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let (key, nonce, body) = ([7u8; 32], [1u8; 12], vec![0x42u8; size]);
        g.bench_function("talos_ring", |bch| {
            bch.iter(|| {
                let mut out = Vec::with_capacity(size + 16);
                talos_ratchet::aead::seal(&key, &nonce, &[b"ad"], &body, &mut out);
                out
            })
        });
        g.bench_function("rustcrypto_chacha20poly1305", |bch| {
            bch.iter(|| {
                let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
                let mut out = body.clone();
                let tag = cipher
                    .encrypt_inout_detached(&nonce.into(), b"ad", out.as_mut_slice().into())
                    .unwrap();
                out.extend_from_slice(&tag);
                out
            })
        });
        g.finish();
    }
}

criterion_group!(benches, encrypt, same_chain_round, ping_pong, setup, aead);
criterion_main!(benches);
