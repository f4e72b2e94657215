//! The CLI on its own: `talos id`, `talos cap`, `talos audit` and `talos demo`, run as the
//! real binary.

use talos_testkit::node::talos;

#[test]
fn did_key_from_seed_matches_vector() {
    let out = talos()
        .args(["id", "did-key", "--seed", &"00".repeat(32)])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
    let out = talos()
        .args(["id", "did-key", "--seed", "abc", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}

/// One exit code per outcome, the same across `id`, `cap`, `audit` and `agent`
/// (`docs/cli.md#exit-codes`): 0 done, 1 refused, 2 unusable input, 3 unavailable.
#[test]
fn each_outcome_has_its_own_exit_code() {
    use std::io::Write;
    use std::process::Stdio;
    let home = tempfile::tempdir().unwrap();
    let code = |args: &[&str], stdin: &str| {
        let mut child = talos()
            .arg("--home")
            .arg(home.path())
            .args(args)
            .env("TALOS_PASSPHRASE", "pass-each-outcome")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait().unwrap().code()
    };
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let verify = [
        "cap",
        "verify",
        "--token",
        "-",
        "--holder",
        did,
        "--resource",
        "talos://x",
        "--action",
        "a",
    ];
    // Unavailable: no keystore yet; no node running for `agent`.
    assert_eq!(code(&["id", "show"], ""), Some(3));
    assert_eq!(
        code(&["agent", "send", "--to", did, "--text", "hi"], ""),
        Some(3)
    );
    // Done.
    assert_eq!(
        code(&["id", "did-key", "--seed", &"00".repeat(32)], ""),
        Some(0)
    );
    assert_eq!(code(&["id", "new"], ""), Some(0));
    assert_eq!(code(&["audit", "root"], ""), Some(0));
    // Refused: a token the spec refuses; a proof that does not hold.
    assert_eq!(code(&verify, "not-a-token"), Some(1));
    let bad_proof = r#"{"leafIdx":0,"treeSize":1,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","leafHash":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","proof":[]}"#;
    assert_eq!(code(&["audit", "verify-inclusion"], bad_proof), Some(1));
    // Unusable input: a malformed seed, a DID clap refuses, a proof that is not JSON.
    assert_eq!(code(&["id", "did-key", "--seed", "abc"], ""), Some(2));
    assert_eq!(
        code(
            &[
                "cap",
                "verify",
                "--token",
                "-",
                "--holder",
                "not-a-did",
                "--resource",
                "talos://x",
                "--action",
                "a"
            ],
            ""
        ),
        Some(2)
    );
    assert_eq!(code(&["audit", "verify-inclusion"], "nope"), Some(2));
    assert_eq!(code(&["agent", "revoke", "--id", "zz"], ""), Some(2));
}

#[test]
fn new_show_did_doc() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], pass: &str| {
        talos()
            .args(args)
            .env("TALOS_HOME", home.path())
            .env("TALOS_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    let out = run(&["id", "new", "--json"], "pass-9f3c1e");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let did = created["did"].as_str().unwrap().to_string();
    assert!(did.starts_with("did:key:z6Mk"));
    assert!(created["peerId"].as_str().unwrap().starts_with("12D3KooW"));

    // A second `new` refuses to clobber the identity.
    let out = run(&["id", "new"], "pass-9f3c1e");
    assert!(!out.status.success());

    let out = run(&["id", "show", "--json"], "pass-9f3c1e");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["did"], did.as_str());

    let out = run(&["id", "did-doc", "--json"], "pass-9f3c1e");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["id"], did.as_str());

    let out = run(&["id", "show"], "wrong");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    // Secrets never reach the output (a passphrase no temp path can contain).
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pass-9f3c1e"));
}

#[test]
fn demo_runs() {
    let out = talos().arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("refused"));
    assert!(text.contains("did:talos:z"));
    assert!(text.contains("book LHR-JFK for 450: allowed"));
    assert!(text.contains("refused (widening)"));
    assert!(text.contains("refused (revoked)"));
    assert!(text.contains("inclusion proof of 2 hashes leads to the signed root"));
    assert!(text.contains("the root anchored at size 4 (block 2) matches"));
    assert!(text.contains("refused by the contract: TreeSizeShrinks"));
    // Part two: three real nodes on loopback.
    assert!(text.contains("frame 1 delivered to booking's agent"));
    assert!(text.contains("book LHR-JFK for 450 under the capability: answered"));
    assert!(text.contains("(over the 500 caveat): refused by the callee's node (not_authorized)"));
    assert!(text.contains("\"payment\":{\"charged\":450}"));
    assert!(text.contains("(over the transaction's 1000): refused by the callee's node"));
    assert!(text.contains("after the revocation: refused by the callee's node (revoked)"));
    assert!(text.contains("leads to the root anchored at size"));
}

