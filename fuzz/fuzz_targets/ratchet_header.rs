//! Headers, sender-key distributions and membership events: typed errors, and what parses
//! re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_ratchet::group::SenderKeyDistribution;
use talos_ratchet::header::Header;
use talos_ratchet::membership::MembershipEvent;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = Header::decode(data) {
        assert_eq!(&h.encode()[..], data);
    }
    if let Ok(d) = SenderKeyDistribution::parse(data) {
        assert_eq!(&d.encode()[..], data);
    }
    if let Ok(e) = MembershipEvent::parse(data) {
        assert_eq!(e.encode(), data);
    }
});
