//! Stored session state and prekey stores: typed errors, bounded counts, and the
//! encoding is canonical (decode then encode gives the same bytes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_ratchet::{PreKeyStore, Session};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Session::decode(data) {
        assert_eq!(&s.encode()[..], data);
    }
    if let Ok(s) = PreKeyStore::decode(data) {
        assert_eq!(&s.encode()[..], data);
    }
});
