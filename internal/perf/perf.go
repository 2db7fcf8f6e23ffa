// Package perf is the latency benchmark a user can run (`make bench`): the
// real provider, driven by the real Terraform CLI, against the emulator behind
// the fault proxy, which holds every AWS request for a fixed delay. For each
// scenario it measures the median wall time of the Terraform command and the
// AWS requests the proxy saw, and compares the time with the bound
// floor + critical path × delay, where the floor is a `terraform apply` that
// reads only the caller identity and the critical path (in sequential round
// trips) comes from the provider's component graph (backend.CriticalPath).
//
// Much of a command's time is CPU (Terraform's, the provider's, the
// emulator's) that does not depend on the delay, so unless BASELINE=0 every
// scenario, the floor included, also runs with the proxy's delay at 0 ms, and
// the table shows the round trips the command waited one after the other:
// ((wall − wall₀) − (floor − floor₀)) / delay, the slope of its time in the
// delay less the floor's, which compares with the critical path directly.
//
// This file holds the pure part (settings, medians, the bound, the table),
// unit-tested without an emulator; the measurement is TestAccLatency in
// latency_test.go. See PERFORMANCE.md.
package perf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// Environment variables of the benchmark (scripts/bench.sh sets them from
// `make bench DELAY=… RUNS=… RUNS_MANY=…`).
const (
	// EnvFull selects the full benchmark; without it TestAccLatency is the
	// smoke run of `make test` (one run of the floor, a create and a destroy).
	EnvFull     = "SECURESTATE_BENCH"
	EnvDelay    = "SECURESTATE_BENCH_DELAY"     // per-request delay, a Go duration; default 30ms
	EnvRuns     = "SECURESTATE_BENCH_RUNS"      // runs per scenario (the median is reported); default 5
	EnvRunsMany = "SECURESTATE_BENCH_RUNS_MANY" // runs of the 20-backend shape; default: as EnvRuns
	EnvShapes   = "SECURESTATE_BENCH_SHAPES"    // comma-separated shape names to run; default: all
	EnvOut      = "SECURESTATE_BENCH_OUT"       // file the table is also written to
	// EnvBaseline: "0" skips the zero-delay pass; "1" or unset runs it.
	EnvBaseline = "SECURESTATE_BENCH_BASELINE"
)

// DefaultRuns is how many times each scenario runs by default.
const DefaultRuns = 5

// Settings are the benchmark's knobs.
type Settings struct {
	Full  bool
	Delay time.Duration
	// Baseline: every scenario also runs with the delay at 0 ms (off when
	// Delay is 0 itself: there is no slope to measure).
	Baseline bool
	Runs     int
	RunsMany int
	Shapes   []string // empty: all
	Out      string
}

// ParseSettings reads the settings from the environment (getenv), refusing
// values that would make the figures meaningless rather than defaulting them.
func ParseSettings(getenv func(string) string) (Settings, error) {
	s := Settings{Full: getenv(EnvFull) != "", Delay: acctest.DefaultDelay, Runs: DefaultRuns, Out: getenv(EnvOut)}
	if v := getenv(EnvDelay); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("%s=%q: want a duration such as 30ms, zero or more", EnvDelay, v)
		}
		s.Delay = d
	}
	switch v := getenv(EnvBaseline); v {
	case "", "1":
		s.Baseline = s.Delay > 0
	case "0":
		s.Baseline = false
	default:
		return s, fmt.Errorf("%s=%q: want 1 (measure every scenario at 0 ms too) or 0 (skip that pass)", EnvBaseline, v)
	}
	runs := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%s=%q: want a whole number of runs, at least 1", name, v)
		}
		return n, nil
	}
	var err error
	if s.Runs, err = runs(EnvRuns, DefaultRuns); err != nil {
		return s, err
	}
	if s.RunsMany, err = runs(EnvRunsMany, s.Runs); err != nil {
		return s, err
	}
	for f := range strings.SplitSeq(getenv(EnvShapes), ",") {
		if f = strings.TrimSpace(f); f != "" {
			s.Shapes = append(s.Shapes, f)
		}
	}
	if !s.Full {
		// The smoke run only proves the harness works.
		s.Runs, s.RunsMany = 1, 1
	}
	return s, nil
}

// Wants reports whether the settings select the shape.
func (s Settings) Wants(shape string) bool {
	return len(s.Shapes) == 0 || slices.Contains(s.Shapes, shape)
}

// Sample is one run of one scenario.
type Sample struct {
	Wall     time.Duration
	Requests int
}

// Row is one line of the table: the runs of one operation on one shape.
type Row struct {
	Shape        string
	Op           string
	Samples      []Sample // with the configured delay
	Samples0     []Sample // with the delay at 0 ms; none when the zero-delay pass is off
	CriticalPath int      // sequential round trips from the component graph; 0 for the floor
}

