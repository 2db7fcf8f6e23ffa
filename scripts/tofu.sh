#!/usr/bin/env bash
# Prints the path of an OpenTofu CLI for tests: OpenTofu $version built from the Go
# module proxy into .tools/ on first use (about 5-7 minutes on 2 cores), then cached.
# `go install` refuses OpenTofu only because of its one replace directive (which
# points at another proxied module), so the module is downloaded (verified against
# the checksum database; GONOSUMDB untouched) and built inside its own directory
# (-mod=mod: the module cache is read-only and its go.sum is used as it is). Never downloads release binaries: the only network here is the
# package registries. TOFU=<path> uses that CLI instead.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.10.10
dir=$root/.tools/tofu@$version

if [ -n "${TOFU:-}" ]; then
  echo "$TOFU"
  exit 0
fi
if [ -x "$dir/tofu" ]; then
  echo "$dir/tofu"
  exit 0
fi
echo "tofu: building OpenTofu $version from the Go module proxy into $dir" >&2
mod_dir=$(cd "$root" && go mod download -json "github.com/opentofu/opentofu@$version" |
  sed -n 's/^[[:space:]]*"Dir": *"\(.*\)",*$/\1/p')
[ -d "$mod_dir" ] || { echo "tofu: go mod download gave no module directory" >&2; exit 1; }
mkdir -p "$dir"
# The module cache is read-only; build into a temporary name, then move it in
# place, so an interrupted build never leaves a half-written CLI that looks cached.
(cd "$mod_dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  -o "$dir/tofu.partial" ./cmd/tofu) >&2
mv "$dir/tofu.partial" "$dir/tofu"
echo "$dir/tofu"
