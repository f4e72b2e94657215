//! Prekey bundles and initial messages from untrusted bytes: typed errors, faithful
//! re-encoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_ratchet::{InitialMessage, PreKeyBundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = PreKeyBundle::parse(data) {
        assert_eq!(b.encode(), data);
    }
    if let Ok(m) = InitialMessage::parse(data) {
        assert_eq!(m.encode(), data);
    }
});
