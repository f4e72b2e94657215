#!/usr/bin/env bash
# Everything the Python SDK checks, in order: the pinned venv, the generated code against
# the OpenAPI document, mypy --strict, a py3-none-any wheel, then pytest (unit tests, and
# the end-to-end tests against real `talos up` processes and examples/python/run.sh).
#
# The e2e tests need the talos binary: $TALOS_BIN, else the debug build under
# ${CARGO_TARGET_DIR:-~/.cache/talos-target}. Without it they are skipped, unless
# TALOS_E2E=require (then they fail).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
./bootstrap.sh
./generate.sh --check
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: strict, src/ (less _generated/), tests, bench
dist="$(mktemp -d)"
trap 'rm -rf "$dist"' EXIT
.venv/bin/python -m build --wheel --no-isolation --outdir "$dist" . >/dev/null
wheel="$(ls "$dist"/*.whl)"
case "$(basename "$wheel")" in
    talos_agent-*-py3-none-any.whl) echo "wheel: $(basename "$wheel")" ;;
    *) echo "not a pure-Python wheel: $wheel" >&2; exit 1 ;;
esac
# The wheel holds the generated client and the typing marker.
.venv/bin/python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for want in ("talos_agent/py.typed", "talos_agent/_generated/client.py", "talos_agent/client.py"):
    assert want in names, f"{want} missing from the wheel"
assert not any(n.endswith((".so", ".pyd")) for n in names), "native code in the wheel"
PY
.venv/bin/pytest -q "$@"
