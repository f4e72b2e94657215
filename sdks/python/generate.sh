#!/usr/bin/env bash
# Regenerates src/talos_agent/_generated/ from the node's OpenAPI document with the pinned
# openapi-python-client. `--check` generates into a temp dir instead and fails (exit 1,
# with the diff) when the committed code differs, so a changed API cannot go unnoticed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../../crates/node/api/openapi.json"
dest="$here/src/talos_agent/_generated"
venv="$here/.venv"
[ -x "$venv/bin/openapi-python-client" ] || "$here/bootstrap.sh"
# The generator's post hooks run ruff from PATH: the venv's pinned one.
export PATH="$venv/bin:$PATH" RUFF_NO_CACHE=true

generate() { # generate OUT_DIR
    local work
    work="$(mktemp -d)"
    "$venv/bin/openapi-python-client" generate --path "$spec" --meta none \
        --config "$here/openapi-generator.yaml" --output-path "$work/_generated" \
        >"$work/log" 2>&1 || { cat "$work/log" >&2; rm -rf "$work"; return 1; }
    rm -rf "$1"
    mv "$work/_generated" "$1"
    rm -rf "$work"
}

if [ "${1:-}" = "--check" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    generate "$tmp/_generated"
    if ! diff -ru --exclude=__pycache__ "$dest" "$tmp/_generated"; then
        echo "generate.sh --check: $dest is not what the OpenAPI document generates; run sdks/python/generate.sh" >&2
        exit 1
    fi
    echo "generated code is up to date"
else
    generate "$dest"
    echo "generated $dest"
fi
