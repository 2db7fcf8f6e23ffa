package backend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/graph"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
	"github.com/securestate/terraform-provider-securestate/internal/statevents"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// run is one operation on one backend: the settings, and every component as
// observed. Each component's steps write only its own fields; the graph's
// ordering makes what one step wrote visible to the steps that need it.
type run struct {
	c     *awsclient.Client
	s     settings    // not written while steps run
	comps []component // s.components(), built once per operation
	// keyID is the key tracked in state ("" before the first create).
	keyID string
	// converging: a key missing from state is looked for behind the alias.
	converging bool
	destroying bool
	force      bool // force_destroy: buckets no longer wanted may be emptied
	// droppedObjectLock: the previous settings had object_lock and these
	// do not.
	droppedObjectLock bool

	key *kmskey.Observed
	// keyARN is the key's ARN once its ensure is done: what the components
	// that need the key read, while the key's own settle may still replace
	// key.
	keyARN   string
	bucket   *statebucket.Observed
	logs     *statebucket.Observed
	table    *locktable.Observed
	policies map[string]*policySlot
	tofuKeys map[string]*tofuKeySlot // with tofu_encryption
	trail    *audittrail.Observed
	alarms   *alarms.Observed
	events   *statevents.Observed

	// With replication: the replica region's client, the replica key (and
	// its ARN once ensured, as keyARN), the replica bucket, the role and
	// the rule.
	regionMu      sync.Mutex
	regions       map[string]*awsclient.Client
	replicaKey    *kmskey.Observed
	replicaKeyARN string
	replicaBucket *statebucket.Observed
	replRole      *replication.Role
	replRule      *replication.Rule

	// keptMu guards kept: what an update chose to keep rather than delete
	// (a replica bucket holding versions), reported as warnings.
	keptMu sync.Mutex
	kept   []string

	// Destroy's first step counts what the buckets hold.
	stateExists                bool
	stateVersions, logVersions int
	replicaExists              bool
	replicaVersions            int
}

// noteKept records something an update kept instead of deleting.
func (r *run) noteKept(msg string) {
	r.keptMu.Lock()
	defer r.keptMu.Unlock()
	r.kept = append(r.kept, msg)
}

type (
	policySlot struct{ o *accesspolicy.Observed }
	// tofuKeySlot is an environment's OpenTofu encryption key: o as last
	// read (its own find, ensure and settle write it), arn once known, for
	// the environment's policy. arn is written only before the ensure graph
	// (observe) and by the key's ensure, which the policy's ensure needs, so
	// the policy never reads it while it changes.
	tofuKeySlot struct {
		o   *kmskey.Observed
		arn string
	}
)

func newRun(c *awsclient.Client, s settings, keyID string) *run {
	r := &run{c: c, s: s, comps: s.components(), keyID: keyID, policies: map[string]*policySlot{}, tofuKeys: map[string]*tofuKeySlot{}}
	for _, env := range s.Environments {
		r.policies[env] = &policySlot{}
		r.tofuKeys[env] = &tofuKeySlot{}
	}
	return r
}

// tofuKeyARNs are the OpenTofu encryption keys found or made that are this
// backend's, by environment: what goes into state. A key tracked in state
// stays (its tags, if changed out of band, are drift the apply repairs); a
// key found only behind the alias counts if it carries the ownership and
// purpose tags (kmskey.Check), so someone else's key behind a moved alias
// is never recorded: the plan shows the ARN unknown and the apply refuses
// it. Only after the ensure graph or a refresh, never while steps run.
func (r *run) tofuKeyARNs() map[string]string {
	out := map[string]string{}
	if !r.s.TofuEncryption {
		return out
	}
	for _, env := range r.s.Environments {
		if arn := r.ownTofuKey(env); arn != "" {
			out[env] = arn
		}
	}
	return out
}

// ownTofuKey is the ARN of the environment's encryption key as read, if it
// is the tracked one or carries this backend's tags; "" otherwise.
func (r *run) ownTofuKey(env string) string {
	o := r.tofuKeys[env].o
	switch {
	case o == nil || o.ARN == "":
		return ""
	case o.ARN == r.s.TofuKeyARNs[env], kmskey.Check(r.s.tofuKeySpec(env), o) == nil:
		return o.ARN
	}
	return ""
}

// noteTofuKeys records, after the observation and before any step runs,
// the ARN of each encryption key found that is this backend's.
func (r *run) noteTofuKeys() {
	for _, env := range r.s.Environments {
		r.tofuKeys[env].arn = r.ownTofuKey(env)
	}
}

