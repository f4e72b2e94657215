#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test talos. Idempotent and quiet when
# everything is already there.
set -euo pipefail

# chromium: the dashboard's browser test (Playwright drives Debian's build; a browser
# download of Playwright's own cannot work on these machines).
apt_packages=(clang libclang-dev protobuf-compiler libssl-dev pkg-config chromium)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The runtime (and the no_std check of talos-primitives) builds for wasm32v1-none.
if ! rustup target list --installed | grep -qx wasm32v1-none; then
    rustup target add wasm32v1-none >&2
fi
if ! rustup component list --installed | grep -q '^rust-src'; then
    rustup component add rust-src >&2
fi
# .cargo/config.toml compiles our crates with clippy-driver (the lint rides on the build).
for c in clippy rustfmt; do
    rustup component list --installed | grep -q "^$c" || rustup component add "$c" >&2
done
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked >&2

# The anchor contract's tools (forge, anvil, solcjs) come from npm, pinned in
# contracts/package-lock.json. `npm install` rather than `npm ci`: npm's lockfile check
# trips over the other platforms' optional forge/anvil binaries.
if ! command -v npm >/dev/null; then
    echo "bootstrap: installing nodejs npm" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
contracts="$(cd "$(dirname "${BASH_SOURCE[0]}")/../contracts" && pwd)"
if [ ! -x "$contracts/node_modules/.bin/forge" ] || [ "$contracts/package-lock.json" -nt "$contracts/node_modules" ]; then
    echo "bootstrap: npm install (forge, anvil, solcjs)" >&2
    (cd "$contracts" && npm install --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
fi
# The real MCP servers the MCP proxy tests front, and the MCP conformance suite, pinned in
# mcp-servers/package-lock.json.
servers="$(cd "$(dirname "${BASH_SOURCE[0]}")/../mcp-servers" && pwd)"
if [ ! -x "$servers/node_modules/.bin/mcp-server-filesystem" ] || [ "$servers/package-lock.json" -nt "$servers/node_modules" ]; then
    echo "bootstrap: npm ci (MCP servers, conformance)" >&2
    (cd "$servers" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
fi
# The dashboard's browser test (playwright-core) and the chart library the dashboard
# vendors, pinned in browser-tests/package-lock.json.
browser="$(cd "$(dirname "${BASH_SOURCE[0]}")/../browser-tests" && pwd)"
if [ ! -d "$browser/node_modules/playwright-core" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules" ]; then
    echo "bootstrap: npm ci (browser tests)" >&2
    (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
fi
# The A2A Python SDK, whose card signature code checks talos cards (and signs cards talos
# must accept) in bin/talos/tests/it/card.rs; pinned in interop/a2a/requirements.txt.
a2a="$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop/a2a" && pwd)"
if [ ! -x "$a2a/.venv/bin/python" ] || [ "$a2a/requirements.txt" -nt "$a2a/.venv" ]; then
    echo "bootstrap: python venv (a2a-sdk interop)" >&2
    python3 -m venv "$a2a/.venv" >&2
    "$a2a/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$a2a/requirements.txt" >&2
    touch "$a2a/.venv"
fi
# Digital Bazaar's eddsa-jcs-2022 cryptosuite, an independent Data Integrity
# implementation our attestation credentials interoperate with both ways
# (bin/talos/tests/it/attest.rs); pinned in interop/vc-di/package-lock.json.
"$(dirname "${BASH_SOURCE[0]}")/../interop/vc-di/bootstrap.sh"
# The TypeScript SDK's pinned tools (openapi-typescript, tsc) and dependencies.
"$(dirname "${BASH_SOURCE[0]}")/../sdks/typescript/bootstrap.sh"
# The Python SDK's venv: its pinned tools (openapi-python-client, mypy, pytest, build).
"$(dirname "${BASH_SOURCE[0]}")/../sdks/python/bootstrap.sh"
