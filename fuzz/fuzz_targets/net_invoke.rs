//! The `/talos/invoke/1.0.0` request and response decoders: typed errors only, and
//! whatever parses re-encodes to a document that parses to the same value (re-encoding
//! may exceed the size bound: `1e5` comes back as `100000.0`, so that is allowed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_net::invoke::{InvokeRequest, InvokeResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = InvokeRequest::parse(data)
        && let Ok(again) = r.encode()
    {
        assert_eq!(InvokeRequest::parse(&again).ok(), Some(r));
    }
    if let Ok(r) = InvokeResponse::parse(data)
        && let Ok(again) = r.encode()
    {
        assert_eq!(InvokeResponse::parse(&again).ok(), Some(r));
    }
});
