#!/usr/bin/env bash
# No native solc can be downloaded on our build machines (only package registries are
# reachable), so forge runs the npm `solc` package (solcjs, pinned in package.json)
# through this wrapper: it answers `--version` in the native format forge parses, and
# passes `--standard-json` through (stdin to stdout). forge inlines every source in the JSON input, so the
# path options it adds are not needed and are dropped.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
solcjs="$here/node_modules/.bin/solcjs"
for arg in "$@"; do
    if [ "$arg" = "--version" ]; then
        echo "solc, the solidity compiler commandline interface"
        echo "Version: $("$solcjs" --version)"
        exit 0
    fi
done
# solcjs exits with process.exit(), which truncates stdout when it is a pipe (at 64 KiB),
# so its output goes to a file first. It also prints a ">>> Cannot retry compilation with
# SMT ..." notice before the JSON, which is dropped so forge reads pure JSON.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$solcjs" --standard-json > "$out"
sed '/^>>> /d' "$out"
