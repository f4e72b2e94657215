#!/usr/bin/env bash
# The TypeScript example in one command:
#
#     examples/typescript/run.sh
#
# builds the SDK (sdks/typescript: npm ci when needed, tsc) and this example, starts two
# talos nodes in temp homes (the planner's and booking's, booking's bootstrapped from the
# planner's), runs agent.ts (the booking agent: issues the planner a capability, serves
# calls) and planner.ts (invokes booking under it), prints what the planner got and
# cleans everything up. Needs Node.js >= 20 and the talos binary ($TALOS_BIN, else the
# debug build under ${CARGO_TARGET_DIR:-~/.cache/talos-target}).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdk="$(cd "$here/../../sdks/typescript" && pwd)"
talos="${TALOS_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}/debug/talos}"
[ -x "$talos" ] || { echo "no talos binary at $talos (set TALOS_BIN)" >&2; exit 2; }

# The SDK, built (in place: the SDK's own tests run this script from its dist/), and
# linked where `import ... from "@talos/agent"` finds it.
"$sdk/bootstrap.sh"
(cd "$sdk" && node_modules/.bin/tsc -p .)
mkdir -p "$here/node_modules/@talos"
ln -sfn "$sdk" "$here/node_modules/@talos/agent"
(cd "$here" && rm -rf dist && "$sdk/node_modules/.bin/tsc" -p .)

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
export TALOS_PASSPHRASE="example-passphrase"

# ready_field NAME KEY: a field of the node's ready line (its first line of stdout).
ready_field() {
    node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]; const v=JSON.parse(l)[process.argv[2]]; console.log(Array.isArray(v)?v[0]:v)' "$tmp/$1.out" "$2"
}

# start NAME [BOOTSTRAP]: talos init + talos up, then waits (up to 60 s) for the ready line.
start() {
    local name="$1" boot=()
    [ -n "${2:-}" ] && boot=(--bootstrap "$2")
    "$talos" --home "$tmp/$name" init --mdns false --api 127.0.0.1:0 \
        --listen /ip4/127.0.0.1/tcp/0 "${boot[@]}" >/dev/null
    "$talos" --home "$tmp/$name" up >"$tmp/$name.out" 2>"$tmp/$name.log" &
    pids+=($!)
    for _ in $(seq 600); do
        [ -s "$tmp/$name.out" ] && head -n1 "$tmp/$name.out" | grep -q '"ready"' && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$tmp/$name.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$name: no ready line" >&2
    exit 1
}

start planner
start booking "$(ready_field planner listen)"

node "$here/dist/agent.js" "$tmp/booking" "$(ready_field planner did)" "$tmp/grant.json" &
pids+=($!)
node "$here/dist/planner.js" "$tmp/planner" "$tmp/grant.json"
