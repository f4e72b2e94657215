//! `talos cap verify` against the capability conformance vectors (FORMAT.md §9): for every
//! case the CLI reports the library's verdict and FORMAT.md kind, exits 1 for every
//! refusal (malformed tokens and an empty chain included), checks invocations (§6), and
//! keeps exit 2 for input that is not a token at all.

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;
use talos_capability::invocation::Request;
use talos_capability::{Authorizer, MemoryRevocations, Possession, VerifierConfig};
use talos_primitives::{CapabilityId, Did};

use talos_testkit::node::talos;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/capability/test-vectors/conformance.json"
);

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap()
}

fn case<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn expected(case: &Value) -> String {
    match case["expect"]["verdict"].as_str().unwrap() {
        "allow" => "allow".into(),
        _ => case["expect"]["kind"].as_str().unwrap().into(),
    }
}

/// The library's verdict, as the capability crate's conformance test computes it.
fn library_verdict(file: &Value, case: &Value) -> String {
    let callee: Did = serde_json::from_value(file["callee"].clone()).unwrap();
    let config = VerifierConfig {
        trusted_roots: serde_json::from_value(file["trustedRoots"].clone()).unwrap(),
        max_depth: file["maxDepth"].as_u64().unwrap() as usize,
    };
    let mut authz = Authorizer::new(config, 64, 64, file["nonceTtlSeconds"].as_u64().unwrap());
    let chain: Vec<String> = serde_json::from_value(case["chain"].clone()).unwrap();
    let revoked: MemoryRevocations =
        serde_json::from_value::<Vec<CapabilityId>>(case["revoked"].clone())
            .unwrap()
            .into_iter()
            .collect();
    let req = &case["request"];
    let request = Request {
        callee: &callee,
        resource: req["resource"].as_str().unwrap(),
        action: req["action"].as_str().unwrap(),
        args: req["args"].as_object().unwrap(),
        now: req["at"].as_u64().unwrap(),
    };
    let peer: Option<Did> = case["possession"]
        .get("channel")
        .map(|v| serde_json::from_value(v.clone()).unwrap());
    let possession = match (&peer, case["possession"].get("invocation")) {
        (Some(p), _) => Possession::Channel(p),
        (None, Some(inv)) => Possession::Invocation(inv.as_str().unwrap()),
        _ => panic!("case without possession"),
    };
    match authz.authorize(&chain, &request, possession, &revoked) {
        Ok(_) => "allow".into(),
        Err(e) => e.kind().into(),
    }
}

/// The `talos cap verify` arguments for a case, its chain and any invocation in `dir`.
fn cli_args(dir: &Path, file: &Value, case: &Value) -> Vec<String> {
    let name = case["name"].as_str().unwrap();
    let chain: Vec<String> = serde_json::from_value(case["chain"].clone()).unwrap();
    let chain_file = dir.join(format!("{name}.chain"));
    std::fs::write(&chain_file, chain.join("\n")).unwrap();
    let req = &case["request"];
    let mut args: Vec<String> = vec![
        "cap".into(),
        "verify".into(),
        "--json".into(),
        "--token".into(),
        chain_file.display().to_string(),
        "--callee".into(),
        file["callee"].as_str().unwrap().into(),
        "--resource".into(),
        req["resource"].as_str().unwrap().into(),
        "--action".into(),
        req["action"].as_str().unwrap().into(),
        "--args".into(),
        req["args"].to_string(),
        "--now".into(),
        req["at"].to_string(),
    ];
    for r in file["trustedRoots"].as_array().unwrap() {
        args.extend(["--root".into(), r.as_str().unwrap().into()]);
    }
    for r in case["revoked"].as_array().unwrap() {
        args.extend(["--revoked".into(), r.as_str().unwrap().into()]);
    }
    let p = &case["possession"];
    if let Some(peer) = p.get("channel") {
        args.extend(["--holder".into(), peer.as_str().unwrap().into()]);
    } else {
        let inv_file = dir.join(format!("{name}.inv"));
        std::fs::write(&inv_file, p["invocation"].as_str().unwrap()).unwrap();
        args.extend(["--invocation".into(), inv_file.display().to_string()]);
    }
    args
}

fn run(args: &[String]) -> Output {
    talos().args(args).stdin(Stdio::null()).output().unwrap()
}

/// The exit code and the verdict the CLI printed: "allow" or the kind.
fn verdict(out: &Output) -> (Option<i32>, String) {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?} stderr {:?}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let said = match v["verdict"].as_str() {
        Some("allow") => "allow".to_string(),
        Some("deny") => v["kind"].as_str().unwrap().to_string(),
        other => format!("{other:?}"),
    };
    (out.status.code(), said)
}

