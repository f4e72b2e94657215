//! The public read API (`talos up --public-log`): C2SP tlog-tiles read by independent
//! implementations (cloudflare/azul's `tlog_tiles` proves inclusion and consistency from
//! our tiles; its `signed_note` verifies our checkpoint with a C2SP verifier key), the
//! static copy, and the bounds.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, flags, init};
use tlog_tiles::tile::{Tile as GoTile, TileHashReader, TileReader};
use tlog_tiles::tlog::{self, Hash};

const HEIGHT: u8 = 8;

/// GETs `path` from the public listener: (status, headers' cache-control, body).
async fn get(base: &str, path: &str) -> (u16, String, Vec<u8>) {
    let r = reqwest::get(format!("{base}/{path}")).await.unwrap();
    let status = r.status().as_u16();
    let cache = r
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, cache, r.bytes().await.unwrap().to_vec())
}

/// A `tlog_tiles` reader over our HTTP tiles. Its paths are the Go checksum database's
/// (`tile/<H>/<L>/...`); C2SP drops the height, which is always 8.
struct HttpTiles {
    base: String,
    rt: tokio::runtime::Handle,
}

impl TileReader for HttpTiles {
    fn height(&self) -> u8 {
        HEIGHT
    }

    fn read_tiles(&self, tiles: &[GoTile]) -> Result<Vec<Vec<u8>>, tlog::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = t.path().replacen("tile/8/", "tile/", 1);
                let (s, _, body) = self.rt.block_on(get(&self.base, &path));
                assert_eq!(s, 200, "{path}");
                Ok(body)
            })
            .collect()
    }

    fn save_tiles(&self, _: &[GoTile], _: &[Vec<u8>]) {}
}

/// Splits an entry bundle by its spec (u16 big-endian lengths), independently of ours.
fn entries(bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bundle.len() {
        let len = usize::from(u16::from_be_bytes([bundle[at], bundle[at + 1]]));
        out.push(bundle[at + 2..at + 2 + len].to_vec());
        at += 2 + len;
    }
    out
}

/// Issues `n` capabilities, one audit event each.
pub(crate) async fn grow(node: &NodeProc, n: usize) {
    for chunk in 0..n.div_ceil(50) {
        let calls = (0..50.min(n - chunk * 50)).map(|i| {
            node.call(
                Method::POST,
                "/v1/capabilities",
                Some(json!({ "to": node.did, "cap": [{ "res": format!("talos://t/{chunk}/{i}"), "act": ["read"] }] })),
            )
        });
        for (s, v) in futures::future::join_all(calls).await {
            assert_eq!(s, 200, "{v}");
        }
    }
}

/// Publishes (by anchoring) and returns the public checkpoint's (size, root, text).
async fn anchor_and_read(node: &NodeProc, base: &str) -> (u64, Hash, String) {
    let (s, anchored) = node.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(s, 200, "{anchored}");
    let (s, cache, body) = get(base, "checkpoint").await;
    assert_eq!(s, 200);
    assert_eq!(cache, "max-age=2");
    let text = String::from_utf8(body).unwrap();
    let body_end = text.find("\n\n").unwrap() + 1;
    let cp = tlog_tiles::checkpoint::Checkpoint::from_bytes(&text.as_bytes()[..body_end]).unwrap();
    // The public checkpoint is the anchored one.
    assert_eq!(
        cp.size(),
        anchored["treeSize"].as_u64().unwrap(),
        "{anchored}"
    );
    (cp.size(), *cp.hash(), text)
}

