//! DID, DID URL, Multikey and `traceparent` strings: parse must return, never panic, and whatever
//! parses must print back to the same string.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_primitives::{Did, DidUrl, Ed25519Public, TraceParent};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(did) = Did::parse(s) {
        assert_eq!(did.to_string(), s);
    }
    if let Ok(url) = DidUrl::parse(s) {
        assert_eq!(url.to_string(), s);
    }
    if let Ok(t) = TraceParent::parse(s) {
        assert_eq!(t.to_string(), s);
    }
    if let Ok(k) = Ed25519Public::from_multikey(s) {
        assert_eq!(Ed25519Public::from_multikey(&k.to_multikey()), Ok(k));
    }
});
