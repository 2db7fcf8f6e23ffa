// Package graph runs steps that depend on each other: every step starts as
// soon as all the steps it needs have finished, so independent work overlaps.
// It knows nothing of AWS; internal/backend describes its components as steps.
package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Step is one unit of work.
type Step struct {
	ID    string
	Needs []string // IDs of steps that must succeed first
	// Cost is the step's sequential round trips, for CriticalPath.
	Cost int
	Run  func(ctx context.Context) error
}

// StepError is the failure of one step, naming it.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Check reports a need that names no step, a step named twice, and cycles.
func Check(steps []Step) error {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		if _, dup := index[s.ID]; dup {
			return fmt.Errorf("graph: step %q is defined twice", s.ID)
		}
		index[s.ID] = i
	}
	for _, s := range steps {
		for _, n := range s.Needs {
			if _, ok := index[n]; !ok {
				return fmt.Errorf("graph: step %q needs %q, which is not a step", s.ID, n)
			}
		}
	}
	_, err := order(steps, index)
	return err
}

// order is a topological order (Kahn), or an error naming a step on a cycle.
func order(steps []Step, index map[string]int) ([]int, error) {
	waiting := make([]int, len(steps))
	users := make([][]int, len(steps))
	for i, s := range steps {
		waiting[i] = len(s.Needs)
		for _, n := range s.Needs {
			users[index[n]] = append(users[index[n]], i)
		}
	}
	var ready, out []int
	for i := range steps {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		out = append(out, i)
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(out) < len(steps) {
		for i := range steps {
			if waiting[i] > 0 {
				return nil, fmt.Errorf("graph: step %q is on a dependency cycle", steps[i].ID)
			}
		}
	}
	return out, nil
}

// Run runs every step once, each as soon as its needs have succeeded, all
// others concurrently (how many AWS requests are in flight at once is bounded
// by the client, not here). A step whose need failed does not run; steps that
// do not depend on a failure still run, so one apply gets as far as it can.
// The result joins every failure, each a *StepError naming its step.
func Run(ctx context.Context, steps []Step) error {
	if err := Check(steps); err != nil {
		return err
	}
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s.ID] = i
	}
	done := make([]chan struct{}, len(steps))
	for i := range done {
		done[i] = make(chan struct{})
	}
	// ok[i] is written before done[i] is closed and read only after.
	ok := make([]bool, len(steps))
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for i, s := range steps {
		wg.Go(func() {
			defer close(done[i])
			for _, n := range s.Needs {
				j := index[n]
				<-done[j]
				if !ok[j] {
					return
				}
			}
			err := ctx.Err()
			if err == nil {
				err = s.Run(ctx)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, &StepError{Step: s.ID, Err: err})
				mu.Unlock()
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	// Failures in step order, so messages read the same on every run.
	slices.SortFunc(errs, func(a, b error) int {
		var x, y *StepError
		errors.As(a, &x)
		errors.As(b, &y)
		return index[x.Step] - index[y.Step]
	})
	return errors.Join(errs...)
}

// CriticalPath is the largest sum of Cost along a chain of needs: the round
// trips a run takes when every independent step overlaps.
func CriticalPath(steps []Step) (int, error) {
	if err := Check(steps); err != nil {
		return 0, err
	}
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s.ID] = i
	}
	topo, _ := order(steps, index)
	finish := make([]int, len(steps))
	longest := 0
	for _, i := range topo {
		start := 0
		for _, n := range steps[i].Needs {
			start = max(start, finish[index[n]])
		}
		finish[i] = start + steps[i].Cost
		longest = max(longest, finish[i])
	}
	return longest, nil
}
