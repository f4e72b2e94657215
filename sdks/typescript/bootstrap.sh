#!/usr/bin/env bash
# Installs the pinned tools and dependencies (package-lock.json) into node_modules with
# `npm ci`. Idempotent and quiet when node_modules is newer than the lockfile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -d "$here/node_modules/typescript" ] && [ ! "$here/package-lock.json" -nt "$here/node_modules" ]; then
    exit 0
fi
command -v npm >/dev/null || { echo "bootstrap: npm is needed (Node.js >= 20)" >&2; exit 2; }
echo "bootstrap: npm ci (sdks/typescript)" >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