#[test]
fn cap_verify_reports_the_spec_kind_for_every_refusal() {
    let file = vectors();
    // The CLI's fixed settings are the vectors'.
    assert_eq!(file["maxDepth"], 8);
    assert_eq!(file["nonceTtlSeconds"], 300);
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = vec![];
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 70, "{} cases", cases.len());
    for case in cases {
        let want = expected(case);
        let lib = library_verdict(&file, case);
        let (code, said) = verdict(&run(&cli_args(dir.path(), &file, case)));
        let want_code = if want == "allow" { 0 } else { 1 };
        if lib != want || said != want || code != Some(want_code) {
            wrong.push(format!(
                "{}: expected {want}, library {lib}, CLI {said} (exit {code:?})",
                case["name"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cap_verify_checks_an_invocation() {
    let file = vectors();
    let dir = tempfile::tempdir().unwrap();
    let allow = case(&file, "allow_invocation");
    let args = cli_args(dir.path(), &file, allow);
    assert!(args.iter().any(|a| a == "--invocation"));
    assert_eq!(verdict(&run(&args)), (Some(0), "allow".into()));

    let with = |flag: &str, value: &str| {
        let mut a = args.clone();
        let i = a.iter().position(|x| x == flag).unwrap();
        a[i + 1] = value.into();
        verdict(&run(&a))
    };
    let mallory = file["keys"]["mallory"]["did"].as_str().unwrap();
    // The invocation names its callee: another one is the wrong audience.
    assert_eq!(
        with("--callee", mallory),
        (Some(1), "wrong_audience".into())
    );
    // Ten minutes later it is outside the 300 s replay window (the leaf is valid for an hour).
    let at = allow["request"]["at"].as_u64().unwrap();
    assert_eq!(
        with("--now", &(at + 600).to_string()),
        (Some(1), "replay".into())
    );
    // It signs the arguments.
    assert_eq!(
        with("--args", r#"{"amount":451}"#),
        (Some(1), "invocation_mismatch".into())
    );
    // A file that is not a JWS is a refusal, not unusable input.
    let garbage = dir.path().join("garbage.inv");
    std::fs::write(&garbage, "not a jws\n").unwrap();
    assert_eq!(
        with("--invocation", garbage.to_str().unwrap()),
        (Some(1), "malformed_jws".into())
    );
    // `--at` still names the time.
    let mut a = args.clone();
    let i = a.iter().position(|x| x == "--now").unwrap();
    a[i] = "--at".into();
    assert_eq!(verdict(&run(&a)), (Some(0), "allow".into()));
}

#[test]
fn empty_chain_is_empty_chain() {
    let file = vectors();
    let dir = tempfile::tempdir().unwrap();
    let empty = case(&file, "deny_empty_chain");
    assert_eq!(empty["chain"], serde_json::json!([]));
    let args = cli_args(dir.path(), &file, empty);
    assert_eq!(verdict(&run(&args)), (Some(1), "empty_chain".into()));
    // Whitespace only, and without a pinned root or callee: the same.
    let blank = dir.path().join("blank");
    std::fs::write(&blank, "\n \n").unwrap();
    let holder = file["keys"]["assistant"]["did"].as_str().unwrap();
    let out = run(&[
        "cap".into(),
        "verify".into(),
        "--json".into(),
        "--token".into(),
        blank.display().to_string(),
        "--holder".into(),
        holder.into(),
        "--resource".into(),
        "talos://x".into(),
        "--action".into(),
        "a".into(),
    ]);
    assert_eq!(verdict(&out), (Some(1), "empty_chain".into()));
}

#[test]
fn cap_verify_exits_2_only_for_input_that_is_not_a_token() {
    let file = vectors();
    let dir = tempfile::tempdir().unwrap();
    let channel = cli_args(dir.path(), &file, case(&file, "allow_two_links_channel"));
    let invoked = cli_args(dir.path(), &file, case(&file, "allow_invocation"));
    let with = |base: &[String], flag: &str, value: &str| {
        let mut a = base.to_vec();
        let i = a.iter().position(|x| x == flag).unwrap();
        a[i + 1] = value.into();
        run(&a)
    };
    let missing = dir.path().join("missing").display().to_string();
    for out in [
        with(&channel, "--token", &missing),
        with(&invoked, "--invocation", &missing),
        with(&channel, "--holder", "not-a-did"),
        with(&channel, "--callee", "did:key:nope"),
        with(&channel, "--root", "nope"),
        with(&channel, "--args", "[1]"),
        with(&channel, "--now", "yesterday"),
    ] {
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let mut revoked = channel.clone();
    revoked.extend(["--revoked".into(), "xyz".into()]);
    assert_eq!(run(&revoked).status.code(), Some(2));
    // Both proofs of possession, or neither: a bad flag.
    let mut both = channel.clone();
    both.extend(["--invocation".into(), missing.clone()]);
    assert_eq!(run(&both).status.code(), Some(2));
    let i = channel.iter().position(|x| x == "--holder").unwrap();
    let mut neither = channel.clone();
    neither.drain(i..i + 2);
    assert_eq!(run(&neither).status.code(), Some(2));

    // Anything in the token file is a token to judge: exit 1 with its kind.
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "not-a-token").unwrap();
    assert_eq!(
        verdict(&with(&channel, "--token", garbage.to_str().unwrap())),
        (Some(1), "malformed_jws".into())
    );
}
