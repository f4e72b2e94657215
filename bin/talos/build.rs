//! Links the `production` build of `talos` with the functions nodes run placed next to
//! each other (`code-order.txt`, written by `scripts/code-order.py`; #23: idle RSS). A
//! page of code the node runs is read with read-ahead around it and mapped with its
//! cached neighbours, so code spread over the whole `.text` kept 21 MiB resident for
//! ~9 MiB of pages run (benches/RESULTS.md).
//!
//! The names are mangled symbols whose hashes depend on the profile, the dependencies and
//! rustc, so the file is for `production` only and is regenerated when they change
//! (`scripts/code-order.py check` counts how many still match). The flag is LLD's, the
//! default linker of x86_64 Linux since Rust 1.90; a build that picks another linker
//! (`-fuse-ld`, `linker-features`, a target linker variable) or sets
//! `TALOS_NO_CODE_ORDER` links without it. LLD skips names the build lacks.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=TALOS_NO_CODE_ORDER");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    // OUT_DIR is <target>/<profile>/build/...: the one way a build script sees a custom
    // profile's name (PROFILE says only "release").
    let production = Path::new(&env("OUT_DIR"))
        .components()
        .any(|c| c.as_os_str() == "production");
    let flags = env("CARGO_ENCODED_RUSTFLAGS");
    let other_linker = flags.contains("fuse-ld")
        || flags.contains("linker-features")
        || flags.contains("linker-flavor")
        || !env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_empty();
    let order = Path::new(&env("CARGO_MANIFEST_DIR")).join("code-order.txt");
    if !order.exists() {
        return;
    }
    println!("cargo:rerun-if-changed=code-order.txt");
    if production
        && env("TARGET") == "x86_64-unknown-linux-gnu"
        && !other_linker
        && std::env::var_os("TALOS_NO_CODE_ORDER").is_none()
    {
        println!(
            "cargo:rustc-link-arg-bin=talos=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=talos=-Wl,--no-warn-symbol-ordering");
    }
}