// withTofuKey is withKey with the environment's OpenTofu encryption key
// ARN, for the environment's policy (which grants that key only).
func (r *run) withTofuKey(env string) settings {
	s := r.withReplicaKey()
	if s.TofuEncryption {
		s.TofuKeyARNs = map[string]string{}
		if arn := r.tofuKeys[env].arn; arn != "" {
			s.TofuKeyARNs[env] = arn
		}
	}
	return s
}

// withKey is the settings with the key ARN as observed. Only steps that need
// the key call it.
func (r *run) withKey() settings {
	s := r.s
	switch {
	case r.keyARN != "":
		s.KeyARN = r.keyARN
	case r.key != nil && r.key.ARN != "":
		s.KeyARN = r.key.ARN
	}
	return s
}

func alarmClients(c *awsclient.Client) alarms.Clients {
	return alarms.Clients{Logs: c.Logs, Alarms: c.CloudWatch, IAM: c.IAM}
}

// observe reads every component at once.
func (r *run) observe(ctx context.Context) error {
	var steps []graph.Step
	for _, comp := range r.comps {
		steps = append(steps, graph.Step{ID: comp.id, Run: func(ctx context.Context) error { return comp.find(ctx, r) }})
	}
	return graph.Run(ctx, steps)
}

// converging says what Update knows from the previous state.
type converging struct {
	keyID    string
	previous *settings // nil on create
	force    bool
}

// converge brings every component to the settings: it observes them all at
// once, refuses before writing anything when one belongs to someone else,
// ensures each as soon as what it needs is done and waits until its reads
// show the writes, and then removes what the previous settings had and these
// do not. Controls whose writes never showed within the propagation bound do
// not stop the rest: converge then returns the run with every
// *retry.NotSettledError joined, and the caller keeps the backend in state.
func converge(ctx context.Context, c *awsclient.Client, s settings, how converging) (*run, error) {
	r := newRun(c, s, how.keyID)
	r.converging, r.force = true, how.force
	r.droppedObjectLock = how.previous != nil && how.previous.ObjectLock != nil && s.ObjectLock == nil
	if err := r.observe(ctx); err != nil {
		return nil, err
	}
	r.noteTofuKeys()
	comps := r.comps
	var previous []component
	if how.previous != nil {
		previous = how.previous.components()
	}
	had := map[string]bool{}
	for _, p := range previous {
		had[p.id+"\x00"+p.ident] = true
	}
	tracked := map[string]bool{}
	for _, comp := range comps {
		tracked[comp.id] = had[comp.id+"\x00"+comp.ident]
		if comp.tracked != nil {
			tracked[comp.id] = comp.tracked(r)
		}
	}
	var refused []error
	for _, comp := range comps {
		if comp.found(r) && !tracked[comp.id] {
			if err := comp.check(r); err != nil {
				refused = append(refused, err)
			}
		}
	}
	gone := removed(previous, comps)
	for _, comp := range gone {
		if comp.mayRemove != nil {
			if err := comp.mayRemove(ctx, r); err != nil {
				refused = append(refused, fmt.Errorf("%s: %w", comp.id, err))
			}
		}
	}
	if err := errors.Join(refused...); err != nil {
		return nil, err
	}

	var (
		mu        sync.Mutex
		unsettled []error
	)
	steps := make([]graph.Step, 0, 2*len(comps))
	for _, comp := range comps {
		steps = append(steps, graph.Step{ID: comp.id, Needs: comp.needs, Run: func(ctx context.Context) error {
			tflog.Debug(ctx, "ensuring component", map[string]any{"component": comp.id})
			return comp.ensure(ctx, r, tracked[comp.id])
		}})
		// What needs the component needs it to exist, not its every control
		// to show: it goes on while this waits.
		steps = append(steps, graph.Step{ID: comp.id + settledSuffix, Needs: []string{comp.id}, Run: func(ctx context.Context) error {
			err := settle(ctx, r, comp)
			var notSettled *retry.NotSettledError
			if errors.As(err, &notSettled) {
				// The object exists; the controls that did not take effect
				// are reported at the end, with the backend kept in state.
				mu.Lock()
				unsettled = append(unsettled, err)
				mu.Unlock()
				return nil
			}
			return err
		}})
	}
	if err := graph.Run(ctx, steps); err != nil {
		return nil, errors.Join(append([]error{err}, unsettled...)...)
	}
	if how.previous != nil {
		// What the previous settings had and these do not, in reverse order
		// of the previous graph, after everything wanted is in place (so the
		// state bucket has stopped logging before its log bucket goes).
		if err := graph.Run(ctx, removalSteps(r, gone)); err != nil {
			return nil, errors.Join(append([]error{err}, unsettled...)...)
		}
	}
	return r, errors.Join(unsettled...)
}