fn check_inclusion(reader: &HttpTiles, size: u64, root: Hash, index: u64, entry: &[u8]) {
    let hr = TileHashReader::new(size, root, reader);
    let proof = tlog::prove_record(size, index, &hr).unwrap();
    tlog::check_record(&proof, size, root, index, tlog::record_hash(entry)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_readers_prove_inclusion_and_consistency_from_the_public_tiles() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("static");
    let home = init(
        root.path(),
        "pub",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--public-log", "127.0.0.1:0"),
            ("--public-log-dir", dir.to_str().unwrap()),
            ("--anchor-secs", "0"),
            // Only anchoring publishes here, so the public checkpoint is the anchored one.
            ("--publish-secs", "100000"),
        ]),
    );
    let node = NodeProc::up(&home, &[]).await;
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    grow(&node, 300).await;
    let (size1, root1, note1) = anchor_and_read(&node, &base).await;
    assert!(size1 >= 300, "{size1}");

    // The checkpoint verifies with the log's C2SP verifier key, by another implementation.
    let (s, v) = node.call(Method::GET, "/v1/audit/checkpoint", None).await;
    assert_eq!(s, 200, "{v}");
    let vkey = v["verifierKey"].as_str().unwrap();
    let verifier = signed_note::StandardVerifier::new(vkey).unwrap();
    let known = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    let parsed = signed_note::Note::from_bytes(note1.as_bytes()).unwrap();
    let (verified, _) = parsed.verify(&known).unwrap();
    assert_eq!(verified.len(), 1);

    // Inclusion, from the tiles alone, of entries in the first full bundle and the partial one.
    let reader = HttpTiles {
        base: base.clone(),
        rt: tokio::runtime::Handle::current(),
    };
    let full = {
        let (s, cache, body) = get(&base, "tile/entries/000").await;
        assert_eq!(
            (s, cache.as_str()),
            (200, "public, max-age=31536000, immutable")
        );
        entries(&body)
    };
    assert_eq!(full.len(), 256);
    let width = size1 - 256;
    let (s, _, body) = get(&base, &format!("tile/entries/001.p/{width}")).await;
    assert_eq!(s, 200);
    let partial = entries(&body);
    assert_eq!(partial.len() as u64, width);
    // What an event's leaf hash is on the agent API is the hash of the public entry.
    let (_, evs) = node
        .call(Method::GET, "/v1/audit/events?from=0&max=1", None)
        .await;
    assert_eq!(
        evs["events"][0]["leafHash"].as_str().unwrap(),
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            tlog::record_hash(&full[0]).0
        )
    );
    let checks = {
        let reader = HttpTiles {
            base: base.clone(),
            rt: reader.rt.clone(),
        };
        let (full, partial) = (full.clone(), partial.clone());
        tokio::task::spawn_blocking(move || {
            for i in [0u64, 1, 255] {
                check_inclusion(&reader, size1, root1, i, &full[i as usize]);
            }
            check_inclusion(&reader, size1, root1, 256, &partial[0]);
            check_inclusion(&reader, size1, root1, size1 - 1, partial.last().unwrap());
            // A changed entry does not verify.
            let hr = TileHashReader::new(size1, root1, &reader);
            let proof = tlog::prove_record(size1, 3, &hr).unwrap();
            assert!(
                tlog::check_record(&proof, size1, root1, 3, tlog::record_hash(b"forged")).is_err()
            );
        })
    };
    checks.await.unwrap();

    // The log grows; the new checkpoint is consistent with the old one, from tiles alone.
    grow(&node, 40).await;
    let (size2, root2, _) = anchor_and_read(&node, &base).await;
    assert!(size2 > size1);
    tokio::task::spawn_blocking(move || {
        let hr = TileHashReader::new(size2, root2, &reader);
        let proof = tlog::prove_tree(size2, size1, &hr).unwrap();
        tlog::check_tree(&proof, size2, root2, size1, root1).unwrap();
        assert!(tlog::check_tree(&proof, size2, root2, size1, root2).is_err());
    })
    .await
    .unwrap();

    // Nothing past the published size, nothing malformed, nothing but the log.
    let past = size2 % 256 + 1;
    assert_eq!(get(&base, &format!("tile/0/001.p/{past}")).await.0, 404);
    assert_eq!(get(&base, "tile/0/005").await.0, 404);
    assert_eq!(get(&base, "tile/0/01").await.0, 400);
    assert_eq!(get(&base, "tile/0/000.p/256").await.0, 400);
    for other in ["v1/audit/head", "v1/node", "metrics", "openapi.json", ""] {
        assert_eq!(get(&base, other).await.0, 404, "{other}");
    }

    // The static copy holds the same bytes.
    static_copy_matches(&dir, &base, size2).await;
}

