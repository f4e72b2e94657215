//! The group items carried in pairwise messages (invites, events, rejects, sender keys,
//! group messages): typed errors only, and whatever parses re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_ratchet::group::wire::GroupWire;

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = GroupWire::parse(data) {
        assert_eq!(&item.encode()[..], data);
    }
});
