package perf

import (
	"math"
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
	if !s.Full || s.Delay != 30*time.Millisecond || !s.Baseline || s.Runs != 5 || s.RunsMany != 5 || len(s.Shapes) != 0 || !s.Wants(shapeTwenty) {
		t.Errorf("defaults: %+v", s)
	}

	s, err = ParseSettings(env(map[string]string{EnvFull: "1", EnvBaseline: "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Baseline {
		t.Errorf("%s=0 leaves the zero-delay pass on: %+v", EnvBaseline, s)
	}
	s, err = ParseSettings(env(map[string]string{EnvFull: "1", EnvBaseline: "1", EnvDelay: "50ms"}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Baseline || s.Delay != 50*time.Millisecond {
		t.Errorf("%s=1 with a delay: %+v", EnvBaseline, s)
	}

	s, err = ParseSettings(env(map[string]string{EnvFull: "1", EnvDelay: "0s", EnvRuns: "3", EnvRunsMany: "1", EnvShapes: "plain, monitored"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Delay != 0 || s.Runs != 3 || s.RunsMany != 1 || !s.Wants(shapeMonitored) || s.Wants(shapeTwenty) {
		t.Errorf("explicit settings: %+v", s)
	}
	// At a delay of 0 there is no slope to measure: no zero-delay pass.
	if s.Baseline {
		t.Errorf("the zero-delay pass is on at a delay of 0: %+v", s)
	}

	// Without SECURESTATE_BENCH it is the smoke run: one run, whatever RUNS says.
	s, err = ParseSettings(env(map[string]string{EnvRuns: "7"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Full || s.Runs != 1 || s.RunsMany != 1 || !s.Baseline {
		t.Errorf("smoke settings: %+v", s)
	}

	for name, bad := range map[string]map[string]string{
		"delay not a duration": {EnvDelay: "30"},
		"negative delay":       {EnvDelay: "-1ms"},
		"zero runs":            {EnvRuns: "0"},
		"runs not a number":    {EnvRuns: "five"},
		"zero runs of 20":      {EnvRunsMany: "0"},
		"baseline not 0 or 1":  {EnvBaseline: "yes"},
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

func TestRowWall0(t *testing.T) {
	r := Row{Samples: samples(9 * time.Second), Samples0: samples(3*time.Second, 1*time.Second, 2*time.Second)}
	if r.Wall0() != 2*time.Second || r.Wall() != 9*time.Second {
		t.Errorf("Wall0 = %s, Wall = %s; want 2s and 9s", r.Wall0(), r.Wall())
	}
	if (Row{Samples: samples(time.Second)}).Wall0() != 0 {
		t.Errorf("Wall0 without zero-delay runs is not 0")
	}
}

func TestRoundTrips(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name                       string
		wall, wall0, floor, floor0 time.Duration
		delay                      time.Duration
		want                       float64
	}{
		// (1600 − 1000) − (500 − 410) = 510 ms of waiting beyond the floor's: 25.5 × 20 ms.
		{"every term counts", 1600 * ms, 1000 * ms, 500 * ms, 410 * ms, 20 * ms, 25.5},
		// The fixed cost cancels out: 40 ms more CPU at both delays changes nothing.
		{"fixed cost cancels", 1640 * ms, 1040 * ms, 500 * ms, 410 * ms, 20 * ms, 25.5},
		// A command that grows exactly as the floor waits nothing beyond it.
		{"as the floor", 900 * ms, 810 * ms, 500 * ms, 410 * ms, 30 * ms, 0},
		// Noise can make it negative; it is shown, not hidden.
		{"faster than the floor", 860 * ms, 800 * ms, 500 * ms, 410 * ms, 30 * ms, -1},
		{"no delay", 1600 * ms, 1000 * ms, 500 * ms, 410 * ms, 0, 0},
	} {
		if got := RoundTrips(c.wall, c.wall0, c.floor, c.floor0, c.delay); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: RoundTrips(%s, %s, %s, %s, %s) = %v, want %v", c.name, c.wall, c.wall0, c.floor, c.floor0, c.delay, got, c.want)
		}
	}
}

func TestPasses(t *testing.T) {
	delay := 30 * time.Millisecond
	off := passes(Settings{Delay: delay}, 0)
	if len(off) != 1 || off[0].zero || off[0].delay != delay {
		t.Errorf("without the zero-delay pass: %+v", off)
	}
	on := Settings{Delay: delay, Baseline: true}
	for i, want := range [][2]bool{{false, true}, {true, false}, {false, true}} {
		got := passes(on, i)
		if len(got) != 2 || got[0].zero != want[0] || got[1].zero != want[1] {
			t.Errorf("run %d: %+v, want zero = %v", i, got, want)
			continue
		}
		for _, p := range got {
			if p.zero && (p.delay != 0 || p.label == "") || !p.zero && (p.delay != delay || p.label != "") {
				t.Errorf("run %d: pass %+v", i, p)
			}
		}
	}
}

func TestTable(t *testing.T) {
	delay := 20 * time.Millisecond
	floor := Row{Shape: "–", Op: "floor", Samples: []Sample{{Wall: 500 * time.Millisecond, Requests: 3}}, Samples0: []Sample{{Wall: 410 * time.Millisecond, Requests: 3}}}
	create := Row{Shape: "plain", Op: "create", CriticalPath: 10,
		Samples:  []Sample{{Wall: 1600 * time.Millisecond, Requests: 69}, {Wall: 1600 * time.Millisecond, Requests: 70}, {Wall: 1600 * time.Millisecond, Requests: 69}},
		Samples0: []Sample{{Wall: 1100 * time.Millisecond, Requests: 69}, {Wall: 900 * time.Millisecond, Requests: 69}, {Wall: 1000 * time.Millisecond, Requests: 69}},
	}
	// A row measured at 0 ms while the floor was not: its wall at 0 ms is
	// known, its round trips are not.
	refresh := Row{Shape: "plain", Op: "refresh", CriticalPath: 3, Samples: samples(1200 * time.Millisecond), Samples0: samples(700 * time.Millisecond)}
	got := Table([]Row{floor, create}, floor, delay)
	for _, want := range []string{
		"| shape | operation | runs | wall time (median) | AWS requests | wall at 0 ms (median) | critical path (round trips) | round trips waited = ((wall − wall₀) − (floor − floor₀)) / delay | bound = floor + path × 20ms | measured / bound |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
		"| – | floor | 1 | 0.50 s | 3 | 0.41 s | 0 | 0.0 | 0.50 s | 1.00 |",
		// ((1.6 − 1.0) − (0.5 − 0.41)) / 0.02 = 25.5; bound 0.5 s + 10 × 20 ms = 0.7 s; 1.6 / 0.7 = 2.29.
		"| plain | create | 3 | 1.60 s | 69 (69–70) | 1.00 s | 10 | 25.5 | 0.70 s | 2.29 |",
		// (0.50 − 0.41) / 0.02 = 4.5.
		"The floor itself waits 4.5 round trips ((0.50 s − 0.41 s) / 20ms",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks\n%s\nin:\n%s", want, got)
		}
	}
	if strings.Contains(got, "stub") {
		t.Errorf("a table with a critical path says it is the stub:\n%s", got)
	}

	// Without the zero-delay pass (BASELINE=0) the two columns show "–".
	floorOnly, createOnly := floor, create
	floorOnly.Samples0, createOnly.Samples0 = nil, nil
	got = Table([]Row{floorOnly, createOnly, refresh}, floorOnly, delay)
	for _, want := range []string{
		"| – | floor | 1 | 0.50 s | 3 | – | 0 | – | 0.50 s | 1.00 |\n",
		"| plain | create | 3 | 1.60 s | 69 (69–70) | – | 10 | – | 0.70 s | 2.29 |\n",
		"| plain | refresh | 1 | 1.20 s | 60 | 0.70 s | 3 | – | 0.56 s | 2.14 |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table without the floor at 0 ms lacks\n%s\nin:\n%s", want, got)
		}
	}
	if strings.Contains(got, "floor itself") {
		t.Errorf("a table without the floor at 0 ms counts the floor's round trips:\n%s", got)
	}

	// At a delay of 0 nothing is divided by it.
	got = Table([]Row{floor, create}, floor, 0)
	if !strings.Contains(got, "| plain | create | 3 | 1.60 s | 69 (69–70) | 1.00 s | 10 | – | 0.50 s | 3.20 |\n") || strings.Contains(got, "floor itself") {
		t.Errorf("table at a delay of 0:\n%s", got)
	}

	create.CriticalPath = 0
	if got := Table([]Row{floor, create}, floor, delay); !strings.Contains(got, "backend.CriticalPath is still the stub") {
		t.Errorf("a table whose critical paths are all 0 does not say so:\n%s", got)
	}
}
