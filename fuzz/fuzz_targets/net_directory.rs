//! The DHT directory-record parser (also the DHT's record validator): typed errors only,
//! never a panic, on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_net::directory::{DHT_PREFIX, DirectoryRecord};

fuzz_target!(|data: &[u8]| {
    // The key names the identity bytes inside the input (offset 5), so the fuzzer gets
    // past the key check to the bundle and signature checks.
    let key = [DHT_PREFIX, data.get(5..37).unwrap_or(&[])].concat();
    let _ = DirectoryRecord::parse(&key, data, 0);
});
