#!/usr/bin/env bash
# The TypeScript SDK's checks, in order: bootstrap (npm ci when needed), the generated
# schema is what the OpenAPI document gives, strict typecheck, build, unit tests, then the
# end-to-end tests against two real `talos up` processes (and examples/typescript/run.sh).
# The e2e tests skip without a talos binary ($TALOS_BIN, else the debug build under
# ${CARGO_TARGET_DIR:-~/.cache/talos-target}); TALOS_E2E=require makes that a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
./bootstrap.sh
./generate.sh --check
node_modules/.bin/tsc --noEmit -p .
rm -rf dist
node_modules/.bin/tsc -p .
node --test dist/test/unit.test.js
node --test --test-concurrency=1 dist/test/e2e.test.js
