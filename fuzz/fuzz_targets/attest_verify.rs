//! Attestation credentials as strangers present them: parsing and verifying never
//! panics, and one that verifies names a did:key issuer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = talos_attest::verify(data, 1_900_000_000) {
        assert!(v.issuer.to_string().starts_with("did:key:"));
        assert!(v.valid_from <= v.valid_until);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = talos_attest::measure::config(text);
    }
});
