//! Misbehaviour reports as strangers gossip them: verifying never panics, and one that
//! verifies is by a did:key about another did:key, with bounded canonical evidence, and
//! a book takes or refuses it without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = talos_reputation::Report::verify(text) {
        assert!(r.report.iss != r.report.sub);
        assert!(r.report.evd.len() <= talos_reputation::report::MAX_EVIDENCE);
        let mut book = talos_reputation::Book::new(Default::default()).unwrap();
        let now = r.report.iat;
        let _ = book.insert(r.clone(), now);
        assert!(book.score(&r.report.sub, now).points <= 1000);
    }
});
