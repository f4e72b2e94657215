//! A2A agent cards as anyone serves them: `talos card verify` and callers parse and
//! verify cards from strangers. Typed errors only, never a panic; and a card that
//! verifies names the DID its signature's kid is bound to.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = talos_card::verify(data) {
        assert!(v.kid.starts_with(&v.did.to_string()));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = talos_card::CardConfig::parse(text);
    }
});
