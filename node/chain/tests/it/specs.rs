//! `chain-spec/*.json` are what `scripts/chain-specs.sh` writes from the runtime's
//! presets. A spec is stale when its genesis (validators, members, sudo, balances, chain
//! name and properties) differs from the preset's, or when its runtime code is of
//! another version than the runtime's. The code itself is not compared byte for byte:
//! the wasm embeds the build machine's paths in panic locations, so two honest builds
//! differ; the runtime version is what says whether they are the same runtime.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn spec_file(preset: &str) -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../chain-spec/{preset}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/chain-specs.sh", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn built(preset: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_talos-chain"))
        .args([
            "build-spec",
            "--chain",
            preset,
            "--disable-default-bootnode",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Takes the runtime code out of a spec and returns its embedded runtime version.
fn take_code_version(spec: &mut Value) -> Vec<u8> {
    let code = spec["genesis"]["runtimeGenesis"]["code"].take();
    let hex_code = code
        .as_str()
        .expect("a plain spec with runtimeGenesis.code");
    let bytes = hex::decode(hex_code.trim_start_matches("0x")).unwrap();
    let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(&bytes).unwrap();
    let v = blob
        .custom_section_contents("runtime_version")
        .expect("the runtime embeds its version");
    v.to_vec()
}

#[test]
fn committed_chain_specs_match_the_runtime() {
    for preset in ["dev", "local"] {
        let mut fresh = built(preset);
        let mut committed = spec_file(preset);
        let fresh_version = take_code_version(&mut fresh);
        let committed_version = take_code_version(&mut committed);
        assert_eq!(
            fresh, committed,
            "chain-spec/{preset}.json is stale: run scripts/chain-specs.sh"
        );
        assert_eq!(
            fresh_version, committed_version,
            "chain-spec/{preset}.json holds another runtime version: run scripts/chain-specs.sh"
        );
    }
}

#[test]
fn the_local_spec_has_four_validators_and_dev_one() {
    let keys = |preset: &str| {
        spec_file(preset)["genesis"]["runtimeGenesis"]["patch"]["session"]["keys"]
            .as_array()
            .map(Vec::len)
    };
    assert_eq!(keys("dev"), Some(1));
    assert_eq!(keys("local"), Some(4));
}
