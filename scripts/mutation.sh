#!/usr/bin/env bash
# `make mutation`: mutation testing of the packages whose tests are unit tests,
# with gremlins (pinned in GNUmakefile, passed as GREMLINS). For each package
# gremlins changes one operator at a time in the package's code (not its
# tests), runs the package's tests against each change and records whether a
# test failed (killed), none did (lived), none reached the changed line (not
# covered) or the run outlasted its timeout (timed out). Prints per package:
# killed, lived, not covered, timed out, efficacy = killed/(killed+lived),
# mutant coverage = (killed+lived)/(killed+lived+not covered), and the time
# taken.
#
# No emulator and no TF_ACC: acceptance tests skip, so only unit tests count.
# Slow (see CONTRIBUTING.md, "Mutation testing"), so not part of `make test`.
#
#   scripts/mutation.sh                       every package below
#   scripts/mutation.sh kmskey tags           some of them
#   MUTATION_WORKERS=2 scripts/mutation.sh    mutants tested in parallel (default 1)
#   MUTATION_LIVED=1 scripts/mutation.sh      also list the mutants that lived
#
# Per package, gremlins' JSON results and log go to .tools/mutation/.
# gremlins copies the module for each worker; it works on a snapshot of the
# files git knows (tracked and new, not ignored ones such as .tools/), so the
# copy is small and edits made while it runs do not mix into the results.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

gremlins=${GREMLINS:?GREMLINS must name the gremlins binary (make mutation sets it)}
packages=(policies policydoc naming validate tags kmskey statebucket locktable accesspolicy audittrail alarms awsclient replication statevents)
[ "$#" -gt 0 ] && packages=("$@")
workers=${MUTATION_WORKERS:-1}
# gremlins times a mutant out after (time of the first, coverage-gathering
# `go test`) x coefficient. That first run may be served from the build cache
# while each mutant needs a compile and link on a shared machine, so the
# default of 3 turns slow builds into "timed out"; 10 leaves room.
coefficient=${MUTATION_TIMEOUT_COEFFICIENT:-10}
out=$root/.tools/mutation
mkdir -p "$out"

# Unit tests only, whatever the caller's shell has exported.
unset TF_ACC AWS_ENDPOINT_URL AWS_CA_BUNDLE AWS_PROFILE TF_ACC_TERRAFORM_PATH
export CHECKPOINT_DISABLE=1

summary() { # package json seconds
  python3 - "$@" <<'EOF'
import json, sys
pkg, path, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
r = json.load(open(path))
killed, lived = r["mutants_killed"], r["mutants_lived"]
statuses = [m["status"] for f in r.get("files", []) for m in f["mutations"]]
not_covered = r["mutants_not_covered"]
timed_out = statuses.count("TIMED OUT")
# As gremlins computes them; a timed-out mutant counts in neither.
efficacy = f"{100 * killed / (killed + lived):.1f}%" if killed + lived else "-"
reached = killed + lived + not_covered
coverage = f"{100 * (killed + lived) / reached:.1f}%" if reached else "-"
print(f"{pkg:<13} {killed:>6} {lived:>5} {not_covered:>11} {timed_out:>9} {efficacy:>9} {coverage:>8} {secs:>6.0f}s")
EOF
}

lived() { # json
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for f in r.get("files", []):
    for m in f["mutations"]:
        if m["status"] == "LIVED":
            print(f"    lived: {f['file_name']}:{m['line']}:{m['column']} {m['type']}")
EOF
}

snapshot=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
trap 'rm -rf "$snapshot"' EXIT
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$snapshot"
cd "$snapshot"

header=$(printf '%-13s %6s %5s %11s %9s %9s %8s %7s' package killed lived "not covered" "timed out" efficacy coverage time)
rows=()
status=0
began=$SECONDS
for p in "${packages[@]}"; do
  [ -d "$snapshot/internal/$p" ] || { echo "mutation: no package internal/$p" >&2; exit 2; }
  echo "mutation: internal/$p ..." >&2
  start=$SECONDS
  rm -f "$out/$p.json"
  if ! "$gremlins" unleash --workers "$workers" --timeout-coefficient "$coefficient" \
    --output "$out/$p.json" "./internal/$p" >"$out/$p.log" 2>&1 || [ ! -s "$out/$p.json" ]; then
    echo "mutation: gremlins failed on internal/$p (log: $out/$p.log)" >&2
    tail -20 "$out/$p.log" >&2 || true
    status=1
    continue
  fi
  rows+=("$(summary "$p" "$out/$p.json" $((SECONDS - start)))")
  [ -n "${MUTATION_LIVED:-}" ] && rows+=("$(lived "$out/$p.json")")
done

echo
echo "$header"
printf '%s\n' "${rows[@]}" | sed '/^$/d'
echo
echo "mutation: ${#packages[@]} packages in $((SECONDS - began))s (workers $workers, timeout coefficient $coefficient); results in $out"
exit "$status"