// settledSuffix names the step that waits for a component's writes to show.
const settledSuffix = "/settled"

// settle waits, after a component's writes, until its reads show them: AWS
// answers reads from replicas that may, for seconds, still have the previous
// value, or not yet know a new object. It reads the component again until
// every control is compliant and every one of its AWS objects has the
// backend's tags (retry.Settle), within the propagation bound. It reads into
// the component's own fields only, so it may run beside the ensure of the
// components that need this one (they read the key's ARN from run.keyARN).
func settle(ctx context.Context, r *run, comp component) error {
	want := r.s.awsTags()
	return retry.Settle(ctx, comp.id, func(ctx context.Context) error { return comp.find(ctx, r) }, func() map[string]string {
		out := map[string]string{}
		if !comp.found(r) {
			for _, n := range comp.controls {
				out[n] = comp.missing
			}
			return out
		}
		maps.Copy(out, comp.drift(r))
		if comp.tags != nil {
			for _, have := range comp.tags(r) {
				if tags.Differ(have, want) {
					out[comp.id+" tags"] = fmt.Sprintf("tags are %v, want %v", tags.WithoutReserved(have), want)
					break
				}
			}
		}
		return out
	})
}

// removed lists the components of the previous settings that these no
// longer have (or have as another AWS object), except those never removed
// by an update.
func removed(previous, comps []component) []component {
	wanted := map[string]bool{}
	for _, comp := range comps {
		wanted[comp.id+"\x00"+comp.ident] = true
	}
	var gone []component
	for _, p := range previous {
		if !p.kept && !wanted[p.id+"\x00"+p.ident] {
			gone = append(gone, p)
		}
	}
	return gone
}

// removalSteps deletes components, each after the components that need it.
func removalSteps(r *run, comps []component) []graph.Step {
	ids := map[string]bool{}
	for _, comp := range comps {
		ids[comp.id] = true
	}
	steps := make([]graph.Step, 0, len(comps))
	for _, comp := range comps {
		var needs []string
		for _, other := range comps {
			if other.last || comp.last {
				continue
			}
			if slices.Contains(other.needs, comp.id) {
				needs = append(needs, other.id)
			}
		}
		if comp.last {
			for _, other := range comps {
				if other.id != comp.id {
					needs = append(needs, other.id)
				}
			}
		}
		steps = append(steps, graph.Step{ID: comp.id, Needs: needs, Cost: comp.cost.remove, Run: func(ctx context.Context) error {
			tflog.Debug(ctx, "removing component", map[string]any{"component": comp.id})
			return comp.remove(ctx, r)
		}})
	}
	return steps
}

// refresh reads every component of a backend in state.
func refresh(ctx context.Context, c *awsclient.Client, s settings, keyID string) (*run, error) {
	r := newRun(c, s, keyID)
	err := r.observe(ctx)
	r.noteTofuKeys()
	return r, err
}

// drift names every control of every component (problem "" when compliant).
func (r *run) drift() map[string]string {
	out := map[string]string{}
	for _, comp := range r.comps {
		if !comp.found(r) {
			for _, n := range comp.controls {
				out[n] = comp.missing
			}
			continue
		}
		maps.Copy(out, comp.drift(r))
	}
	return out
}

// tagsAll is the backend's tags as AWS has them: the configured ones, unless
// an AWS object of any component (key, buckets, table, policies, trail, the
// alarms' log group, role and alarms) has others, a tag added, removed or
// changed out of band: then that object's, so that the plan shows the
// difference (as tags_all) and apply puts the tags back.
func (r *run) tagsAll() map[string]string {
	want := withoutOwnerTag(r.s.TagsAll)
	for _, comp := range r.comps {
		if comp.tags == nil || !comp.found(r) {
			continue
		}
		for _, t := range comp.tags(r) {
			if have := withoutOwnerTag(t); !maps.Equal(have, want) {
				return have
			}
		}
	}
	return want
}

// withoutOwnerTag is the tags without the provider's own (the ownership tag)
// and without those AWS reserves ("aws:…"), which no one can change.
func withoutOwnerTag(m map[string]string) map[string]string {
	out := tags.WithoutReserved(m)
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, naming.OwnerTagPrefix) })
	return out
}

// controlNames lists every control a backend with these settings has.
func (s settings) controlNames() []string {
	var names []string
	for _, comp := range s.components() {
		names = append(names, comp.controls...)
	}
	slices.Sort(names)
	return names
}

// refusedError is a destroy refused to protect state.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

