//! Stores written by an older talos: opened, upgraded in place, and never lost; a store
//! from a newer talos is refused untouched.

use std::sync::Arc;

use talos_delivery::{DeliveryError, Mailroom};
use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_ratchet::at_rest::{self, StorageKey};
use talos_ratchet::{PreKeyStore, SessionConfig};
use talos_store::db::{CF_INBOX, CF_META, CF_STREAMS, LAYOUT_VERSION, LAYOUT_VERSION_KEY};
use talos_store::{Store, StoreError};

const KEY: [u8; 32] = [0x42; 32];

fn open(store: Arc<Store>) -> Result<Mailroom, DeliveryError> {
    let id = || IdentityKey::from_seed(&IdentitySeed::from_bytes([9; 32])).unwrap();
    let id2 = id();
    Mailroom::open(
        store,
        id(),
        StorageKey::from_bytes(KEY),
        SessionConfig::default(),
        move || PreKeyStore::new(&mut rand::rng(), &id2, true),
    )
}

/// Writes what a layout-1 node left: two unread inbox entries (sealed as layout 1 sealed
/// them: `peer ‖ seq ‖ 0 ‖ body` under "talos/delivery/inbox/v1" ‖ index), the inbox
/// counter, and no version, usage counts or time markers.
fn write_layout_1(store: &Store) {
    let peer = IdentityKey::from_seed(&IdentitySeed::from_bytes([7; 32]))
        .unwrap()
        .public();
    let key = StorageKey::from_bytes(KEY);
    let mut batch = rocksdb::WriteBatch::default();
    for (index, body) in [(0u64, b"hello".as_slice()), (1, b"again".as_slice())] {
        let mut plain = peer.as_bytes().to_vec();
        plain.extend_from_slice(&(index + 1).to_be_bytes());
        plain.push(0);
        plain.extend_from_slice(body);
        let context = [b"talos/delivery/inbox/v1".as_slice(), &index.to_be_bytes()].concat();
        let sealed = at_rest::seal(&mut rand::rng(), &key, &context, &plain);
        batch.put_cf(store.cf(CF_INBOX).unwrap(), index.to_be_bytes(), sealed);
    }
    batch.put_cf(
        store.cf(CF_STREAMS).unwrap(),
        b"inbox-next",
        2u64.to_be_bytes(),
    );
    store.write(batch, true).unwrap();
}

#[test]
fn a_layout_1_store_is_upgraded_at_open_and_keeps_its_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    write_layout_1(&store);
    assert_eq!(store.layout_version().unwrap(), 1);
    let m = open(store.clone()).unwrap();
    assert_eq!(store.layout_version().unwrap(), LAYOUT_VERSION);
    let inbox = m.inbox(0, 10).unwrap();
    let bodies: Vec<&[u8]> = inbox.iter().map(|d| d.body.as_slice()).collect();
    assert_eq!(bodies, vec![b"hello".as_slice(), b"again".as_slice()]);
    // The upgrade counted what was there, so quotas and retention see it.
    let usage = m.inbox_usage().unwrap();
    assert_eq!(usage.entries, 2);
    // Opening again changes nothing.
    drop(m);
    let m = open(store.clone()).unwrap();
    assert_eq!(m.inbox_usage().unwrap(), usage);
    assert_eq!(m.inbox(0, 10).unwrap().len(), 2);
}

#[test]
fn a_store_from_a_newer_talos_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut batch = rocksdb::WriteBatch::default();
    let newer = LAYOUT_VERSION + 1;
    batch.put_cf(
        store.cf(CF_META).unwrap(),
        LAYOUT_VERSION_KEY,
        newer.to_be_bytes(),
    );
    store.write(batch, true).unwrap();
    let err = open(store.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Store(StoreError::TooNew { found, supported })
                if found == newer && supported == LAYOUT_VERSION
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    // Nothing was written: no prekeys were made in it.
    assert!(store.get(CF_STREAMS, b"prekeys").unwrap().is_none());
}
