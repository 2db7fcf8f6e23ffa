#!/usr/bin/env bash
# Prints the path of goreleaser (pinned, the version GNUmakefile names),
# installing it into .tools/ on first use.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^GORELEASER_VERSION *:= *//p' "$root/GNUmakefile")
dir=$root/.tools/goreleaser@$version
if [ ! -x "$dir/goreleaser" ]; then
  echo "goreleaser: installing $version into $dir" >&2
  GOBIN=$dir go install "github.com/goreleaser/goreleaser/v2@$version" >&2
fi
echo "$dir/goreleaser"
