//! Approvals as another node sends them (capability FORMAT.md §3.6): verifying never
//! panics, and one that verifies names the request its digest gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_capability::approval;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = approval::verify(text) {
        assert_eq!(a.claims.req, approval::request_id(&a.claims.dig));
        assert_eq!(a.commitment, talos_capability::token::commitment_of(text));
    }
});
