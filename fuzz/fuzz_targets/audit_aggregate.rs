//! Aggregate proofs (`talos/aggregate-proof@v1`) from untrusted bytes: typed errors only,
//! and what parses re-serializes faithfully and verifies without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_audit::aggregate::AggregateProof;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = AggregateProof::parse(s) {
        assert_eq!(AggregateProof::parse(&p.to_text()).unwrap(), p);
        let _ = p.verify();
    }
});
