#!/usr/bin/env bash
# `make test`: go vet, unit tests and acceptance tests against a private emulator
# instance that this script starts and stops. Fails when any acceptance test is
# skipped or none ran: an emulator that is missing is a failure, not a skip.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# A private instance, so a `make demo` emulator on :4566 is neither reused nor stopped.
export EMULATOR_PORT=${TEST_EMULATOR_PORT:-4576}
export EMULATOR_DIR=$root/.tools/emulator-test-$EMULATOR_PORT
mkdir -p .tools
log=${TEST_LOG:-$root/.tools/test.log}

: >"$root/.tools/terraformrc"
export TF_CLI_CONFIG_FILE=$root/.tools/terraformrc
tf=$(scripts/terraform.sh)
echo "test: Terraform CLI $tf ($("$tf" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'))"

# A second instance, sharing the CA, for the least-privilege proof: its test
# switches on moto's IAM enforcement (POST /moto-api/reset-auth).
iam_port=${TEST_IAM_EMULATOR_PORT:-$((EMULATOR_PORT + 2))}
main_dir=$EMULATOR_DIR
iam_emulator() {
  EMULATOR_PORT=$iam_port EMULATOR_DIR=$main_dir-iam EMULATOR_CERTS=$main_dir scripts/emulator/emulator.sh "$@"
}
scripts/emulator/emulator.sh start
trap 'scripts/emulator/emulator.sh stop; iam_emulator stop' EXIT
iam_emulator start
eval "$(scripts/emulator/emulator.sh env)"
export SECURESTATE_EMULATOR_IAM_ENDPOINT=https://127.0.0.1:$iam_port
export TF_ACC=1 TF_ACC_TERRAFORM_PATH=$tf
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

go vet ./...
set +e
go test ./... -race -count=1 -v -timeout "${TEST_TIMEOUT:-30m}" ${TESTARGS:-} 2>&1 | tee "$log" | grep -v -E '^=== (RUN|PAUSE|CONT)'
status=${PIPESTATUS[0]}
set -e

passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
acc_passed=$(grep -cE '^\s*--- PASS: TestAcc' "$log" || true)
acc_skipped=$(grep -E '^\s*--- SKIP: TestAcc' "$log" || true)
echo
echo "test: $acc_passed acceptance tests passed against the emulator over TLS ($AWS_ENDPOINT_URL)"
echo "test: $passed passed, $failed failed, $skipped skipped" | tee "$root/.tools/test-summary"
if [ -n "$acc_skipped" ]; then
  echo "test: acceptance tests were skipped, which counts as failure:" >&2
  echo "$acc_skipped" >&2
  exit 1
fi
if [ "$status" -eq 0 ] && [ "$acc_passed" -eq 0 ] && [ -z "${TESTARGS:-}" ]; then
  echo "test: no acceptance test ran" >&2
  exit 1
fi
exit "$status"
