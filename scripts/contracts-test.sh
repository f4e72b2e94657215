#!/usr/bin/env bash
# The anchor contract's checks, part of `make test`: the committed ABI/bytecode artifact
# is current, and the forge suite passes with the CI profile (10,000 fuzz runs per fuzz
# test, 256 x 64 invariant calls), printing the gas report.
set -euo pipefail
cd "$(dirname "$0")/../contracts"
./artifacts.sh --check
FOUNDRY_PROFILE=ci ./node_modules/.bin/forge test --gas-report
