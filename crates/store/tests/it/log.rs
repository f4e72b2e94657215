//! The durable log: appends, proofs, reopen, corruption, concurrency.

use std::sync::Arc;

use talos_audit::hash::leaf_hash;
use talos_audit::{MemoryTree, verify_consistency, verify_inclusion};
use talos_store::{AuditLog, LogConfig, StoreError};

#[test]
fn appends_prove_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut mem = MemoryTree::new();
    {
        let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
        for i in 0..300u32 {
            let data = format!("event {i}").into_bytes();
            assert_eq!(log.append(data.clone()).unwrap(), u64::from(i));
            mem.append(leaf_hash(&data));
        }
        let range = log
            .append_many(
                (300..310)
                    .map(|i| format!("event {i}").into_bytes())
                    .collect(),
            )
            .unwrap();
        assert_eq!(range, 300..310);
        for i in 300..310 {
            mem.append(leaf_hash(format!("event {i}").as_bytes()));
        }
        assert_eq!(log.head().root, mem.root());
        assert_eq!(log.head().size, 310);
    }
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.head().root, mem.root());
    for (i, size) in [(0u64, 1u64), (5, 17), (299, 310), (309, 310)] {
        let proof = log.inclusion_proof(i, size).unwrap();
        let leaf = leaf_hash(&log.leaf(i).unwrap().unwrap());
        verify_inclusion(i, size, &leaf, &proof, &log.root_at(size).unwrap()).unwrap();
    }
    let proof = log.consistency_proof(100, 310).unwrap();
    verify_consistency(
        100,
        310,
        &log.root_at(100).unwrap(),
        &log.root_at(310).unwrap(),
        &proof,
    )
    .unwrap();
    // Beyond the durable size is an error, not a guess.
    assert!(matches!(
        log.inclusion_proof(0, 311),
        Err(StoreError::Tree(_))
    ));
    assert_eq!(log.leaf(310).unwrap(), None);
}

#[test]
fn concurrent_appends_get_unique_contiguous_indices() {
    let dir = tempfile::tempdir().unwrap();
    // Small groups, so appenders that commit on their own thread and the committer
    // thread take turns many times.
    let config = LogConfig {
        max_batch: 7,
        ..LogConfig::default()
    };
    let log = Arc::new(AuditLog::open(dir.path(), config).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| {
                        let leaf = format!("{t}/{i}").into_bytes();
                        (log.append(leaf.clone()).unwrap(), leaf)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let got: Vec<(u64, Vec<u8>)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    // Each append's leaf is at the index it was given, and is durable once it returned.
    for (index, leaf) in &got {
        assert_eq!(log.leaf(*index).unwrap().as_ref(), Some(leaf));
    }
    let mut all: Vec<u64> = got.iter().map(|(i, _)| *i).collect();
    all.sort_unstable();
    assert_eq!(all, (0..1600).collect::<Vec<_>>());
    let mut mem = MemoryTree::new();
    for i in 0..1600 {
        mem.append(leaf_hash(&log.leaf(i).unwrap().unwrap()));
    }
    assert_eq!(log.head().root, mem.root());
}

#[test]
fn a_corrupted_node_is_detected_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
        for i in 0..7u8 {
            log.append(vec![i]).unwrap();
        }
    }
    {
        // Overwrite the level-2 node (leaves 0..4) behind the log's back.
        let store = talos_store::Store::open(dir.path()).unwrap();
        let mut key = [0u8; 9];
        key[0] = 2;
        store
            .db()
            .put_cf(
                store.cf(talos_store::db::CF_NODES).unwrap(),
                key,
                [0xAA; 32],
            )
            .unwrap();
    }
    assert!(matches!(
        AuditLog::open(dir.path(), LogConfig::default()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn oversize_leaves_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        dir.path(),
        LogConfig {
            max_leaf: 16,
            ..LogConfig::default()
        },
    )
    .unwrap();
    assert!(log.append(vec![0; 17]).is_err());
    assert_eq!(log.size(), 0);
}

#[test]
fn leaves_in_ranges_and_the_published_note_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
        log.append_many((0..600u32).map(|i| i.to_be_bytes().to_vec()).collect())
            .unwrap();
        assert_eq!(log.published().unwrap(), None);
        log.set_published("note\n").unwrap();
    }
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.published().unwrap().as_deref(), Some("note\n"));
    let got = log.leaves(256..512).unwrap();
    assert_eq!(got.len(), 256);
    assert_eq!(got[0], 256u32.to_be_bytes());
    assert_eq!(got[255], 511u32.to_be_bytes());
    // A range past the durable size is cut there; an empty one is empty.
    assert_eq!(log.leaves(590..700).unwrap().len(), 10);
    assert!(log.leaves(600..700).unwrap().is_empty());
    assert!(log.leaves(5..5).unwrap().is_empty());
    // A range of nodes is one scan, and the same as reading them one by one.
    use talos_audit::NodeSource;
    let nodes = log.nodes();
    for (level, start, count) in [(0u8, 256u64, 256u64), (1, 0, 300), (8, 0, 2)] {
        let one_by_one: Vec<_> = (start..start + count)
            .map(|i| nodes.node(level, i).unwrap())
            .collect();
        assert_eq!(nodes.nodes(level, start, count).unwrap(), one_by_one);
    }
    assert!(nodes.nodes(0, 590, 11).is_err(), "past the tree");
}

