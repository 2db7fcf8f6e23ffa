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
# OpenTofu: the consumer proofs, the quick start and the registry install run
# under both CLIs; the provider's own acceptance tests run under Terraform.
tofu=$(scripts/tofu.sh)
echo "test: OpenTofu CLI $tofu ($("$tofu" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'))"
goreleaser=$(scripts/goreleaser.sh)

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
export TF_ACC=1 TF_ACC_TERRAFORM_PATH=$tf SECURESTATE_TOFU_PATH=$tofu SECURESTATE_GORELEASER=$goreleaser
# Each test records the CLIs it runs (acctest.CLIs); the summary counts them.
export SECURESTATE_CLI_LOG=$root/.tools/cli-use.jsonl
: >"$SECURESTATE_CLI_LOG"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

go vet ./...
# gotestsum shows the run as `go test -v` would and keeps the test2json events;
# the figures come from those events (scripts/testsummary), never from text.
gotestsum=$(scripts/gotestsum.sh)
json=${log%.log}.json
set +e
"$gotestsum" --format standard-verbose --hide-summary=skipped --jsonfile "$json" -- \
  ./... -race -count=1 -timeout "${TEST_TIMEOUT:-30m}" ${TESTARGS:-} 2>&1 | tee "$log" | grep -v -E '^=== (RUN|PAUSE|CONT)'
status=${PIPESTATUS[0]}
set -e

echo
require_acc=-require-acc
[ -z "${TESTARGS:-}" ] || require_acc=
summary_status=0
go run ./scripts/testsummary $require_acc -endpoint "$AWS_ENDPOINT_URL" -clis "$SECURESTATE_CLI_LOG" -o "$root/.tools/test-summary" <"$json" || summary_status=$?
[ "$status" -ne 0 ] || status=$summary_status
exit "$status"
