#!/usr/bin/env bash
# Regenerates src/generated/schema.ts from the node's OpenAPI document with the pinned
# openapi-typescript (package-lock.json). `--check` generates into a temp file instead and
# fails (exit 1, with the diff) when the committed file differs, so a changed API cannot
# go unnoticed. Deterministic: the same document always gives the same file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../../crates/node/api/openapi.json"
dest="$here/src/generated/schema.ts"
"$here/bootstrap.sh"

generate() { # generate OUT_FILE
    local log
    log="$(mktemp)"
    if ! "$here/node_modules/.bin/openapi-typescript" "$spec" --empty-objects-unknown --output "$1" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

if [ "${1:-}" = "--check" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    generate "$tmp/schema.ts"
    if ! diff -u "$dest" "$tmp/schema.ts"; then
        echo "generate.sh --check: $dest is not what the OpenAPI document generates; run sdks/typescript/generate.sh" >&2
        exit 1
    fi
    echo "generated code is up to date"
else
    mkdir -p "$(dirname "$dest")"
    generate "$dest"
    echo "generated $dest"
fi
