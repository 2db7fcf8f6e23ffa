package backend

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/graph"
)

// monitoredSettings is a backend with every optional component.
func monitoredSettings() settings {
	s := testSettings(LockingBoth)
	s.LogManaged, s.LogBucket, s.LogPrefix, s.LogRetention = true, s.Bucket+"-logs", DefaultLogPrefix, 365
	s.Trail, s.AlarmTopic = true, "arn:aws:sns:eu-west-1:123456789012:alerts"
	return s
}

func ids(comps []component) []string {
	out := make([]string, len(comps))
	for i, c := range comps {
		out[i] = c.id
	}
	return out
}

func TestComponentsAreOneValidGraph(t *testing.T) {
	for name, s := range map[string]settings{"plain": testSettings(LockingBoth), "lockfile": testSettings(LockingLockfile), "monitored": monitoredSettings()} {
		comps := s.components()
		var steps []graph.Step
		controls := map[string]string{}
		for _, c := range comps {
			steps = append(steps, graph.Step{ID: c.id, Needs: c.needs})
			if c.find == nil || c.found == nil || c.check == nil || c.ensure == nil || c.drift == nil || c.remove == nil || c.ident == "" || c.missing == "" {
				t.Errorf("%s: component %s is not fully described", name, c.id)
			}
			for _, ctl := range c.controls {
				if other, dup := controls[ctl]; dup {
					t.Errorf("%s: control %s reported by %s and %s", name, ctl, other, c.id)
				}
				controls[ctl] = c.id
			}
		}
		if err := graph.Check(steps); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(controls) != len(s.controlNames()) {
			t.Errorf("%s: %d controls in components, controlNames has %d", name, len(controls), len(s.controlNames()))
		}
	}
	plain := ids(testSettings(LockingBoth).components())
	want := []string{idKey, idStateBucket, idTable, idPolicy + "dev", idPolicy + "prod"}
	if !slices.Equal(plain, want) {
		t.Errorf("plain backend components %v, want %v", plain, want)
	}
	if got := ids(testSettings(LockingLockfile).components()); slices.Contains(got, idTable) {
		t.Errorf("a lockfile backend has a lock table: %v", got)
	}
	mon := ids(monitoredSettings().components())
	for _, id := range []string{idLogBucket, idAlarms, idTrail} {
		if !slices.Contains(mon, id) {
			t.Errorf("monitored backend lacks %s: %v", id, mon)
		}
	}
}

// The removal steps run for real (with recording stand-ins) so the order
// checked is the order the graph runner produces.
func TestDestroyOrder(t *testing.T) {
	comps := monitoredSettings().components()
	var (
		mu    sync.Mutex
		order []string
	)
	for i := range comps {
		id := comps[i].id
		comps[i].remove = func(context.Context, *run) error {
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			return nil
		}
	}
	if err := graph.Run(context.Background(), removalSteps(nil, comps)); err != nil {
		t.Fatal(err)
	}
	at := func(id string) int { return slices.Index(order, id) }
	if order[len(order)-1] != idStateBucket {
		t.Errorf("the state bucket is not deleted last: %v", order)
	}
	for _, before := range []string{idTrail, idAlarms, idTable, idPolicy + "dev", idPolicy + "prod", idLogBucket} {
		if at(before) > at(idKey) && before != idLogBucket {
			t.Errorf("%s deleted after the key: %v", before, order)
		}
	}
	if at(idTrail) > at(idLogBucket) || at(idTrail) > at(idAlarms) {
		t.Errorf("the trail must go before its log bucket and log group: %v", order)
	}
}

