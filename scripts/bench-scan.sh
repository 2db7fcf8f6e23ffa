#!/usr/bin/env bash
# The state scan's figures (part of `make bench`, alone with `make bench-scan`):
# BenchmarkScan100MB scans a synthetic ~100 MB Terraform state generated on the
# fly, SCAN_RUNS times (default 3), and reports throughput in MB/s, the peak
# live heap during a scan (sampled every millisecond) and the findings made.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=${SCAN_RUNS:-3}
out=$(go test ./internal/statescan -run '^$' -bench '^BenchmarkScan100MB$' -benchtime "${runs}x" -count 1 2>&1) || {
  echo "$out" >&2
  echo "bench-scan: the benchmark failed" >&2
  exit 1
}
line=$(grep '^BenchmarkScan100MB' <<<"$out")
field() { awk -v unit="$1" '{for (i = 2; i <= NF; i++) if ($i == unit) print $(i - 1)}' <<<"$line"; }
echo
echo "== State scan benchmark (securestate_state_scan) =="
echo "  machine:     $(nproc) cores, $(uname -sm), $(go version | cut -d' ' -f3); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  input:       synthetic state of ~100 MB (internal/statescan/synth_test.go), streamed; $runs runs"
echo "  throughput:  $(field MB/s) MB/s"
echo "  peak heap:   $(field peak-heap-MiB) MiB (live heap sampled every 1 ms during a scan)"
echo "  allocated:   $(field B/op) B/op in $(field allocs/op) allocations per scan"
echo "  findings:    $(field findings) per scan (as generated)"
