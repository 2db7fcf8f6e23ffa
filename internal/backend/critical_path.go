package backend

import (
	"fmt"

	"github.com/securestate/terraform-provider-securestate/internal/graph"
)

// Shape is what a benchmarked backend has.
type Shape struct {
	Environments  int
	Locking       string // "dynamodb", "lockfile" or "both"
	AccessLogging bool
	CloudTrail    bool
	Alarms        bool
}

// CriticalPath is the number of sequential AWS round trips of op ("create",
// "refresh", "update", "destroy") for one backend of this shape, from the
// component graph: the longest chain of needs, each component weighted by
// its cost for the operation, as Terraform runs it: "update" (an apply after
// one control of the state bucket drifted) and "destroy" begin with
// Terraform's refresh of the backend. The provider's own round trips before
// the operation (credentials) belong to the floor, not here.
func CriticalPath(op string, shape Shape) int {
	s := shape.settings()
	comps := s.components()
	var steps []graph.Step
	phase := func(id string, cost int, needs ...string) {
		steps = append(steps, graph.Step{ID: id, Cost: cost, Needs: needs})
	}
	ensure := func(weight func(component) int) {
		for _, comp := range comps {
			steps = append(steps, graph.Step{ID: comp.id, Cost: weight(comp), Needs: append([]string{"observe"}, comp.needs...)})
		}
	}
	refresh := 0 // every component's reads at once
	for _, comp := range comps {
		refresh = max(refresh, comp.cost.find)
	}
	switch op {
	case "refresh":
		for _, comp := range comps {
			phase(comp.id, comp.cost.find)
		}
	case "create":
		// Every finder stops at its first "not found".
		phase("observe", 1)
		ensure(func(c component) int { return c.cost.create })
	case "update":
		phase("refresh", refresh)
		phase("observe", refresh, "refresh")
		ensure(func(c component) int {
			if c.id == idStateBucket {
				return c.cost.repair
			}
			return c.cost.keep
		})
	case "destroy":
		// After the refresh: HeadBucket, then the versions are counted.
		phase("refresh", refresh)
		phase("guard", 2, "refresh")
		for _, st := range removalSteps(nil, comps) {
			st.Needs = append(st.Needs, "guard")
			steps = append(steps, st)
		}
	default:
		panic(fmt.Sprintf("CriticalPath: unknown operation %q", op))
	}
	n, err := graph.CriticalPath(steps)
	if err != nil {
		panic(err) // the component graph is fixed in code: a cycle is a bug
	}
	return n
}

// settings of a backend of this shape in a placeholder account.
func (shape Shape) settings() settings {
	s := settings{Name: "bench", Bucket: "bench-tfstate-123456789012", AccountID: "123456789012", Region: "us-east-1", Partition: "aws",
		Locking: shape.Locking}
	if s.Locking == "" {
		s.Locking = LockingBoth
	}
	if s.Locking != LockingLockfile {
		s.Table = "bench-tflock"
	}
	for i := range shape.Environments {
		s.Environments = append(s.Environments, fmt.Sprintf("env%d", i))
	}
	if shape.AccessLogging || shape.CloudTrail {
		s.LogManaged, s.LogBucket, s.LogPrefix = true, s.Bucket+"-logs", DefaultLogPrefix
	}
	s.Trail = shape.CloudTrail
	if shape.Alarms {
		s.AlarmTopic = "arn:aws:sns:us-east-1:123456789012:alerts"
	}
	return s
}