/// Side records (`append_many_with`) are written with their append, later ones win, and
/// a scan by prefix finds them after a reopen; an append carrying them is whole even
/// when it is larger than a batch.
#[test]
fn side_records_land_with_their_append() {
    let dir = tempfile::tempdir().unwrap();
    let small = LogConfig {
        max_batch: 2,
        ..LogConfig::default()
    };
    let log = AuditLog::open(dir.path(), small).unwrap();
    let leaves = |n: &[&str]| n.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
    let kv = |k: &str, v: &str| (k.as_bytes().to_vec(), v.as_bytes().to_vec());
    log.append_many_with(leaves(&["a", "b", "c"]), vec![kv("k/1", "v1")])
        .unwrap();
    log.append_many_with(leaves(&["d"]), vec![kv("k/1", "v2"), kv("k/2", "x")])
        .unwrap();
    log.append(b"e".to_vec()).unwrap();
    let want = vec![kv("k/1", "v2"), kv("k/2", "x")];
    assert_eq!(log.side_records(b"k/", 10).unwrap(), want);
    assert!(log.side_records(b"z", 10).unwrap().is_empty());
    assert!(log.append_many_with(vec![], vec![kv("k/3", "v")]).is_err());
    drop(log);
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.size(), 5);
    assert_eq!(log.side_records(b"k/", 1).unwrap(), want[..1]);
    assert_eq!(log.side_records(b"k/", 10).unwrap(), want);
}

/// `append_built` hands `build` the first index its leaves get, writes its `writes` to
/// other families in the same batch, refuses a family the store lacks before queueing
/// anything (the log goes on working), and writes `writes` alone when there is no leaf.
#[test]
fn built_appends_carry_their_writes() {
    use talos_store::db::{CF_INBOX, CF_STREAMS};
    use talos_store::{StoreError, Writes};
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    log.append(b"zero".to_vec()).unwrap();
    let mut w = Writes::default();
    w.put(CF_INBOX, b"k", b"v".to_vec());
    w.put(CF_STREAMS, b"gone", b"x".to_vec());
    w.delete(CF_STREAMS, b"gone");
    let range = log
        .append_built(
            2,
            |first| Ok::<_, StoreError>(vec![first.to_be_bytes().to_vec(), b"two".to_vec()]),
            w,
        )
        .unwrap();
    assert_eq!(range, 1..3);
    assert_eq!(log.leaf(1).unwrap().unwrap(), 1u64.to_be_bytes());
    let store = log.store();
    assert_eq!(
        store.get(CF_INBOX, b"k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(store.get(CF_STREAMS, b"gone").unwrap(), None);

    let mut bad = Writes::default();
    bad.put("no-such-family", b"k", vec![]);
    let err = log
        .append_built(1, |_| Ok::<_, StoreError>(vec![b"x".to_vec()]), bad)
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingFamily(_)), "{err}");
    let wrong = log.append_built(
        2,
        |_| Ok::<_, StoreError>(vec![b"x".to_vec()]),
        Writes::default(),
    );
    assert!(wrong.is_err());
    assert_eq!(log.size(), 3);

    let mut alone = Writes::default();
    alone.put(CF_INBOX, b"alone", b"1".to_vec());
    let none = log
        .append_built(0, |_| Ok::<_, StoreError>(vec![]), alone)
        .unwrap();
    assert_eq!(none, 3..3);
    assert_eq!(log.append(b"three".to_vec()).unwrap(), 3);
    drop(log);
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.size(), 4);
    assert!(log.store().get(CF_INBOX, b"alone").unwrap().is_some());
}

/// A log kept in its own store (the layout before 3) moves into another store whole:
/// leaves, nodes, head, published note and side records; the old directory is renamed,
/// a second call finds nothing to do, and a store that holds a log already is not
/// overwritten.
#[test]
fn a_log_in_its_own_store_is_adopted() {
    use std::sync::Arc;
    use talos_store::log::{Adopted, adopt};
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("store"), dir.path().join("db"));
    assert_eq!(
        adopt(&old, &talos_store::Store::open(&new).unwrap()).unwrap(),
        Adopted::Nothing
    );
    let head = {
        let log = AuditLog::open(&old, LogConfig::default()).unwrap();
        for i in 0..1000u32 {
            log.append(i.to_be_bytes().to_vec()).unwrap();
        }
        log.append_many_with(vec![b"last".to_vec()], vec![(b"k".to_vec(), b"v".to_vec())])
            .unwrap();
        log.set_published("note").unwrap();
        log.head()
    };
    let store = Arc::new(talos_store::Store::open(&new).unwrap());
    let moved = adopt(&old, &store).unwrap();
    assert_eq!(moved, Adopted::Moved(dir.path().join("store.moved")));
    assert!(!old.exists());
    assert_eq!(adopt(&old, &store).unwrap(), Adopted::Nothing);
    let log = AuditLog::open_in(store.clone(), LogConfig::default()).unwrap();
    assert_eq!(log.head(), head);
    assert_eq!(log.leaf(7).unwrap().unwrap(), 7u32.to_be_bytes());
    assert_eq!(log.published().unwrap().as_deref(), Some("note"));
    assert_eq!(log.side_records(b"k", 4).unwrap().len(), 1);
    let proof = log.inclusion_proof(500, head.size).unwrap();
    assert!(!proof.is_empty());
    drop(log);
    // A second old log (say, restored from a backup) never replaces the adopted one.
    {
        let other = AuditLog::open(&old, LogConfig::default()).unwrap();
        other.append(b"other".to_vec()).unwrap();
    }
    let again = adopt(&old, &store).unwrap();
    assert_eq!(again, Adopted::Moved(dir.path().join("store.moved.1")));
    let log = AuditLog::open_in(store, LogConfig::default()).unwrap();
    assert_eq!(log.head(), head);
}
