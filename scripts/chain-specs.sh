#!/usr/bin/env bash
# Regenerates chain-spec/dev.json and chain-spec/local.json from the runtime's genesis
# presets (`dev`: one validator; `local`: four). Run after changing the runtime or its
# presets; `cargo test -p talos-chain-node` fails while a committed spec is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"
cargo build --locked -p talos-chain-node
bin="$CARGO_TARGET_DIR/debug/talos-chain"
for preset in dev local; do
    "$bin" build-spec --chain "$preset" --disable-default-bootnode 2>/dev/null > "chain-spec/$preset.json"
    echo "wrote chain-spec/$preset.json"
done
