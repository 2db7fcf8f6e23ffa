#!/usr/bin/env bash
# Prints the path of a Terraform CLI for tests: a `terraform` >= 1.8 on PATH, else
# Terraform 1.8.5 built with `go install` into .tools/ (about 4 minutes on 2 cores).
# Never downloads release binaries: the only network here is the package registries.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fallback_version=v1.8.5
fallback_dir=$root/.tools/terraform@$fallback_version

usable() {
  local v
  v=$("$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p') || return 1
  [ -n "$v" ] || return 1
  local major minor
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 8 ]; }
}

if tf=$(command -v terraform 2>/dev/null) && usable "$tf"; then
  echo "$tf"
  exit 0
fi
if [ -x "$fallback_dir/terraform" ]; then
  echo "$fallback_dir/terraform"
  exit 0
fi
echo "terraform: no terraform >= 1.8 on PATH; building $fallback_version into $fallback_dir" >&2
GOBIN=$fallback_dir GOFLAGS=-buildvcs=false go install "github.com/hashicorp/terraform@$fallback_version" >&2
echo "$fallback_dir/terraform"