func TestCriticalPath(t *testing.T) {
	plain := Shape{Environments: 2, Locking: LockingBoth}
	mon := Shape{Environments: 2, Locking: LockingBoth, AccessLogging: true, CloudTrail: true, Alarms: true}
	for _, op := range []string{"create", "refresh", "update", "destroy"} {
		p, m := CriticalPath(op, plain), CriticalPath(op, mon)
		if p <= 0 || m < p {
			t.Errorf("%s: plain %d, monitored %d round trips", op, p, m)
		}
	}
	if r := CriticalPath("refresh", plain); r > 3 {
		t.Errorf("refresh takes %d round trips; the goal is at most 3", r)
	}
	if c, r := CriticalPath("create", plain), CriticalPath("refresh", plain); c <= r {
		t.Errorf("create %d round trips, refresh %d", c, r)
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "unknown operation") {
			t.Errorf("an unknown operation did not panic with its name: %q", msg)
		}
	}()
	CriticalPath("import", plain)
}

func TestUpdateRemovesOnlyWhatIsNoLongerWanted(t *testing.T) {
	prev := monitoredSettings()
	now := testSettings(LockingLockfile)
	now.Environments = []string{"dev"}
	got := ids(removed(prev.components(), now.components()))
	slices.Sort(got)
	want := []string{idAlarms, idEvents, idPolicy + "prod", idLogBucket, idTable, idTrail}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	// An imported backend's guessed name, bucket or environments differ from
	// the configuration: the key and the state bucket stay all the same.
	prev = testSettings(LockingBoth)
	prev.Name, prev.Bucket = "", "legacy-state"
	for _, id := range ids(removed(prev.components(), testSettings(LockingBoth).components())) {
		if id == idKey || id == idStateBucket {
			t.Errorf("an update would remove the %s", id)
		}
	}
	if got := removed(testSettings(LockingBoth).components(), testSettings(LockingBoth).components()); len(got) != 0 {
		t.Errorf("an unchanged backend removes %v", ids(got))
	}
}

// With replication, the replica key, the replica bucket, the role and the
// rule join the graph: the rule after the state bucket, the replica bucket
// and the role; the role after both keys; each environment's policy after
// the replica key (it grants decrypting with it). Removing the block
// removes all four (the replica bucket's and key's removal keep them while
// the bucket holds versions: TestAccBackend_replicationRemoved); changing
// the region makes them other objects.
func TestReplicationComponents(t *testing.T) {
	s := testSettings(LockingBoth)
	s.Replica = &replicaSettings{Region: "eu-west-1", Bucket: s.Bucket + "-replica", Metrics: true}
	byID := map[string]component{}
	for _, c := range s.components() {
		byID[c.id] = c
	}
	for id, needs := range map[string][]string{
		idReplicaKey:     nil,
		idReplicaBucket:  {idKey, idReplicaKey},
		idReplRole:       {idKey, idReplicaKey},
		idReplRule:       {idStateBucket, idReplicaBucket, idReplRole},
		idPolicy + "dev": {idKey, idReplicaKey},
	} {
		c, ok := byID[id]
		if !ok {
			t.Fatalf("no component %s with replication", id)
		}
		if !slices.Equal(c.needs, needs) {
			t.Errorf("%s needs %v, want %v", id, c.needs, needs)
		}
	}
	joined := strings.Join(s.controlNames(), ",")
	for _, want := range []string{"replica_kms_key_rotation", "replica_bucket_versioning", "replica_bucket_policy", "replication_role", "replication_rule"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing control %s in %v", want, joined)
		}
	}
	without := testSettings(LockingBoth)
	got := ids(removed(s.components(), without.components()))
	slices.Sort(got)
	want := []string{idReplRole, idReplRule, idReplicaBucket, idReplicaKey}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("removing replication removes %v, want %v", got, want)
	}
	moved := testSettings(LockingBoth)
	moved.Replica = &replicaSettings{Region: "eu-central-1", Bucket: s.Bucket + "-replica", Metrics: true}
	got = ids(removed(s.components(), moved.components()))
	slices.Sort(got)
	want = []string{idReplRule, idReplicaBucket, idReplicaKey}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("moving the replica removes %v, want %v (the role stays, rewritten)", got, want)
	}
}