// Wall is the median wall time of the row's runs with the delay.
func (r Row) Wall() time.Duration {
	return median(r.Samples, func(s Sample) time.Duration { return s.Wall })
}

// Wall0 is the median wall time of the row's runs at 0 ms (0 for none).
func (r Row) Wall0() time.Duration {
	return median(r.Samples0, func(s Sample) time.Duration { return s.Wall })
}

// Requests is the median AWS request count of the row's runs.
func (r Row) Requests() int {
	return median(r.Samples, func(s Sample) int { return s.Requests })
}

// Bound is the time an operation needs at least, given the floor (the fixed
// cost of a Terraform command with the provider, measured) and a critical path
// of round trips each costing the delay: floor + critical path × delay.
func Bound(floor time.Duration, criticalPath int, delay time.Duration) time.Duration {
	return floor + time.Duration(criticalPath)*delay
}

// RoundTrips is how many delays an operation waited one after the other,
// beyond the floor's: the growth of its median wall time from 0 ms to the delay
// (wall − wall0), less the floor's growth (floor − floor0, Terraform's and the
// provider's own start-up round trips), divided by the delay. Time that does
// not depend on the delay (CPU of Terraform, the provider and the emulator)
// cancels out, so it compares with the critical path. 0 when delay is not
// positive.
func RoundTrips(wall, wall0, floor, floor0, delay time.Duration) float64 {
	if delay <= 0 {
		return 0
	}
	return float64((wall-wall0)-(floor-floor0)) / float64(delay)
}

// median returns the middle value (the mean of the two middle ones for an even
// count; 0 for none).
func median[T int | time.Duration](samples []Sample, get func(Sample) T) T {
	vs := make([]T, len(samples))
	for i, s := range samples {
		vs[i] = get(s)
	}
	slices.Sort(vs)
	switch n := len(vs); {
	case n == 0:
		return 0
	case n%2 == 1:
		return vs[n/2]
	default:
		return (vs[n/2-1] + vs[n/2]) / 2
	}
}

// Table renders the rows as a Markdown table (it pastes into PERFORMANCE.md
// as is). floor is the floor row (its medians, with the delay and at 0 ms, are
// the floor of every bound and of every round-trip figure); a row's request
// column shows the range too when the runs differ. The zero-delay columns
// show "–" when a row or the floor has no run at 0 ms or the delay is 0.
func Table(rows []Row, floor Row, delay time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| shape | operation | runs | wall time (median) | AWS requests | wall at 0 ms (median) | critical path (round trips) | round trips waited = ((wall − wall₀) − (floor − floor₀)) / delay | bound = floor + path × %s | measured / bound |\n", delay)
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	baseline := delay > 0 && len(floor.Samples) > 0 && len(floor.Samples0) > 0
	stub := true
	for _, r := range rows {
		bound := Bound(floor.Wall(), r.CriticalPath, delay)
		ratio := "–"
		if bound > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.Wall())/float64(bound))
		}
		wall0, waited := "–", "–"
		if len(r.Samples0) > 0 {
			wall0 = seconds(r.Wall0())
			if baseline && len(r.Samples) > 0 {
				waited = fmt.Sprintf("%.1f", RoundTrips(r.Wall(), r.Wall0(), floor.Wall(), floor.Wall0(), delay))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %d | %s | %s | %s |\n",
			r.Shape, r.Op, len(r.Samples), seconds(r.Wall()), requests(r), wall0, r.CriticalPath, waited, seconds(bound), ratio)
		if r.Op != "floor" && r.CriticalPath != 0 {
			stub = false
		}
	}
	if baseline {
		fmt.Fprintf(&b, "\nThe floor itself waits %.1f round trips ((%s − %s) / %s: Terraform's and the provider's start-up), subtracted from every row's round trips.\n",
			float64(floor.Wall()-floor.Wall0())/float64(delay), seconds(floor.Wall()), seconds(floor.Wall0()), delay)
	}
	if stub {
		b.WriteString("\nEvery critical path is 0: backend.CriticalPath is still the stub, so each bound is the floor alone.\n")
	}
	return b.String()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func requests(r Row) string {
	if len(r.Samples) == 0 {
		return "–"
	}
	lo := slices.MinFunc(r.Samples, func(a, b Sample) int { return a.Requests - b.Requests }).Requests
	hi := slices.MaxFunc(r.Samples, func(a, b Sample) int { return a.Requests - b.Requests }).Requests
	if lo == hi {
		return strconv.Itoa(r.Requests())
	}
	return fmt.Sprintf("%d (%d–%d)", r.Requests(), lo, hi)
}
