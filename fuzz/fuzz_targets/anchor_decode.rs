//! Decoders for what a chain (or a hostile RPC endpoint) hands the anchor client: revert
//! data and `Revoked` logs. Typed errors only, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_anchor::Revert;
use talos_anchor::contract::{ChainLog, decode_revocation};

fuzz_target!(|data: &[u8]| {
    let _ = Revert::decode(data);
    // First byte: how many 32-byte topics follow; the rest is the log's data.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 4);
    let Some(topic_bytes) = rest.get(..32 * n) else {
        return;
    };
    let topics = topic_bytes
        .chunks_exact(32)
        .map(alloy_primitives::B256::from_slice)
        .collect();
    let log = ChainLog {
        block: 1,
        tx: alloy_primitives::B256::ZERO,
        topics,
        data: rest.get(32 * n..).unwrap_or_default().to_vec().into(),
    };
    if let Ok(ev) = decode_revocation(&log) {
        assert!(ev.ids.len() <= rest.len() / 32);
    }
});
