#!/usr/bin/env bash
# Installs the pinned Digital Bazaar packages for the eddsa-jcs-2022 interop
# scripts. Idempotent and cheap: it only runs `npm ci` when node_modules is
# missing or older than package-lock.json, so tests can call it every time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# npm writes node_modules/.package-lock.json on every install; its mtime is a
# more reliable "installed at" stamp than the node_modules directory's.
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  npm ci --no-audit --no-fund
fi
