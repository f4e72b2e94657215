//! The sender-key group state decoder (what a node reads back from disk): typed errors
//! only, and whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_ratchet::group::Group;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = Group::decode(data) {
        assert_eq!(&g.encode()[..], data);
    }
});
