#!/usr/bin/env bash
# `make demo`: the quick start on the local emulator, end to end.
#   1. start the emulator (moto over TLS) and build the provider
#   2. apply examples/quickstart/bootstrap: a hardened backend for dev and prod
#   3. write dev.s3.tfbackend from its outputs
#   4. init and apply examples/quickstart/app with its state in that backend
#   5. show where the state is, how it is encrypted and locked
# Idempotent: a second run re-applies the same configurations.
# TF=tofu runs it with OpenTofu (built into .tools/ on first use, scripts/tofu.sh)
# instead of Terraform; TF=<path> with that CLI.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$root/.tools/demo
mkdir -p "$work/bin" "$work/bootstrap" "$work/app"

step() { printf '\n==> %s\n' "$*"; }
fail() { cat "$1" >&2; printf '\ndemo: %s failed (output above)\n' "$2" >&2; exit 1; }

export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cat >"$TF_CLI_CONFIG_FILE" <<RC
provider_installation {
  dev_overrides {
    "securestate/securestate" = "$work/bin"
  }
  direct {}
}
RC

case "${TF:-terraform}" in
  terraform) tf=$(scripts/terraform.sh) ;;
  tofu) tf=$(scripts/tofu.sh) ;;
  *) tf=$TF ;;
esac
cli=$(basename "$tf")
step "CLI: $cli"
"$tf" version | head -n 1
# S3 lock files (use_lockfile) came with Terraform 1.10; an older CLI gets a
# backend that locks with DynamoDB only.
locking=both
version=$("$tf" version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')
if python3 -c 'import sys; v=[int(x) for x in sys.argv[1].split(".")[:2]]; sys.exit(v >= [1, 10])' "$version"; then
  locking=dynamodb
  echo "$cli $version has no S3 lock files (1.10+): the demo backend uses locking = \"dynamodb\""
fi

step "Local AWS emulator (moto over TLS)"
scripts/emulator/emulator.sh start
eval "$(scripts/emulator/emulator.sh env)"

step "Building the provider"
go build -o "$work/bin/terraform-provider-securestate" .
echo "built $work/bin/terraform-provider-securestate"

step "1/2 Bootstrapping the backend (examples/quickstart/bootstrap)"
cp examples/quickstart/bootstrap/*.tf "$work/bootstrap/"
# dev_overrides run the freshly built provider without `init`.
"$tf" -chdir="$work/bootstrap" apply -auto-approve -input=false -compact-warnings -no-color -var "locking=$locking" >"$work/bootstrap.log" 2>&1 \
  || fail "$work/bootstrap.log" "bootstrap apply"
grep -E '^Apply complete' "$work/bootstrap.log" || true

"$tf" -chdir="$work/bootstrap" output -json tfbackend | python3 -c '
import json, sys
for env, text in json.load(sys.stdin).items():
    open(sys.argv[1] + "/" + env + ".s3.tfbackend", "w").write(text)
' "$work/app"
# What only the emulator needs; with real AWS, dev.s3.tfbackend alone is enough.
cat >"$work/app/emulator.s3.tfbackend" <<TFB
endpoints = {
  s3       = "$AWS_ENDPOINT_URL"
  dynamodb = "$AWS_ENDPOINT_URL"
  sts      = "$AWS_ENDPOINT_URL"
  iam      = "$AWS_ENDPOINT_URL"
}
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
TFB

step "2/2 Using it from an ordinary configuration (examples/quickstart/app, environment dev)"
cp examples/quickstart/app/*.tf "$work/app/"
"$tf" -chdir="$work/app" init -reconfigure -input=false -no-color \
  -backend-config=dev.s3.tfbackend -backend-config=emulator.s3.tfbackend >"$work/app-init.log" 2>&1 \
  || fail "$work/app-init.log" "app init"
"$tf" -chdir="$work/app" apply -auto-approve -input=false -no-color >"$work/app-apply.log" 2>&1 \
  || fail "$work/app-apply.log" "app apply"
grep -E '^Apply complete' "$work/app-apply.log" || true

bucket=$(sed -n 's/^bucket = "\(.*\)"$/\1/p' "$work/app/dev.s3.tfbackend")
key=$(sed -n 's/^key = "\(.*\)"$/\1/p' "$work/app/dev.s3.tfbackend")
table=$(sed -n 's/^dynamodb_table = "\(.*\)"$/\1/p' "$work/app/dev.s3.tfbackend")
lockfile=$(sed -n 's/^use_lockfile = \(.*\)$/\1/p' "$work/app/dev.s3.tfbackend")
kms=$("$tf" -chdir="$work/bootstrap" output -raw kms_key_arn)
# Read the state object's encryption back from S3 (boto3 comes with moto).
encryption=$("$(scripts/emulator/emulator.sh python)" - "$bucket" "$key" 2>"$work/head.log" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], verify=os.environ["AWS_CA_BUNDLE"])
head = s3.head_object(Bucket=sys.argv[1], Key=sys.argv[2])
print(head.get("ServerSideEncryption", "none"), head.get("SSEKMSKeyId", "-"))
PY
) || fail "$work/head.log" "reading the state object's encryption"
read -r sse sse_key <<<"$encryption"
[ "$sse_key" = "$kms" ] && same="the backend's own key" || same="NOT the backend key"
case "$table:$lockfile" in
  ?*:true) locks="DynamoDB table $table and an S3 lock file next to the state (locking = \"both\")" ;;
  ?*:) locks="DynamoDB table $table (locking = \"dynamodb\")" ;;
  *) locks="an S3 lock file next to the state (locking = \"lockfile\")" ;;
esac

cat <<TXT

==> Done. What happened

The backend for environment "dev" (examples/quickstart/app was initialised with it):
$("$tf" -chdir="$work/bootstrap" output -json backend_hcl | python3 -c 'import json,sys; print(json.load(sys.stdin)["dev"])' | sed 's/^/    /')
The app's state is at   s3://$bucket/$key
It is encrypted with    $sse, key $sse_key ($same)
Locking                 $locks
CLI                     $cli $version
Files                   $work/app/dev.s3.tfbackend (use it with: $cli init -backend-config=dev.s3.tfbackend)

The emulator keeps running ($AWS_ENDPOINT_URL) so you can look around:
  eval "\$(scripts/emulator/emulator.sh env)"
Stop it (its data is in memory and goes with it):   make emulator-stop
Remove all local tools and demo files:              make clean
TXT
