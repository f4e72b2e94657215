//! Audit log benchmarks, side by side with plain rs_merkle usage.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use talos_audit::hash::{leaf_hash, node_hash};
use talos_audit::tree::inclusion_proof;
use talos_audit::{MemoryTree, verify_inclusion};
use talos_primitives::Hash32;
use talos_store::{AuditLog, LogConfig};

const MILLION: u64 = 1_000_000;

#[derive(Clone)]
struct Rfc9162;
impl rs_merkle::Hasher for Rfc9162 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        leaf_hash(data).0
    }
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => node_hash(&Hash32(*left), &Hash32(*r)).0,
            None => *left,
        }
    }
}

/// A ~200-byte event body, different per index.
fn event(i: u64) -> Vec<u8> {
    let mut v = format!("{{\"agent\":\"did:key:z6MkkS5aUpyddTxig17s4QBvPcAfTp8DYCippNAM7Yr8iWKy\",\"seq\":{i},\"type\":\"frame_sent\",\"frame\":\"").into_bytes();
    v.extend(std::iter::repeat_n(b'a', 200 - v.len().min(200)));
    v
}

fn memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit_memory");
    g.throughput(Throughput::Elements(1));
    let events: Vec<Vec<u8>> = (0..4096).map(event).collect();
    g.bench_function("talos_append_200B", |b| {
        let mut t = MemoryTree::new();
        let mut i = 0usize;
        b.iter(|| {
            t.append(leaf_hash(&events[i & 4095]));
            i += 1;
        })
    });
    // rs_merkle: insert + commit one leaf at a time, its incremental API (256 per iteration).
    g.throughput(Throughput::Elements(256));
    g.bench_function("rs_merkle_insert_commit_200B", |b| {
        b.iter_batched(
            rs_merkle::MerkleTree::<Rfc9162>::new,
            |mut t| {
                for e in events.iter().take(256) {
                    t.insert(Rfc9162::hash_leaf(e));
                    t.commit();
                }
                t
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Proofs at one million leaves.
    let mut t = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..MILLION).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for l in &leaves {
        t.append(*l);
    }
    let root = t.root();
    let mut g = c.benchmark_group("audit_proof_1M");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("talos_generate", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(inclusion_proof(&t, i, MILLION).unwrap())
        })
    });
    let proofs: Vec<(u64, Vec<Hash32>)> = (0..1024u64)
        .map(|k| {
            let idx = (k * 977) % MILLION;
            (idx, inclusion_proof(&t, idx, MILLION).unwrap())
        })
        .collect();
    let mut k = 0usize;
    g.bench_function("talos_verify", |b| {
        b.iter(|| {
            let (idx, p) = &proofs[k & 1023];
            k += 1;
            verify_inclusion(*idx, MILLION, &leaves[*idx as usize], p, &root).unwrap()
        })
    });
    let rs = rs_merkle::MerkleTree::<Rfc9162>::from_leaves(
        &leaves.iter().map(|h| h.0).collect::<Vec<_>>(),
    );
    assert_eq!(rs.root(), Some(root.0));
    let mut j = 0usize;
    g.bench_function("rs_merkle_generate", |b| {
        b.iter(|| {
            j = (j + 7919) % MILLION as usize;
            black_box(rs.proof(&[j]))
        })
    });
    let rs_proofs: Vec<(usize, rs_merkle::MerkleProof<Rfc9162>)> = (0..1024usize)
        .map(|k| {
            let idx = (k * 977) % MILLION as usize;
            (idx, rs.proof(&[idx]))
        })
        .collect();
    let mut k = 0usize;
    g.bench_function("rs_merkle_verify", |b| {
        b.iter(|| {
            let (idx, p) = &rs_proofs[k & 1023];
            k += 1;
            assert!(p.verify(root.0, &[*idx], &[leaves[*idx].0], MILLION as usize));
        })
    });
    g.finish();
}

trait HashLeaf {
    fn hash_leaf(data: &[u8]) -> [u8; 32];
}
impl HashLeaf for Rfc9162 {
    fn hash_leaf(data: &[u8]) -> [u8; 32] {
        <Rfc9162 as rs_merkle::Hasher>::hash(data)
    }
}

fn durable(c: &mut Criterion) {
    // Group commit: many appenders, one synced write per group.
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(AuditLog::open(dir.path(), LogConfig::default()).unwrap());
    let mut g = c.benchmark_group("audit_durable");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for appenders in [1usize, 64, 256] {
        let per = if appenders == 1 {
            200
        } else {
            20_000 / appenders
        };
        g.throughput(Throughput::Elements((appenders * per) as u64));
        g.bench_function(format!("append_200B_{appenders}_appenders"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let handles: Vec<_> = (0..appenders)
                        .map(|a| {
                            let log = log.clone();
                            std::thread::spawn(move || {
                                for i in 0..per {
                                    log.append(event((a * per + i) as u64)).unwrap();
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.join().unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        });
    }
    g.finish();

    // A one-million-entry log on disk: proofs read O(log n) nodes from RocksDB.
    let big = tempfile::tempdir().unwrap();
    let log = AuditLog::open(big.path(), LogConfig::default()).unwrap();
    for chunk in 0..(MILLION / 10_000) {
        log.append_many((chunk * 10_000..(chunk + 1) * 10_000).map(event).collect())
            .unwrap();
    }
    let root = log.head().root;
    let mut g = c.benchmark_group("audit_store_1M");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("generate_from_rocksdb", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(log.inclusion_proof(i, MILLION).unwrap())
        })
    });
    let p = log.inclusion_proof(4242, MILLION).unwrap();
    verify_inclusion(4242, MILLION, &leaf_hash(&event(4242)), &p, &root).unwrap();
    g.finish();
}

criterion_group!(benches, memory, durable);
criterion_main!(benches);
