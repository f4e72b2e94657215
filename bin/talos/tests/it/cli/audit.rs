//! `talos audit ...`: roots, checkpoints, proofs and anchoring, with their exit codes.

use std::process::Output;

fn run(home: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    talos_testkit::node::talos_run(home, "pw", args, stdin)
}

#[test]
fn prove_and_verify_round_trip_with_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    // Written where a home before store layout 3 kept its log: the first command moves
    // it into the node's store, and every proof below is over the moved log.
    {
        let log = talos_store::AuditLog::open(
            &home.path().join("store"),
            talos_store::LogConfig::default(),
        )
        .unwrap();
        for i in 0..20u8 {
            log.append(vec![i; 10]).unwrap();
        }
    }
    let out = run(home.path(), &["audit", "prove", "7"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(home.path().join("store.moved").exists());
    assert!(!home.path().join("store").exists());
    let proof = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        run(home.path(), &["audit", "verify-inclusion"], &proof)
            .status
            .code(),
        Some(0)
    );
    let mut v: serde_json::Value = serde_json::from_str(&proof).unwrap();
    v["leafIdx"] = 8.into();
    assert_eq!(
        run(home.path(), &["audit", "verify-inclusion"], &v.to_string())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(
            home.path(),
            &["audit", "verify-inclusion"],
            "{\"leafIdx\":1}"
        )
        .status
        .code(),
        Some(2)
    );

    let out = run(home.path(), &["audit", "prove-consistency", "5", "20"], "");
    let proof = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        run(home.path(), &["audit", "verify-consistency"], &proof)
            .status
            .code(),
        Some(0)
    );
    let mut v: serde_json::Value = serde_json::from_str(&proof).unwrap();
    v["size1"] = 6.into();
    assert_eq!(
        run(
            home.path(),
            &["audit", "verify-consistency"],
            &v.to_string()
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        run(home.path(), &["audit", "verify-consistency"], "not json")
            .status
            .code(),
        Some(2)
    );
}

fn append(home: &std::path::Path, from: u8, to: u8) {
    let (_, log) = talos_node::home::Home::resolve(Some(home.to_path_buf()))
        .unwrap()
        .open_stores()
        .unwrap();
    for i in from..to {
        log.append(vec![i; 10]).unwrap();
    }
}

fn ok_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn anchor_then_verify_anchored_on_the_embedded_chain() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let id = ok_json(&run(h, &["id", "new", "--json"], "")).to_string();
    assert!(!id.is_empty());
    // Before anything is anchored, there is no chain to check against.
    let early = run(
        h,
        &[
            "audit",
            "verify-anchored",
            "--did",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "--inclusion",
            "-",
        ],
        "{}",
    );
    assert_eq!(early.status.code(), Some(3));

    append(h, 0, 20);
    let a20 = ok_json(&run(h, &["audit", "anchor", "--json"], ""));
    assert_eq!(a20["treeSize"], 20);
    let did = a20["did"].as_str().unwrap().to_string();
    append(h, 20, 30);
    let a30 = ok_json(&run(h, &["audit", "anchor", "--json"], ""));
    assert!(a30["block"].as_u64().unwrap() > a20["block"].as_u64().unwrap());

    let verify = |flag: &str, proof: &str| {
        run(
            h,
            &["audit", "verify-anchored", "--did", &did, flag, "-"],
            proof,
        )
    };
    let proof =
        String::from_utf8(run(h, &["audit", "prove", "7", "--size", "20"], "").stdout).unwrap();
    let ok = ok_json(&verify("--inclusion", &proof));
    assert_eq!(ok["anchored"][0]["treeSize"], 20);
    assert_eq!(ok["chain"], "embedded");

    // A proof against a size that was never anchored, or a different tree: invalid.
    let unanchored =
        String::from_utf8(run(h, &["audit", "prove", "7", "--size", "25"], "").stdout).unwrap();
    assert_eq!(verify("--inclusion", &unanchored).status.code(), Some(1));
    let mut v: serde_json::Value = serde_json::from_str(&proof).unwrap();
    v["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    assert_eq!(verify("--inclusion", &v.to_string()).status.code(), Some(1));
    assert_eq!(verify("--inclusion", "nope").status.code(), Some(2));

    let cons =
        String::from_utf8(run(h, &["audit", "prove-consistency", "20", "30"], "").stdout).unwrap();
    let ok = ok_json(&verify("--consistency", &cons));
    assert_eq!(ok["anchored"][1]["treeSize"], 30);

    // Another DID anchored nothing.
    let other = run(
        h,
        &[
            "audit",
            "verify-anchored",
            "--did",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "--inclusion",
            "-",
        ],
        &proof,
    );
    assert_eq!(other.status.code(), Some(1));
    assert!(
        run(h, &["audit", "anchor", "--chain", "bitcoin"], "")
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn checkpoint_signs_and_verifies() {
    let home = tempfile::tempdir().unwrap();
    assert!(run(home.path(), &["id", "new"], "").status.success());
    let out = run(home.path(), &["audit", "checkpoint", "--json"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (note, key) = (
        v["note"].as_str().unwrap(),
        v["verifierKey"].as_str().unwrap(),
    );
    assert_eq!(
        run(
            home.path(),
            &["audit", "verify-checkpoint", "--key", key],
            note
        )
        .status
        .code(),
        Some(0)
    );
    let other = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_eq!(
        run(
            home.path(),
            &["audit", "verify-checkpoint", "--key", other],
            note
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        run(
            home.path(),
            &["audit", "verify-checkpoint", "--key", "garbage"],
            note
        )
        .status
        .code(),
        Some(2)
    );
}
