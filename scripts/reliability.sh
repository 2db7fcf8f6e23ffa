#!/usr/bin/env bash
# `make reliability`: the full fault matrix (every fault kind at every AWS call
# of a create and a forced destroy), the trace-log scan, the bad-input corpus
# and the fuzz targets, then the figures. Long: see RELIABILITY.md.
# RELIABILITY_FULL= (empty) runs only the fast fault subset, to check this script.
# The full matrix takes about two hours on 2 cores (the plain backend's alone
# 47 minutes), hence the 3-hour test timeout (RELIABILITY_TIMEOUT).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
log=$root/.tools/reliability.log
mkdir -p .tools
# Its own emulator ports, so `make test` can run beside it.
RELIABILITY_FULL=${RELIABILITY_FULL-1} TEST_TIMEOUT=${RELIABILITY_TIMEOUT:-180m} TEST_LOG=$log TEST_EMULATOR_PORT=${RELIABILITY_EMULATOR_PORT:-4620} TESTARGS="-run TestAccReliability|TestProviderConfig_invalid|TestBackend_invalidArguments|TestBackend_accessInvalid|TestBackend_monitoringInvalid|TestBackend_importIDValidation|TestDataSources_invalidArguments|TestLocks_invalidArguments -parallel 4" \
  scripts/test.sh >"$log" 2>&1 || { tail -n 60 "$log"; echo "reliability: tests failed (log: $log)" >&2; exit 1; }
FUZZTIME=${FUZZTIME:-30s} scripts/fuzz.sh | tee -a "$log"

echo
echo "== Reliability figures =="
grep -h 'figure:' "$log" | sed 's/^[[:space:]]*[a-z_]*\.go:[0-9]*: figure: /  /'
bad=$(grep -cE -- '--- PASS: (TestProviderConfig_invalid|TestBackend_invalidArguments|TestBackend_accessInvalid|TestBackend_monitoringInvalid|TestBackend_importIDValidation|TestDataSources_invalidArguments|TestLocks_invalidArguments)/' "$log" || true)
echo "  bad-input corpus: $bad invalid configurations and import IDs, each refused at plan with the attribute named"
grep -h '^fuzz: [0-9]* targets' "$log" | sed 's/^fuzz: /  fuzzing: /'
