#!/usr/bin/env bash
# `make bench`: the latency benchmark (internal/perf, TestAccLatency with
# SECURESTATE_BENCH=1) against a private emulator instance that this script
# starts and stops, behind the fault proxy holding every AWS request for DELAY.
# Prints the machine, the settings and the table of PERFORMANCE.md.
#
#   DELAY       per-request delay, a Go duration (default 30ms)
#   RUNS        runs per scenario, the median is reported (default 5)
#   RUNS_MANY   runs of the 20-backend shape (default: RUNS)
#   SHAPES      comma-separated subset of plain, monitored, 20-backends (default: all)
#   BASELINE    1 (default): every scenario, the floor included, also runs with the
#               delay at 0 ms, interleaved, for the "wall at 0 ms" and "round trips
#               waited" columns; 0 skips that pass (about half the time; the columns show –)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Its own instance and port, so `make test`, `make reliability` or `make demo`
# can run beside it (though the figures are then slower).
export EMULATOR_PORT=${BENCH_EMULATOR_PORT:-4630}
export EMULATOR_DIR=$root/.tools/emulator-test-$EMULATOR_PORT
mkdir -p .tools
log=$root/.tools/bench.log
table=$root/.tools/bench-table.md

: >"$root/.tools/terraformrc"
export TF_CLI_CONFIG_FILE=$root/.tools/terraformrc
tf=$(scripts/terraform.sh)
tf_version=$("$tf" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')

scripts/emulator/emulator.sh start
trap 'scripts/emulator/emulator.sh stop' EXIT
eval "$(scripts/emulator/emulator.sh env)"
export TF_ACC=1 TF_ACC_TERRAFORM_PATH=$tf TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export SECURESTATE_BENCH=1 SECURESTATE_BENCH_DELAY=${DELAY:-30ms} SECURESTATE_BENCH_RUNS=${RUNS:-5} \
  SECURESTATE_BENCH_RUNS_MANY=${RUNS_MANY:-} SECURESTATE_BENCH_SHAPES=${SHAPES:-} SECURESTATE_BENCH_OUT=$table \
  SECURESTATE_BENCH_BASELINE=${BASELINE:-1}
rm -f "$table"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)
# No -race: it would measure the race detector. Progress lines as they come.
set +e
go test ./internal/perf -run '^TestAccLatency$' -count=1 -v -timeout "${BENCH_TIMEOUT:-90m}" 2>&1 \
  | tee "$log" | grep --line-buffered -E 'latency_test.go:[0-9]+: .*(AWS requests|run [0-9]+ of)|^(--- |FAIL|ok )|Error|error'
status=${PIPESTATUS[0]}
set -e

echo
echo "== Latency benchmark =="
echo "  date:      $started"
echo "  machine:   $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory, $(uname -sm); load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  terraform: $tf $tf_version; $(go version | cut -d' ' -f3); emulator moto 5.2.5 on :$EMULATOR_PORT"
if [ "$SECURESTATE_BENCH_BASELINE" = 0 ]; then
  baseline="BASELINE=0 (no zero-delay pass: the wall-at-0 ms and round-trip columns show –)"
else
  baseline="BASELINE=$SECURESTATE_BENCH_BASELINE (each run also at 0 ms delay, interleaved; skipped when DELAY is 0)"
fi
echo "  settings:  DELAY=$SECURESTATE_BENCH_DELAY RUNS=$SECURESTATE_BENCH_RUNS RUNS_MANY=${SECURESTATE_BENCH_RUNS_MANY:-$SECURESTATE_BENCH_RUNS}${SHAPES:+ SHAPES=$SHAPES} $baseline"
echo
if [ -s "$table" ]; then
  cat "$table"
else
  echo "bench: no table (log: $log)" >&2
fi
[ "$status" -eq 0 ] || echo "bench: the benchmark failed (log: $log)" >&2

# The state scan (securestate_state_scan): throughput and peak heap on a
# synthetic 100 MB state, streamed (scripts/bench-scan.sh).
scripts/bench-scan.sh || status=1
exit "$status"
