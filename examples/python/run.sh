#!/usr/bin/env bash
# The Python example in one command:
#
#     examples/python/run.sh
#
# starts two talos nodes in temp homes (the planner's and booking's, booking's
# bootstrapped from the planner's), runs booking.py (issues the planner a capability,
# serves calls) and planner.py (invokes booking under it), prints what the planner got
# and cleans everything up. Needs the talos binary ($TALOS_BIN, else the debug build
# under ${CARGO_TARGET_DIR:-~/.cache/talos-target}) and sdks/python's venv (made here
# by sdks/python/bootstrap.sh when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdk="$here/../../sdks/python"
talos="${TALOS_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}/debug/talos}"
[ -x "$talos" ] || { echo "no talos binary at $talos (set TALOS_BIN)" >&2; exit 2; }
"$sdk/bootstrap.sh"
py="$sdk/.venv/bin/python"

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
    "$py" -c 'import json,sys; v=json.loads(open(sys.argv[1]).readline())[sys.argv[2]]; print(v[0] if isinstance(v, list) else v)' "$tmp/$1.out" "$2"
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

"$py" "$here/booking.py" "$tmp/booking" "$(ready_field planner did)" "$tmp/grant.json" &
pids+=($!)
"$py" "$here/planner.py" "$tmp/planner" "$tmp/grant.json"
