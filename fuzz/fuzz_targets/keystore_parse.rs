//! Keystore files: parsing (no key derivation) returns a typed error for any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_identity::keystore::SealedKeystore;

fuzz_target!(|data: &[u8]| {
    let _ = SealedKeystore::parse(data);
});