mod cap {
    use std::io::Write;
    use std::process::{Command, Output, Stdio};
    use talos_testkit::node::talos;

    struct Node {
        home: tempfile::TempDir,
        did: String,
    }

    fn node() -> Node {
        let home = tempfile::tempdir().unwrap();
        let out = talos()
            .args(["id", "new", "--json"])
            .env("TALOS_HOME", home.path())
            .env("TALOS_PASSPHRASE", "pw")
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        Node {
            did: v["did"].as_str().unwrap().to_string(),
            home,
        }
    }

    fn run(n: &Node, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd: Command = talos();
        cmd.args(args)
            .env("TALOS_HOME", n.home.path())
            .env("TALOS_PASSPHRASE", "pw");
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    #[test]
    fn issue_delegate_verify_with_exit_codes() {
        let booking = node();
        let planner = node();
        let assistant = node();
        let out = run(
            &booking,
            &[
                "cap",
                "issue",
                "--to",
                &planner.did,
                "--res",
                "talos://booking/flights/**",
                "--act",
                "book,read",
                "--max",
                "amount=1000",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let root = String::from_utf8(out.stdout).unwrap();
        let out = run(
            &planner,
            &[
                "cap",
                "delegate",
                "--parent",
                "-",
                "--to",
                &assistant.did,
                "--res",
                "talos://booking/flights/LHR-JFK",
                "--act",
                "book",
                "--max",
                "amount=500",
                "--ttl",
                "600",
            ],
            Some(&root),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let chain = String::from_utf8(out.stdout).unwrap();
        assert_eq!(chain.lines().count(), 2);

        let verify = |extra: &[&str]| {
            let mut args = vec![
                "cap",
                "verify",
                "--token",
                "-",
                "--holder",
                &assistant.did,
                "--resource",
                "talos://booking/flights/LHR-JFK",
                "--action",
                "book",
                "--args",
                r#"{"amount":450}"#,
                "--root",
                &booking.did,
                "--json",
            ];
            args.extend_from_slice(extra);
            run(&booking, &args, Some(&chain))
        };
        let out = verify(&[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // Denied: a revoked root.
        let inspect = run(
            &booking,
            &["cap", "inspect", "--token", "-", "--json"],
            Some(&chain),
        );
        let decoded: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
        let root_jti = decoded[0]["claims"]["jti"].as_str().unwrap().to_string();
        let out = verify(&["--revoked", &root_jti]);
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], "revoked");

        // Denied: expired.
        let out = verify(&["--at", "99999999999"]);
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], "expired");

        // A token the spec refuses, however malformed, is a refusal with its kind.
        let out = run(
            &booking,
            &[
                "cap",
                "verify",
                "--token",
                "-",
                "--holder",
                &assistant.did,
                "--resource",
                "talos://x",
                "--action",
                "a",
                "--json",
            ],
            Some("not-a-token"),
        );
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], "malformed_jws");

        // Delegating more than you hold is refused before signing.
        let out = run(
            &planner,
            &[
                "cap",
                "delegate",
                "--parent",
                "-",
                "--to",
                &assistant.did,
                "--res",
                "talos://booking/**",
                "--act",
                "book",
            ],
            Some(&root),
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("widens"));
    }
}

mod audit {
    use std::io::Write;
    use std::process::{Output, Stdio};
    use talos_testkit::node::talos;

    fn run(home: &std::path::Path, args: &[&str], stdin: &str) -> Output {
        let mut child = talos()
            .args(args)
            .env("TALOS_HOME", home)
            .env("TALOS_PASSPHRASE", "pw")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    #[test]
    fn prove_and_verify_round_trip_with_exit_codes() {
        let home = tempfile::tempdir().unwrap();
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
        let log =
            talos_store::AuditLog::open(&home.join("store"), talos_store::LogConfig::default())
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
            String::from_utf8(run(h, &["audit", "prove-consistency", "20", "30"], "").stdout)
                .unwrap();
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
}
