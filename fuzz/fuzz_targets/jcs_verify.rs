//! Canonical-JSON signature inputs: canonicalization is idempotent, and verification of
//! arbitrary bytes returns an error rather than panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_identity::{IdentityKey, IdentitySeed, Signature, jcs};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = jcs::canonicalize_json(data) {
        assert_eq!(jcs::canonicalize_json(&c).unwrap(), c);
    }
    let key = IdentityKey::from_seed(&IdentitySeed::from_bytes([1; 32])).unwrap();
    let sig = Signature([0; 64]);
    let _ = jcs::verify_canonical::<serde_json::Value>(&key.public(), data, &sig);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = jcs::verify_proof(&v, &key.public());
    }
});
