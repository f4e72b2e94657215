//! Identity benchmarks: sign and verify, did:key parse, JCS canonicalization + SHA-256.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use std::hint::black_box;
use talos_identity::{Did, IdentityKey, IdentitySeed, jcs, keys};

/// A ~200-byte object shaped like an audit event.
#[derive(Serialize)]
struct Event<'a> {
    kind: &'a str,
    agent: &'a str,
    capability: &'a str,
    resource: &'a str,
    action: &'a str,
    seq: u64,
    ts: u64,
}

fn identity(c: &mut Criterion) {
    let key = IdentityKey::from_seed(&IdentitySeed::from_bytes([7; 32])).unwrap();
    let msg = [0x42u8; 64];
    let sig = key.sign(&msg);
    let public = key.public();
    let dalek_vk = ed25519_dalek::VerifyingKey::from_bytes(public.as_bytes()).unwrap();
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig.0);

    let mut g = c.benchmark_group("ed25519");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign_64B", |b| b.iter(|| key.sign(black_box(&msg))));
    g.bench_function("verify_strict_64B", |b| {
        b.iter(|| keys::verify(black_box(&public), black_box(&msg), black_box(&sig)).unwrap())
    });
    // The bare dalek call, to show our wrapper adds nothing measurable.
    g.bench_function("dalek_verify_strict_64B", |b| {
        b.iter(|| {
            dalek_vk
                .verify_strict(black_box(&msg), black_box(&dalek_sig))
                .unwrap()
        })
    });
    g.finish();

    let did = key.did().to_string();
    let mut g = c.benchmark_group("did_key");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| b.iter(|| Did::parse(black_box(&did)).unwrap()));
    g.bench_function("encode", |b| b.iter(|| black_box(&key.did()).to_string()));
    g.finish();

    let did_s = did.clone();
    let event = Event {
        kind: "capability.used",
        agent: &did_s,
        capability: "7f3a9c0e5b2d4f61a8c7e9d0b1f2a3c4",
        resource: "talos://booking/flights/LHR-JFK",
        action: "invoke",
        seq: 4242,
        ts: 1_763_780_000,
    };
    let len = jcs::canonicalize(&event).unwrap().len();
    assert!((180..=240).contains(&len), "event is {len} bytes");
    let mut g = c.benchmark_group("jcs");
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("canonicalize_sha256_{len}B"), |b| {
        b.iter(|| jcs::digest(black_box(&event)).unwrap())
    });
    g.bench_function(format!("canonicalize_{len}B"), |b| {
        b.iter(|| jcs::canonicalize(black_box(&event)).unwrap())
    });
    // The crates.io JCS implementation, for the ratio.
    g.bench_function(format!("serde_jcs_sha256_{len}B"), |b| {
        b.iter(|| {
            use sha2::Digest;
            sha2::Sha256::digest(serde_jcs::to_vec(black_box(&event)).unwrap())
        })
    });
    let value = serde_json::to_value(&event).unwrap();
    g.bench_function(format!("canonicalize_sha256_value_{len}B"), |b| {
        b.iter(|| jcs::digest(black_box(&value)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, identity);
criterion_main!(benches);
