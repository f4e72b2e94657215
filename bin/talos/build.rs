//! Links the optimized `talos` binary with the functions an idle node runs placed next to
//! each other (`code-order.txt`, written by `scripts/code-order.py`; #23: idle RSS). The
//! kernel maps a program's code 64 KiB at a time, so code spread over the whole `.text`
//! keeps far more of it resident than the node runs: 21 MiB for ~9 MiB of pages run.
//!
//! Only for release-family profiles (`release`, `production`) on x86_64 Linux, whose
//! default linker since Rust 1.90 is LLD, the linker that takes the file. Names the build
//! no longer has are skipped, so a stale file costs memory, never a failed link.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=code-order.txt");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = std::env::var("TARGET").unwrap_or_default();
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = Path::new(&dir).join("code-order.txt");
    if release && target == "x86_64-unknown-linux-gnu" && order.exists() {
        println!(
            "cargo:rustc-link-arg-bin=talos=-Wl,--symbol-ordering-file={},--no-warn-symbol-ordering",
            order.display()
        );
    }
}
