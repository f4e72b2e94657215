//! Which column families a database opens with, and that dropping unused ones loses
//! nothing.

use talos_store::db::{CF_EVM_CODE, CF_EVM_META, CF_INBOX, CF_META, CHAIN_FAMILIES, NODE_FAMILIES};
use talos_store::{Store, StoreError};

fn families(path: &std::path::Path) -> Vec<String> {
    let mut v = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    v.sort();
    v
}

fn put(store: &Store, cf: &'static str, key: &[u8], value: &[u8]) {
    let mut batch = rocksdb::WriteBatch::default();
    batch.put_cf(store.cf(cf).unwrap(), key, value);
    store.write(batch, true).unwrap();
}

#[test]
fn a_new_database_has_only_its_families() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_families(dir.path(), &CHAIN_FAMILIES).unwrap();
    put(&store, CF_EVM_META, b"head", b"1");
    assert!(matches!(
        store.cf(CF_INBOX),
        Err(StoreError::MissingFamily(CF_INBOX))
    ));
    drop(store);
    let mut want: Vec<String> = CHAIN_FAMILIES.iter().map(|s| s.to_string()).collect();
    want.push("default".into());
    want.sort();
    assert_eq!(families(dir.path()), want);
}

/// A home made by an older build has every family in both databases: the empty unused
/// ones are dropped at open, one holding data stays, and every value survives.
#[test]
fn unused_families_are_dropped_only_while_empty() {
    let dir = tempfile::tempdir().unwrap();
    {
        let old = Store::open(dir.path()).unwrap();
        put(&old, CF_META, b"layout", b"3");
        put(&old, CF_INBOX, b"i", b"message");
        // Not a node family, but it holds data: it must not be dropped.
        put(&old, CF_EVM_CODE, b"c", b"code");
    }
    assert_eq!(families(dir.path()).len(), 21);
    {
        let node = Store::open_families(dir.path(), &NODE_FAMILIES).unwrap();
        assert_eq!(
            node.get(CF_META, b"layout").unwrap().as_deref(),
            Some(&b"3"[..])
        );
        assert_eq!(
            node.get(CF_INBOX, b"i").unwrap().as_deref(),
            Some(&b"message"[..])
        );
        assert_eq!(
            node.get(CF_EVM_CODE, b"c").unwrap().as_deref(),
            Some(&b"code"[..])
        );
        assert!(matches!(
            node.cf(CF_EVM_META),
            Err(StoreError::MissingFamily(CF_EVM_META))
        ));
    }
    let left = families(dir.path());
    // default, the 12 node families, and the one that holds data.
    assert_eq!(left.len(), 14, "{left:?}");
    assert!(left.iter().any(|f| f == CF_EVM_CODE));
    // Opening with every family again recreates the dropped ones, still empty.
    let all = Store::open(dir.path()).unwrap();
    assert_eq!(all.get(CF_EVM_META, b"head").unwrap(), None);
    assert_eq!(
        all.get(CF_EVM_CODE, b"c").unwrap().as_deref(),
        Some(&b"code"[..])
    );
}
