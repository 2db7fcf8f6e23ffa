#!/usr/bin/env bash
# `make demo`: start the local emulator, build the provider, and apply
# examples/quickstart/bootstrap against it with a real Terraform CLI.
# Idempotent: run it again and it re-applies the same configuration.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$root/.tools/demo
mkdir -p "$work"

step() { printf '\n==> %s\n' "$*"; }

export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cat >"$TF_CLI_CONFIG_FILE" <<RC
provider_installation {
  dev_overrides {
    "securestate/securestate" = "$work/bin"
  }
  direct {}
}
RC

step "Terraform CLI"
tf=$(scripts/terraform.sh)
"$tf" version | head -n 1

step "Local AWS emulator (moto over TLS)"
scripts/emulator/emulator.sh start
eval "$(scripts/emulator/emulator.sh env)"

step "Building the provider"
go build -o "$work/bin/terraform-provider-securestate" .

step "Applying examples/quickstart/bootstrap"
mkdir -p "$work/bootstrap"
cp examples/quickstart/bootstrap/*.tf "$work/bootstrap/"
# dev_overrides skip `terraform init`; its warning is reduced to one line.
"$tf" -chdir="$work/bootstrap" apply -auto-approve -input=false -compact-warnings -no-color >"$work/apply.log" 2>&1 \
  || { cat "$work/apply.log" >&2; echo "demo: terraform apply failed (log above)" >&2; exit 1; }
out() { "$tf" -chdir="$work/bootstrap" output -raw "$1"; }

cat <<TXT

The securestate provider is configured against the emulator:
  endpoint   $AWS_ENDPOINT_URL (TLS, certificate from the throwaway CA $AWS_CA_BUNDLE)
  account    $(out account_id)
  caller     $(out caller_arn)
  region     $(out region)

The emulator keeps running so you can explore it with the same environment:
  eval "\$(scripts/emulator/emulator.sh env)"
Stop it with:   make emulator-stop
Remove all local state and tools with:   make clean
TXT
