//! The `/talos/approval/1.0.0` message and acknowledgement decoders: typed errors only,
//! and whatever parses re-encodes to a document that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_net::approval::{ApprovalAck, ApprovalMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ApprovalMessage::parse(data)
        && let Ok(again) = m.encode()
    {
        assert_eq!(ApprovalMessage::parse(&again).ok(), Some(m));
    }
    if let Ok(a) = ApprovalAck::parse(data)
        && let Ok(again) = a.encode()
    {
        assert_eq!(ApprovalAck::parse(&again).ok(), Some(a));
    }
});
