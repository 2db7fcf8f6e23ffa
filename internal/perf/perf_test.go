package perf

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(env(map[string]string{EnvFull: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Full || s.Delay != 30*time.Millisecond || s.Runs != 5 || s.RunsMany != 5 || len(s.Shapes) != 0 || !s.Wants(shapeTwenty) {
		t.Errorf("defaults: %+v", s)
	}

	s, err = ParseSettings(env(map[string]string{EnvFull: "1", EnvDelay: "0s", EnvRuns: "3", EnvRunsMany: "1", EnvShapes: "plain, monitored"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Delay != 0 || s.Runs != 3 || s.RunsMany != 1 || !s.Wants(shapeMonitored) || s.Wants(shapeTwenty) {
		t.Errorf("explicit settings: %+v", s)
	}

	// Without SECURESTATE_BENCH it is the smoke run: one run, whatever RUNS says.
	s, err = ParseSettings(env(map[string]string{EnvRuns: "7"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Full || s.Runs != 1 || s.RunsMany != 1 {
		t.Errorf("smoke settings: %+v", s)
	}

	for name, bad := range map[string]map[string]string{
		"delay not a duration": {EnvDelay: "30"},
		"negative delay":       {EnvDelay: "-1ms"},
		"zero runs":            {EnvRuns: "0"},
		"runs not a number":    {EnvRuns: "five"},
		"zero runs of 20":      {EnvRunsMany: "0"},
	} {
		if _, err := ParseSettings(env(bad)); err == nil {
			t.Errorf("%s: %v accepted", name, bad)
		}
	}
}

func samples(walls ...time.Duration) []Sample {
	out := make([]Sample, len(walls))
	for i, w := range walls {
		out[i] = Sample{Wall: w, Requests: 60 + i}
	}
	return out
}

func TestRowMedians(t *testing.T) {
	odd := Row{Samples: samples(3*time.Second, 1*time.Second, 2*time.Second)}
	if odd.Wall() != 2*time.Second || odd.Requests() != 61 {
		t.Errorf("median of 3: %s, %d requests", odd.Wall(), odd.Requests())
	}
	even := Row{Samples: samples(4*time.Second, 1*time.Second, 2*time.Second, 3*time.Second)}
	if even.Wall() != 2500*time.Millisecond || even.Requests() != 61 {
		t.Errorf("median of 4: %s, %d requests", even.Wall(), even.Requests())
	}
	if (Row{}).Wall() != 0 {
		t.Errorf("median of none is not 0")
	}
}

func TestBound(t *testing.T) {
	if got := Bound(450*time.Millisecond, 7, 30*time.Millisecond); got != 660*time.Millisecond {
		t.Errorf("Bound = %s, want 660ms", got)
	}
}

func TestTable(t *testing.T) {
	delay := 30 * time.Millisecond
	floor := Row{Shape: "–", Op: "floor", Samples: []Sample{{Wall: 500 * time.Millisecond, Requests: 3}}}
	create := Row{Shape: "plain", Op: "create", CriticalPath: 10, Samples: []Sample{{Wall: 1600 * time.Millisecond, Requests: 69}, {Wall: 1600 * time.Millisecond, Requests: 70}, {Wall: 1600 * time.Millisecond, Requests: 69}}}
	got := Table([]Row{floor, create}, floor.Wall(), delay)
	for _, want := range []string{
		"| shape | operation | runs | wall time (median) | AWS requests | critical path (round trips) | bound = floor + path × 30ms | measured / bound |",
		"| – | floor | 1 | 0.50 s | 3 | 0 | 0.50 s | 1.00 |",
		// 0.5 s + 10 × 30 ms = 0.8 s; 1.6 / 0.8 = 2.
		"| plain | create | 3 | 1.60 s | 69 (69–70) | 10 | 0.80 s | 2.00 |",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("table lacks the line\n%s\n in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "stub") {
		t.Errorf("a table with a critical path says it is the stub:\n%s", got)
	}

	create.CriticalPath = 0
	if got := Table([]Row{floor, create}, floor.Wall(), delay); !strings.Contains(got, "backend.CriticalPath is still the stub") {
		t.Errorf("a table whose critical paths are all 0 does not say so:\n%s", got)
	}
}
