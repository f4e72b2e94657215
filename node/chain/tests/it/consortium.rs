//! Four validators (Alice, Bob, Charlie, Dave) from the committed `chain-spec/local.json`
//! on loopback, and Eve's node beside them. They produce and finalize blocks; the
//! consortium's governance (sudo) makes Eve a fifth validator at run time (a member, her
//! node's rotated session keys set, added to `Validators`); two session changes later
//! she authors blocks and votes. Then Dave stops, and finality goes on only because Eve
//! votes (4 of 5 is the least more than two thirds); Dave restarts on its database and
//! catches up to the others' finalized head.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use talos_anchor::substrate::admin;
use talos_testkit::chain::{TalosChain, finalized, rpc, wait_finalized};

/// A fixed libp2p node key and its peer id, so the others can name Alice as bootnode.
fn node_key(i: u8) -> (String, String) {
    let secret = [i; 32];
    let kp = libp2p_identity::Keypair::ed25519_from_bytes(secret).unwrap();
    (hex::encode(secret), kp.public().to_peer_id().to_string())
}

fn validator(name: &str, i: u8, base: &Path, bootnode: Option<&str>) -> TalosChain {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../chain-spec/local.json");
    let (key, _) = node_key(i);
    let mut args: Vec<String> = vec![
        "--chain".into(),
        spec.display().to_string(),
        "--base-path".into(),
        base.join(name).display().to_string(),
        format!("--{name}"),
        "--node-key".into(),
        key,
    ];
    if let Some(b) = bootnode {
        args.extend(["--bootnodes".into(), b.to_string()]);
    }
    TalosChain::start(args)
}

/// Polls `f` every 500 ms until it gives a value; panics after `within`, naming `what`.
fn wait_for<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn unhex(v: &serde_json::Value) -> Option<Vec<u8>> {
    hex::decode(v.as_str()?.trim_start_matches("0x")).ok()
}

/// A runtime API's SCALE answer at block `at` (the best block if `None`): a compact
/// length (one byte, as authority sets here are under 64) and that many `width`-byte
/// items, of which the first 32 bytes are each authority's public key.
fn authorities(
    port: u16,
    api: &str,
    width: usize,
    at: Option<&serde_json::Value>,
) -> Option<Vec<[u8; 32]>> {
    let out = unhex(&rpc(port, "state_call", json!([api, "0x", at]))?)?;
    let (&len, items) = out.split_first()?;
    let n = usize::from(len >> 2);
    (items.len() == n * width).then(|| {
        items
            .chunks(width)
            .map(|c| c[..32].try_into().unwrap())
            .collect()
    })
}

/// The aura key that authored the block `hash`: its pre-runtime digest names the slot,
/// and the slot modulo the authority count picks the author from that block's set.
fn author(port: u16, hash: &serde_json::Value) -> Option<[u8; 32]> {
    let header = rpc(port, "chain_getHeader", json!([hash]))?;
    // SCALE `DigestItem::PreRuntime(*b"aura", Vec<u8> of 8 bytes)`: 0x06, the engine
    // id, compact length 8 (0x20), the slot as u64 little-endian.
    let slot = header["digest"]["logs"]
        .as_array()?
        .iter()
        .find_map(|log| {
            let b = unhex(log)?;
            (b.len() == 14 && b[..6] == *b"\x06aura\x20")
                .then(|| u64::from_le_bytes(b[6..].try_into().unwrap()))
        })?;
    let set = authorities(port, "AuraApi_authorities", 32, Some(&header["parentHash"]))?;
    let i = usize::try_from(slot % u64::try_from(set.len()).ok()?).ok()?;
    set.get(i).copied()
}

#[test]
fn five_validators_by_governance_finalize_with_one_down() {
    let dir = tempfile::tempdir().unwrap();
    let alice = validator("alice", 1, dir.path(), None);
    let bootnode = format!(
        "/ip4/127.0.0.1/tcp/{}/p2p/{}",
        alice.p2p_port,
        node_key(1).1
    );
    let bob = validator("bob", 2, dir.path(), Some(&bootnode));
    let charlie = validator("charlie", 3, dir.path(), Some(&bootnode));
    let mut dave = validator("dave", 4, dir.path(), Some(&bootnode));
    // Eve's node runs as a validator but holds no authority yet.
    let eve = validator("eve", 5, dir.path(), Some(&bootnode));

    // All four: blocks are produced and finalized, and every node sees finality.
    wait_finalized(&alice, 3, Duration::from_secs(180));
    for n in [&bob, &charlie, &dave, &eve] {
        wait_finalized(n, 3, Duration::from_secs(60));
    }

    // Governance makes Eve a validator: her organisation joins as a member (so her
    // account may sign), her node generates session keys, she registers them, and sudo
    // adds her to the validator list.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let eve_account = subxt_signer::sr25519::dev::eve().public_key().0;
    let keys = rt
        .block_on(admin::rotate_keys(&eve.ws(), eve_account))
        .unwrap();
    rt.block_on(admin::add_member(&alice.ws(), "//Alice", eve_account))
        .unwrap();
    rt.block_on(admin::set_session_keys(&alice.ws(), "//Eve", &keys))
        .unwrap();
    rt.block_on(admin::add_validator(&alice.ws(), "//Alice", eve_account))
        .unwrap();
    let (aura, grandpa) = (keys.aura(), keys.grandpa());

    // Two session changes (30 blocks each) later, both authority sets name her keys.
    wait_for("Eve in the aura set", Duration::from_secs(420), || {
        authorities(alice.rpc_port, "AuraApi_authorities", 32, None)
            .filter(|set| set.len() == 5 && set.contains(&aura))
    });
    wait_for("Eve in the grandpa set", Duration::from_secs(60), || {
        authorities(alice.rpc_port, "GrandpaApi_grandpa_authorities", 40, None)
            .filter(|set| set.len() == 5 && set.contains(&grandpa))
    });

    // Eve authors: some finalized block's slot is hers.
    wait_for("a block authored by Eve", Duration::from_secs(180), || {
        let mut hash = rpc(alice.rpc_port, "chain_getFinalizedHead", json!([]))?;
        for _ in 0..10 {
            if author(alice.rpc_port, &hash)? == aura {
                return Some(());
            }
            hash = rpc(alice.rpc_port, "chain_getHeader", json!([hash]))?["parentHash"].clone();
        }
        None
    });

    // Dave down: four votes of five are needed, so finality now rests on Eve's.
    dave.kill();
    let before = finalized(alice.rpc_port).unwrap();
    wait_finalized(&alice, before + 5, Duration::from_secs(180));
    wait_finalized(&eve, before + 5, Duration::from_secs(60));

    // Dave back on its own database: it catches up with what was finalized without it.
    dave.restart();
    let target = finalized(alice.rpc_port).unwrap();
    wait_finalized(&dave, target, Duration::from_secs(180));
    // And finality goes on with all five.
    wait_finalized(&alice, target + 3, Duration::from_secs(120));
    drop((bob, charlie));
}
