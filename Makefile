# The two README commands are `make demo` and `make test`; each works on a fresh machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/talos-target

.PHONY: bootstrap demo test test-build lint deny deny-tool nostd fuzz-build fuzz-smoke bench ci

bootstrap:
	@scripts/bootstrap.sh

# The demo runs the dev profile (the hot crypto crates are optimized in Cargo.toml), and
# `--workspace` resolves features as the test build does, so `make test` after it reuses
# every crate it built instead of building them twice.
demo: bootstrap
	cargo build --locked --workspace --bin talos
	$(CARGO_TARGET_DIR)/debug/talos demo

# Runs every suite, then fails if any failed, naming them (scripts/test.sh).
test: bootstrap
	scripts/test.sh

# Only the build `make test` runs on (CI times it apart).
test-build: bootstrap
	scripts/test.sh --build-only

# fmt, and clippy's lints as replayed from the test build (scripts/lint.sh).
lint: bootstrap
	scripts/lint.sh

# Licenses, duplicate versions and sources (deny.toml). Advisories need the RustSec
# database from GitHub, which CI here cannot reach: run `cargo deny check advisories` where
# the network allows.
deny: deny-tool
	cargo deny check bans licenses sources

deny-tool:
	@command -v cargo-deny >/dev/null || cargo install cargo-deny --locked

# talos-primitives must build without std, as the runtime uses it.
nostd: bootstrap
	cargo build --locked -p talos-primitives --no-default-features --target wasm32v1-none

fuzz-build:
	scripts/fuzz-smoke.sh --build-only

fuzz-smoke:
	scripts/fuzz-smoke.sh

bench:
	cargo build --release -p talos --bin talos
	cargo build --release -p talos-chain-node
	cargo bench -p talos-benches --features peers

ci: test lint deny nostd fuzz-smoke
