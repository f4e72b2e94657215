//! SCALE decoding of the on-chain types: what decodes re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{Decode, Encode};
use talos_primitives::{AuditRoot, Did, DidRecord, Ed25519Public};

fn check<T: Decode + Encode>(data: &[u8]) {
    let mut input = data;
    if let Ok(v) = T::decode(&mut input) {
        let consumed = data.len() - input.len();
        assert_eq!(v.encode(), &data[..consumed]);
    }
}

fuzz_target!(|data: &[u8]| {
    check::<Did>(data);
    check::<Ed25519Public>(data);
    check::<DidRecord>(data);
    check::<AuditRoot>(data);
});
