//! The a2a frame, deposit, ack, batch and acks decoders: typed errors only, and whatever
//! parses re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_net::frame::{encode_acks, encode_batch, parse_acks, parse_batch};
use talos_net::{Ack, Deposit, Frame};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Frame::parse(data) {
        assert_eq!(f.encode(), data);
        if let Ok(d) = Deposit::parse(&f) {
            assert_eq!(d.to_frame().ok(), Some(f));
        }
    }
    if let Ok(a) = Ack::parse(data) {
        assert_eq!(a.encode(), data);
    }
    if let Ok(b) = parse_batch(data) {
        assert_eq!(encode_batch(&b), data);
    }
    if let Ok(a) = parse_acks(data) {
        assert_eq!(encode_acks(&a), data);
    }
});
