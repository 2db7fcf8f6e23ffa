package graph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunOrdersByNeeds(t *testing.T) {
	var (
		mu  sync.Mutex
		log []string
	)
	step := func(id string, needs ...string) Step {
		return Step{ID: id, Needs: needs, Run: func(context.Context) error {
			mu.Lock()
			log = append(log, id)
			mu.Unlock()
			return nil
		}}
	}
	err := Run(context.Background(), []Step{step("bucket", "key"), step("key"), step("trail", "bucket", "alarms"), step("alarms", "key")})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range log {
		pos[id] = i
	}
	if len(log) != 4 || pos["key"] > pos["bucket"] || pos["key"] > pos["alarms"] || pos["trail"] < pos["bucket"] || pos["trail"] < pos["alarms"] {
		t.Fatalf("order %v breaks the needs", log)
	}
}

// Two steps that each wait until the other has started can only finish when
// they run at the same time.
func TestRunOverlapsIndependentSteps(t *testing.T) {
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	meet := func(me, other string) func(context.Context) error {
		return func(context.Context) error {
			close(started[me])
			select {
			case <-started[other]:
				return nil
			case <-time.After(5 * time.Second):
				return errors.New(me + " ran alone")
			}
		}
	}
	if err := Run(context.Background(), []Step{{ID: "a", Run: meet("a", "b")}, {ID: "b", Run: meet("b", "a")}}); err != nil {
		t.Fatal(err)
	}
}

func TestRunSkipsDependentsOfAFailureAndRunsTheRest(t *testing.T) {
	ran := map[string]bool{}
	var mu sync.Mutex
	mark := func(id string, err error) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			ran[id] = true
			mu.Unlock()
			return err
		}
	}
	err := Run(context.Background(), []Step{
		{ID: "key", Run: mark("key", errors.New("AccessDenied"))},
		{ID: "bucket", Needs: []string{"key"}, Run: mark("bucket", nil)},
		{ID: "log_bucket", Run: mark("log_bucket", errors.New("SlowDown"))},
		{ID: "policy", Run: mark("policy", nil)},
	})
	if ran["bucket"] || !ran["policy"] || !ran["log_bucket"] {
		t.Fatalf("ran %v: want bucket skipped, policy and log_bucket run", ran)
	}
	var se *StepError
	if !errors.As(err, &se) || se.Step != "key" {
		t.Fatalf("first failure %v, want the key's", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "key: AccessDenied") || !strings.Contains(msg, "log_bucket: SlowDown") ||
		strings.HasPrefix(msg, "bucket:") || strings.Contains(msg, "\nbucket:") {
		t.Fatalf("error %q should name both failed steps and not the skipped one", msg)
	}
	if strings.Index(err.Error(), "key:") > strings.Index(err.Error(), "log_bucket:") {
		t.Fatalf("failures are not in step order: %q", err)
	}
}

func TestRunStopsStartingStepsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	second := false
	err := Run(ctx, []Step{
		{ID: "first", Run: func(context.Context) error { cancel(); return nil }},
		{ID: "second", Needs: []string{"first"}, Run: func(context.Context) error { second = true; return nil }},
	})
	if second || !errors.Is(err, context.Canceled) {
		t.Fatalf("second ran=%v err=%v; want not run and context.Canceled", second, err)
	}
}

func TestCheckRefusesBadGraphs(t *testing.T) {
	noop := func(context.Context) error { return nil }
	for name, steps := range map[string][]Step{
		"unknown need": {{ID: "a", Needs: []string{"b"}, Run: noop}},
		"duplicate":    {{ID: "a", Run: noop}, {ID: "a", Run: noop}},
		"cycle":        {{ID: "a", Needs: []string{"b"}, Run: noop}, {ID: "b", Needs: []string{"a"}, Run: noop}},
	} {
		if err := Check(steps); err == nil {
			t.Errorf("%s: Check accepted it", name)
		}
		if err := Run(context.Background(), steps); err == nil {
			t.Errorf("%s: Run accepted it", name)
		}
	}
}

func TestCriticalPath(t *testing.T) {
	steps := []Step{
		{ID: "observe", Cost: 1},
		{ID: "key", Needs: []string{"observe"}, Cost: 2},
		{ID: "log_bucket", Needs: []string{"observe"}, Cost: 5},
		{ID: "bucket", Needs: []string{"key", "log_bucket"}, Cost: 4},
		{ID: "table", Needs: []string{"key"}, Cost: 6},
	}
	got, err := CriticalPath(steps)
	if err != nil || got != 10 {
		t.Fatalf("CriticalPath = %d, %v; want 10 (observe, log_bucket, bucket)", got, err)
	}
}