const (
	stateHolds   = "Terraform states, their history and lock files"
	logsHold     = "access logs and the audit trail"
	replicaHolds = "the replicated copies of the states and their history"
)

// destroy refuses while the state bucket (or the managed log bucket) holds any
// object version, unless forced, before anything is deleted. Then it deletes
// every component after those that need it, the state bucket last: while a
// destroy that failed part-way leaves the bucket, the backend stays in state
// and the next destroy finishes the job (every step treats "already gone" as
// done).
func destroy(ctx context.Context, c *awsclient.Client, s settings, keyID string, force bool) error {
	r := newRun(c, s, keyID)
	r.destroying, r.force = true, force
	guards := []graph.Step{{ID: idStateBucket, Run: func(ctx context.Context) (err error) {
		r.stateExists, r.stateVersions, err = versionsHeld(ctx, c, s.Bucket, stateHolds,
			"Destroying the backend (use terraform init -migrate-state to move states)", force)
		return err
	}}}
	if s.LogManaged {
		guards = append(guards, graph.Step{ID: idLogBucket, Run: func(ctx context.Context) (err error) {
			_, r.logVersions, err = versionsHeld(ctx, c, s.LogBucket, logsHold, "Destroying the backend", force)
			return err
		}})
	}
	if s.Replica != nil {
		guards = append(guards, graph.Step{ID: idReplicaBucket, Run: func(ctx context.Context) (err error) {
			r.replicaExists, r.replicaVersions, err = versionsHeld(ctx, r.regionClient(s.Replica.Region), s.Replica.Bucket, replicaHolds,
				"Destroying the backend", force)
			return err
		}})
	}
	// Not even force_destroy deletes a version under retention. Asked of
	// the buckets whatever the configuration says (object_lock may have
	// been removed, or Object Lock set out of band: it cannot be switched
	// off): one read when they have no Object Lock.
	guards = append(guards, graph.Step{ID: idStateBucket + "/retention", Run: func(ctx context.Context) error {
		return retainedHeld(ctx, c.S3, s.Bucket)
	}})
	if s.Replica != nil {
		guards = append(guards, graph.Step{ID: idReplicaBucket + "/retention", Run: func(ctx context.Context) error {
			return retainedHeld(ctx, r.regionClient(s.Replica.Region).S3, s.Replica.Bucket)
		}})
	}
	// What a component's removal would refuse (a lock held in the table)
	// is refused before anything is deleted, so the run holding the lock
	// keeps its grants and can release it.
	for _, comp := range r.comps {
		if comp.mayRemove != nil {
			guards = append(guards, graph.Step{ID: comp.id, Run: func(ctx context.Context) error { return comp.mayRemove(ctx, r) }})
		}
	}
	if err := graph.Run(ctx, guards); err != nil {
		return err
	}
	return graph.Run(ctx, removalSteps(r, r.comps))
}

// versionsHeld says whether a bucket exists and how many object versions it
// holds, and refuses, unless forced, when there are any: what lies in it
// would be lost.
func versionsHeld(ctx context.Context, c *awsclient.Client, bucket, holds, action string, force bool) (bool, int, error) {
	exists, err := statebucket.Exists(ctx, c.S3, bucket)
	if err != nil || !exists {
		return exists, 0, err
	}
	n, err := statebucket.CountVersions(ctx, c.S3, bucket)
	if err != nil {
		return true, 0, err
	}
	if n > 0 && !force {
		return true, n, &refusedError{msg: fmt.Sprintf("The bucket %s holds %d object versions (%s). %s would delete them. "+
			"Move or copy them elsewhere first, or, to delete them on purpose, set force_destroy = true and apply before you try again.", bucket, n, holds, action)}
	}
	return true, n, nil
}

// emptyAndDeleteWith removes a bucket's versions (when it has any) and the
// bucket, through api (the client of the bucket's region).
func emptyAndDeleteWith(ctx context.Context, api statebucket.API, bucket string, versions int) error {
	if versions > 0 {
		tflog.Info(ctx, "emptying bucket before deletion", map[string]any{"bucket": bucket, "versions": versions})
		if err := statebucket.Empty(ctx, api, bucket); err != nil {
			return err
		}
	}
	return statebucket.Delete(ctx, api, bucket)
}

// removeLogBucket deletes a managed log bucket no longer wanted, refusing
// while it holds logs unless forced.
func removeLogBucket(ctx context.Context, c *awsclient.Client, bucket string, force bool) error {
	_, n, err := versionsHeld(ctx, c, bucket, logsHold, "Removing access_logging", force)
	if err != nil {
		return err
	}
	return emptyAndDeleteWith(ctx, c.S3, bucket, n)
}