async fn static_copy_matches(dir: &Path, base: &str, size: u64) {
    let (_, _, checkpoint) = get(base, "checkpoint").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read(dir.join("checkpoint")).ok().as_deref() != Some(&checkpoint[..]) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the static copy never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = format!("tile/0/001.p/{}", size - 256);
    for path in [
        "tile/0/000",
        "tile/entries/000",
        last.as_str(),
        "tile/1/000.p/1",
    ] {
        let (s, _, body) = get(base, path).await;
        assert_eq!(s, 200, "{path}");
        assert_eq!(std::fs::read(dir.join(path)).unwrap(), body, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_log_is_rate_limited_per_address() {
    let root = tempfile::tempdir().unwrap();
    let home = init(
        root.path(),
        "pub",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--public-log", "127.0.0.1:0"),
            ("--public-log-rate", "1"),
            ("--public-log-burst", "1"),
            ("--anchor-secs", "0"),
        ]),
    );
    let node = NodeProc::up(&home, &[]).await;
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    // Nothing is published before the first checkpoint.
    let mut statuses = Vec::new();
    // 20 requests at one a second pass only if they take 19 s: on any machine some are 429.
    for _ in 0..20 {
        statuses.push(get(&base, "checkpoint").await.0);
    }
    // At most the burst and what the rate refilled meanwhile pass; the rest are 429.
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 404 || *s == 429),
        "{statuses:?}"
    );
    let (s, v): (u16, Value) = node.call(Method::GET, "/v1/audit/head", None).await;
    assert_eq!(
        s, 200,
        "the agent API is not limited by the public one: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_keeps_a_tlog_proof_and_checks_it_offline_and_on_chain() {
    use super::anchoring::audit;
    let root = tempfile::tempdir().unwrap();
    let home = init(
        root.path(),
        "pub",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--public-log", "127.0.0.1:0"),
            ("--anchor-secs", "0"),
            ("--publish-secs", "100000"),
        ]),
    );
    let mut node = NodeProc::up(&home, &[]).await;
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    grow(&node, 20).await;
    anchor_and_read(&node, &base).await;
    // The auditor's own directory: nothing of the agent's but its public URL.
    let auditor = root.path().join("auditor");
    std::fs::create_dir_all(&auditor).unwrap();
    let file = auditor.join("e7.tlog-proof");
    let f = file.to_str().unwrap();
    let (code, out) = audit(
        &auditor,
        &["proof", "--log", &base, "--index", "7", "-o", f],
        "",
    );
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");

    let (code, out) = audit(&auditor, &["verify-proof", f], "");
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["index"].as_u64()),
        (Some(true), Some(7)),
        "{v}"
    );
    assert_eq!(v["did"], node.did.as_str());
    assert_eq!(v["event"]["type"], "capability_issued", "{v}");
    let (code, out) = audit(&auditor, &["verify-proof", f, "--did", &node.did], "");
    assert_eq!(code, 0, "{out}");

    // Another agent's DID, a changed path, a changed entry: invalid (1). Garbage: 2.
    let other = talos_testkit::keys::identity(9).did().to_string();
    assert_eq!(
        audit(&auditor, &["verify-proof", f, "--did", &other], "").0,
        1
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut changed = lines.clone();
    let flipped = if lines[3].starts_with('A') { "B" } else { "A" };
    let hash = format!("{flipped}{}", &lines[3][1..]);
    changed[3] = &hash;
    let changed = changed.join("\n") + "\n";
    assert_eq!(audit(&auditor, &["verify-proof", "-"], &changed).0, 1);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut event = base64::Engine::decode(&b64, &lines[1]["extra ".len()..]).unwrap();
    let last = event.len() - 2;
    event[last] ^= 1;
    let entry = format!("extra {}", base64::Engine::encode(&b64, &event));
    let changed = text.replacen(lines[1], &entry, 1);
    assert_eq!(audit(&auditor, &["verify-proof", "-"], &changed).0, 1);
    assert_eq!(audit(&auditor, &["verify-proof", "-"], "not a proof").0, 2);
    // A witness policy the checkpoint does not meet (no witness cosigned it): 1.
    let witness = talos_audit::witness::WitnessKey::of("w1", &talos_testkit::keys::identity(3));
    let w = witness.to_string();
    assert_eq!(
        audit(&auditor, &["verify-proof", f, "--witness", &w], "").0,
        1
    );

    // Against the chain the agent anchored on (its embedded chain: read once it stops),
    // and the same proof from its own home.
    assert!(node.term().await.success());
    let (code, out) = audit(&home, &["verify-proof", f, "--chain", "embedded"], "");
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["anchored"]["block"].as_u64().is_some(), "{v}");
    let (code, local) = audit(&home, &["proof", "--index", "7"], "");
    assert_eq!(code, 0, "{local}");
    assert_eq!(local, text);
}
