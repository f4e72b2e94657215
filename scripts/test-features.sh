# Sourced by scripts/test.sh and scripts/lint.sh: the features of the one workspace build
# that the tests and the lint share (and that reuses every crate `make demo` built).
#
# The pallets' benchmark test suites and try-state checks need `runtime-benchmarks` and
# `try-runtime`. Enabling them in the workspace build rather than in a second `-p pallet`
# run keeps feature unification identical for every test, so no crate is built twice
# (a separate run rebuilt ~260 crates). The runtime's wasm is built by its own nested
# cargo with the runtime's features, so the chain the tests run is the production wasm.
TALOS_TEST_FEATURES="pallet-talos-members/runtime-benchmarks,pallet-talos-members/try-runtime,pallet-talos-did/runtime-benchmarks,pallet-talos-did/try-runtime,pallet-talos-anchor/runtime-benchmarks,pallet-talos-anchor/try-runtime"
