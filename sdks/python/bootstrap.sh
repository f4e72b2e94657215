#!/usr/bin/env bash
# Creates sdks/python/.venv with the pinned tools and talos-agent installed editable.
# Idempotent and quiet when already done: a stamp holds the hash of what was installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.bootstrap-stamp"
want="$(cat "$here/requirements-dev.txt" "$here/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"
# Editable, without build isolation: hatchling comes pinned from requirements-dev.txt.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$here"
echo "$want" >"$stamp"
echo "bootstrap: $venv ready"
