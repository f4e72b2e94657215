#!/usr/bin/env bash
# Builds the contract and writes artifacts/TalosAnchor.json (ABI, creation and runtime
# bytecode, compiler settings): the file talos-anchor compiles in with alloy's `sol!` and
# the embedded EVM deploys. `./artifacts.sh --check` fails when the committed file is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./node_modules/.bin/forge build --quiet
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
node - "$out" <<'JS'
const fs = require("fs");
const built = JSON.parse(fs.readFileSync("out/TalosAnchor.sol/TalosAnchor.json", "utf8"));
const meta = built.metadata || {};
const artifact = {
  contractName: "TalosAnchor",
  compiler: (meta.compiler && meta.compiler.version) || "0.8.30",
  settings: { optimizer: { enabled: true, runs: 10000 }, evmVersion: "cancun", bytecodeHash: "none", cborMetadata: false },
  abi: built.abi,
  bytecode: built.bytecode.object,
  deployedBytecode: built.deployedBytecode.object,
};
fs.writeFileSync(process.argv[2], JSON.stringify(artifact, null, 2) + "\n");
JS
if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$out" artifacts/TalosAnchor.json; then
        echo "contracts/artifacts/TalosAnchor.json is stale: run contracts/artifacts.sh and commit it" >&2
        diff <(head -c 2000 artifacts/TalosAnchor.json) <(head -c 2000 "$out") >&2 || true
        exit 1
    fi
    echo "artifacts: up to date"
else
    cp "$out" artifacts/TalosAnchor.json
    echo "artifacts: wrote artifacts/TalosAnchor.json"
fi
