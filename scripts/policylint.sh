#!/usr/bin/env bash
# IAM policy linter, part of `make check`: parliament (PyPI, pinned with its
# dependencies in scripts/policylint/requirements.txt, installed on first use
# into .tools/parliament-<version>) over every policy document the access
# model's combination table renders (internal/policies/access_test.go: key,
# bucket and lock table policies, read-write and read-only access policies per
# environment; with OpenTofu encryption keys, each key's policy and the access
# policies granting it; with replication, the replica key and bucket policies
# and the replication role's trust and permissions policies). Fails on any finding at or above POLICYLINT_MIN_SEVERITY
# (default LOW, parliament's lowest level, so every finding counts) that
# scripts/policylint/allowed.yaml does not allow with a reason.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
PARLIAMENT_VERSION=1.6.4
requirements=scripts/policylint/requirements.txt
venv=$root/.tools/parliament-$PARLIAMENT_VERSION
py=$venv/bin/python
work=$root/.tools/policylint

say() { printf 'policylint: %s\n' "$*" >&2; }

grep -qx "parliament==$PARLIAMENT_VERSION" "$requirements" || { say "$requirements does not pin parliament==$PARLIAMENT_VERSION"; exit 1; }

# Reinstalled whenever the pinned requirements change.
install_parliament() {
  if [ -x "$py" ] && cmp -s "$requirements" "$venv/requirements.txt" && "$py" -W ignore -c "import parliament" 2>/dev/null; then
    return
  fi
  say "installing parliament==$PARLIAMENT_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  mkdir -p "$work"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >"$work/pip.log" 2>&1 \
    || { cat "$work/pip.log" >&2; say "pip install failed"; exit 1; }
  cp "$requirements" "$venv/requirements.txt"
}

install_parliament
rm -rf "$work/documents"
mkdir -p "$work/documents"
POLICYLINT_DIR=$work/documents go test ./internal/policies/ -run '^TestWritePolicyDocumentsForLint$' -count=1 >"$work/write.log" 2>&1 \
  || { cat "$work/write.log" >&2; say "writing the documents failed"; exit 1; }
# pkg_resources (imported by parliament) warns that it is deprecated: -W ignore.
"$py" -W ignore scripts/policylint/lint.py --dir "$work/documents" --allowed scripts/policylint/allowed.yaml \
  --min-severity "${POLICYLINT_MIN_SEVERITY:-LOW}"
