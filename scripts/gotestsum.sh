#!/usr/bin/env bash
# Prints the path of gotestsum (pinned), installing it into .tools/ on first use.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.13.0
dir=$root/.tools/gotestsum@$version
if [ ! -x "$dir/gotestsum" ]; then
  echo "gotestsum: installing $version into $dir" >&2
  GOBIN=$dir go install "gotest.tools/gotestsum@$version" >&2
fi
echo "$dir/gotestsum"
