# The two README commands are `make demo` and `make test`; each works on a fresh machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/talos-target

.PHONY: bootstrap demo test lint nostd fuzz-smoke bench ci

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	cargo run --locked --release -p talos-node -- demo

test: bootstrap
	cargo nextest run --workspace --locked --no-fail-fast
	# The pallets' benchmark test suites and try-state checks need their features.
	cargo nextest run --locked --no-fail-fast -p pallet-talos-did -p pallet-talos-anchor --features runtime-benchmarks,try-runtime
	scripts/contracts-test.sh

lint: bootstrap
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

# talos-primitives must build without std, as the runtime uses it.
nostd: bootstrap
	cargo build --locked -p talos-primitives --no-default-features --target wasm32v1-none

fuzz-smoke:
	scripts/fuzz-smoke.sh

bench:
	cargo build --release -p talos-node --bin talos
	cargo bench -p talos-benches

ci: lint nostd test fuzz-smoke
