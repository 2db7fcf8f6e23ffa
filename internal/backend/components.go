package backend

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// component is one AWS object of a backend, described once. Create, update,
// refresh, destroy, import, controls, tags_all and the critical path all walk
// the list that settings.components returns: adding a component to a backend
// means adding one entry there.
type component struct {
	id    string   // "kms_key", "access_policy/dev", …: unique within a backend
	ident string   // the AWS object's own name; another value is another object
	needs []string // components that must be ensured first (destroy reverses them)
	// last: deleted after every other component (the state bucket: while it
	// exists the backend stays in Terraform's state, so a destroy that failed
	// part-way is finished by the next one).
	last bool
	// kept: an update never removes it, whatever the previous settings said
	// (the key is tracked by its ID, not by its alias; the state bucket is
	// replaced, never removed, when its name changes).
	kept     bool
	controls []string // the controls it reports
	missing  string   // every control's problem while the object does not exist
	cost     cost     // sequential round trips, for the critical path

	find  func(ctx context.Context, r *run) error // reads into r; a missing object is no error
	found func(r *run) bool
	// tracked overrides "the previous settings had it" (the key: tracked by
	// its ID in state, which a key found only behind the alias is not).
	tracked func(r *run) bool
	check   func(r *run) error                                    // refuses to adopt an object owned by someone else
	ensure  func(ctx context.Context, r *run, tracked bool) error // creates or repairs; leaves the verified object in r
	drift   func(r *run) map[string]string                        // control → problem ("" compliant); only when found
	tags    func(r *run) []map[string]string                      // the tags of each of its AWS objects that exists; nil: none reported
	remove  func(ctx context.Context, r *run) error               // deletes it; already gone counts as deleted
	// mayRemove refuses, before an update writes anything, a removal that
	// remove would refuse anyway (the lock table while it holds a lock), so
	// a refused update changes nothing; nil: no such condition.
	mayRemove func(ctx context.Context, r *run) error
}

// keep stores what a component's find read into its slot of the run. A
// missing object is no error and leaves the slot as it is; so does a failed
// read: settle reads components again while their writes propagate, and a
// read that fails then (a timeout at the propagation bound) must not drop
// the object the run already holds (the create would then report a backend
// without its key).
func keep[T any](slot **T, o *T, err error) error {
	if awserr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	*slot = o
	return nil
}

// cost is a component's sequential AWS round trips per operation. The figures
// follow the component packages' Find, Ensure and Delete (which calls they
// make one after the other); `make bench` measures how close runs come.
type cost struct {
	find   int // refresh, and the observation before create/update
	create int // ensure of a missing object, ending with its verification read
	repair int // ensure of an object with one drifted control, with verification
	keep   int // ensure of a compliant object: its verification read
	remove int
}

// Component IDs.
const (
	idKey         = "kms_key"
	idStateBucket = "state_bucket"
	idLogBucket   = "log_bucket"
	idTable       = "lock_table"
	idAlarms      = "alarms"
	idTrail       = "trail"
	idPolicy      = "access_policy/"       // + environment
	idTofuKey     = "tofu_encryption_key/" // + environment
)

// components lists the backend's components for these settings: only those
// enabled, each with what it needs first.
func (s settings) components() []component {
	stateNeeds := []string{idKey}
	if s.LogManaged {
		stateNeeds = append(stateNeeds, idLogBucket)
	}
	list := []component{s.keyComponent(), s.stateBucketComponent(stateNeeds)}
	if s.Table != "" {
		list = append(list, s.tableComponent())
	}
	for _, env := range s.Environments {
		list = append(list, s.policyComponent(env))
		if s.TofuEncryption {
			list = append(list, s.tofuKeyComponent(env))
		}
	}
	if s.LogManaged {
		list = append(list, s.logBucketComponent())
	}
	if s.Replica != nil {
		list = append(list, s.replicationComponents()...)
	}
	if s.AlarmTopic != "" {
		list = append(list, s.alarmsComponent(), s.eventsComponent())
	}
	if s.Trail {
		trailNeeds := []string{idKey, idLogBucket}
		if s.AlarmTopic != "" {
			trailNeeds = append(trailNeeds, idAlarms)
		}
		list = append(list, s.trailComponent(trailNeeds))
	}
	return list
}

func (s settings) keyComponent() component {
	return component{
		id: idKey, ident: s.alias(), kept: true,
		controls: []string{kmskey.ControlState, kmskey.ControlRotation, kmskey.ControlPolicy, kmskey.ControlAlias},
		missing:  "the KMS key is missing",
		// Find by ID: one round trip. Create: CreateKey (with the tags), then
		// the alias and the rotation period together, then the verification
		// read (tags it shows dropped are written and read again: +2).
		cost: cost{find: 1, create: 3, repair: 2, keep: 1, remove: 3},
		find: func(ctx context.Context, r *run) error {
			ref := r.keyID
			if ref == "" {
				if !r.converging {
					return nil
				}
				ref = s.alias()
			}
			o, err := kmskey.Find(ctx, r.c.KMS, ref, s.alias())
			if awserr.IsNotFound(err) && r.converging && ref != s.alias() {
				// The tracked key is gone; a key of this backend behind the
				// alias is adopted, otherwise a new one is made.
				tflog.Warn(ctx, "tracked KMS key no longer exists", map[string]any{"key_id": ref})
				r.keyID = ""
				o, err = kmskey.Find(ctx, r.c.KMS, s.alias(), s.alias())
			}
			return keep(&r.key, o, err)
		},
		found:   func(r *run) bool { return r.key != nil },
		tracked: func(r *run) bool { return r.keyID != "" },
		check:   func(r *run) error { return kmskey.Check(s.keySpec(), r.key) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := kmskey.Ensure(ctx, r.c.KMS, s.keySpec(), r.key, tracked)
			r.key = o
			if o != nil {
				r.keyARN = o.ARN
			}
			return err
		},
		drift: func(r *run) map[string]string {
			if r.key.State != "Enabled" {
				// A key that is not enabled is not read further.
				return map[string]string{kmskey.ControlState: fmt.Sprintf("key is %s", r.key.State),
					kmskey.ControlRotation: "", kmskey.ControlPolicy: "", kmskey.ControlAlias: ""}
			}
			return kmskey.Drift(r.withKey().keySpec(), r.key)
		},
		tags: func(r *run) []map[string]string { return []map[string]string{r.key.Tags} },
		remove: func(ctx context.Context, r *run) error {
			return kmskey.Delete(ctx, r.c.KMS, r.keyID, s.alias(), s.DeletionWindow)
		},
	}
}

func (s settings) stateBucketComponent(needs []string) component {
	return component{
		id: idStateBucket, ident: s.Bucket, needs: needs, last: true, kept: true,
		controls: statebucket.ControlNames(s.bucketSpec()),
		missing:  "the state bucket is missing",
		// Create: CreateBucket (with the tags); the tags read until the bucket
		// is visible (and written when they were dropped, as the emulator
		// does: +1); the public access block and ownership; every other
		// control; the verification. Remove (destroy with states in it): list,
		// delete the versions, list again, delete the bucket.
		cost: cost{find: 1, create: 5, repair: 2, keep: 1, remove: 4},
		find: func(ctx context.Context, r *run) error {
			o, err := statebucket.Find(ctx, r.c.S3, s.Bucket)
			return keep(&r.bucket, o, err)
		},
		found: func(r *run) bool { return r.bucket != nil },
		check: func(r *run) error { return statebucket.Check(s.bucketSpec(), r.bucket) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := statebucket.Ensure(ctx, r.c.S3, r.withKey().bucketSpec(), r.bucket, tracked)
			if err == nil {
				o, err = r.clearRetention(ctx, r.c.S3, s.Bucket, o)
			}
			r.bucket = o
			return err
		},
		drift: func(r *run) map[string]string { return statebucket.Drift(r.withKey().bucketSpec(), r.bucket) },
		tags:  func(r *run) []map[string]string { return []map[string]string{r.bucket.Tags} },
		remove: func(ctx context.Context, r *run) error {
			if !r.stateExists {
				return nil
			}
			return emptyAndDeleteWith(ctx, r.c.S3, s.Bucket, r.stateVersions)
		},
	}
}

func (s settings) logBucketComponent() component {
	spec := s.logBucketSpec()
	return component{
		id: idLogBucket, ident: s.LogBucket,
		controls: statebucket.ControlNames(spec),
		missing:  "the log bucket is missing",
		cost:     cost{find: 1, create: 5, repair: 2, keep: 1, remove: 2},
		find: func(ctx context.Context, r *run) error {
			o, err := statebucket.Find(ctx, r.c.S3, s.LogBucket)
			return keep(&r.logs, o, err)
		},
		found: func(r *run) bool { return r.logs != nil },
		check: func(r *run) error { return statebucket.Check(spec, r.logs) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := statebucket.Ensure(ctx, r.c.S3, spec, r.logs, tracked)
			r.logs = o
			return err
		},
		drift: func(r *run) map[string]string { return statebucket.Drift(spec, r.logs) },
		tags:  func(r *run) []map[string]string { return []map[string]string{r.logs.Tags} },
		remove: func(ctx context.Context, r *run) error {
			if !r.destroying {
				// access_logging removed: the state bucket stopped logging in
				// its ensure; the logs are kept unless forced.
				return removeLogBucket(ctx, r.c, s.LogBucket, r.force)
			}
			if r.stateExists {
				// No new log deliveries into the bucket about to be emptied.
				if err := statebucket.DisableLogging(ctx, r.c.S3, s.Bucket); err != nil {
					return err
				}
			}
			return emptyAndDeleteWith(ctx, r.c.S3, s.LogBucket, r.logVersions)
		},
	}
}

func (s settings) tableComponent() component {
	return component{
		id: idTable, ident: s.Table, needs: []string{idKey},
		controls: locktable.ControlNames(),
		missing:  "the lock table is missing",
		// Create: CreateTable (with the tags), ACTIVE, point-in-time recovery,
		// verification. Remove: the scan for held locks, deletion protection
		// lifted, DeleteTable.
		cost: cost{find: 1, create: 4, repair: 2, keep: 1, remove: 3},
		find: func(ctx context.Context, r *run) error {
			o, err := locktable.Find(ctx, r.c.DynamoDB, s.Table, s.tableARN())
			return keep(&r.table, o, err)
		},
		found: func(r *run) bool { return r.table != nil },
		check: func(r *run) error { return locktable.Check(s.tableSpec(), r.table) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := locktable.Ensure(ctx, r.c.DynamoDB, r.withKey().tableSpec(), r.table, tracked)
			r.table = o
			return err
		},
		drift:  func(r *run) map[string]string { return locktable.Drift(r.withKey().tableSpec(), r.table) },
		tags:   func(r *run) []map[string]string { return []map[string]string{r.table.Tags} },
		remove: func(ctx context.Context, r *run) error { return locktable.Delete(ctx, r.c.DynamoDB, s.Table) },
		// A move to lock files that would remove the table while a run
		// holds a lock in it is refused before the policies lose the
		// table's grants (that run could not release its lock then).
		// Delete scans again, for runs that start in between.
		mayRemove: func(ctx context.Context, r *run) error { return locktable.CheckNoLocks(ctx, r.c.DynamoDB, s.Table) },
	}
}

func (s settings) policyComponent(env string) component {
	slot := func(r *run) **accesspolicy.Observed { return &r.policies[env].o }
	needs := []string{idKey}
	if s.TofuEncryption {
		// The policy grants the environment's OpenTofu encryption key by ARN.
		needs = append(needs, idTofuKey+env)
	}
	if s.Replica != nil {
		// It grants reading the replica, decrypting with the replica key.
		needs = append(needs, idReplicaKey)
	}
	return component{
		id: idPolicy + env, ident: s.policyARN(env), needs: needs,
		controls: []string{accesspolicy.Control(env)},
		missing:  "the policy is missing",
		// Find: the policy and its tags, then the default version. Create:
		// CreatePolicy (with the tags), the verification. Repair: the versions
		// listed, a new default version, the verification; tags meanwhile.
		cost: cost{find: 2, create: 3, repair: 4, keep: 2, remove: 2},
		find: func(ctx context.Context, r *run) error {
			o, err := accesspolicy.Find(ctx, r.c.IAM, s.policyARN(env))
			return keep(slot(r), o, err)
		},
		found: func(r *run) bool { return *slot(r) != nil },
		check: func(r *run) error { return accesspolicy.Check(s.policySpec(env), *slot(r)) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := accesspolicy.Ensure(ctx, r.c.IAM, r.withTofuKey(env).policySpec(env), *slot(r), tracked)
			*slot(r) = o
			return err
		},
		drift: func(r *run) map[string]string {
			return map[string]string{accesspolicy.Control(env): accesspolicy.Drift(r.withTofuKey(env).policySpec(env), *slot(r))}
		},
		tags:   func(r *run) []map[string]string { return []map[string]string{(*slot(r)).Tags} },
		remove: func(ctx context.Context, r *run) error { return accesspolicy.Delete(ctx, r.c.IAM, s.policyARN(env)) },
	}
}

func (s settings) alarmsComponent() component {
	return component{
		id: idAlarms, ident: s.Name, needs: []string{idKey},
		controls: alarms.ControlNames(),
		missing:  "the alarms are missing",
		// Find: the log group (its tags at once) then its filters, the role
		// (with its tags) then its policy, the alarms with each alarm's tags.
		// Create: the log group, role and alarms chains at once (two steps
		// each, every create with the tags), then the verification (two).
		// Repair: the tags of every part that exists are synced alongside.
		cost: cost{find: 2, create: 4, repair: 3, keep: 2, remove: 2},
		find: func(ctx context.Context, r *run) error {
			o, err := alarms.Find(ctx, alarmClients(r.c), s.alarmsSpec())
			if err != nil {
				return err
			}
			r.alarms = o
			return nil
		},
		found: func(r *run) bool { return r.alarms != nil },
		check: func(r *run) error { return alarms.Check(s.alarmsSpec(), r.alarms) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := alarms.Ensure(ctx, alarmClients(r.c), r.withKey().alarmsSpec(), r.alarms, tracked)
			r.alarms = o
			return err
		},
		drift:  func(r *run) map[string]string { return alarms.Drift(r.withKey().alarmsSpec(), r.alarms) },
		tags:   func(r *run) []map[string]string { return r.alarms.TagSets() },
		remove: func(ctx context.Context, r *run) error { return alarms.Delete(ctx, alarmClients(r.c), s.alarmsSpec()) },
	}
}

func (s settings) trailComponent(needs []string) component {
	return component{
		id: idTrail, ident: s.trailName(), needs: needs,
		controls: audittrail.ControlNames(),
		missing:  "the trail is missing",
		// Create: CreateTrail (with the tags), the event selectors,
		// StartLogging, verification. Repair: tags added out of band removed
		// and the others written at once, alongside the other writes.
		cost: cost{find: 1, create: 4, repair: 2, keep: 1, remove: 1},
		find: func(ctx context.Context, r *run) error {
			o, err := audittrail.Find(ctx, r.c.CloudTrail, s.trailName(), s.trailARN())
			return keep(&r.trail, o, err)
		},
		found: func(r *run) bool { return r.trail != nil },
		check: func(r *run) error { return audittrail.Check(s.trailSpec(), r.trail) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := audittrail.Ensure(ctx, r.c.CloudTrail, r.withKey().trailSpec(), r.trail, tracked)
			r.trail = o
			return err
		},
		drift:  func(r *run) map[string]string { return audittrail.Drift(r.withKey().trailSpec(), r.trail) },
		tags:   func(r *run) []map[string]string { return []map[string]string{r.trail.Tags} },
		remove: func(ctx context.Context, r *run) error { return audittrail.Delete(ctx, r.c.CloudTrail, s.trailName()) },
	}
}

// tofuKeyComponent is one environment's OpenTofu state encryption key (with
// tofu_encryption): a customer managed key of its own, found by its alias,
// reported as one control. Removing tofu_encryption or the environment
// schedules its deletion after the backend's deletion window, as destroy
// does with the state key.
func (s settings) tofuKeyComponent(env string) component {
	slot := func(r *run) **kmskey.Observed { return &r.tofuKeys[env].o }
	alias := naming.TofuEncryptionKeyAlias(s.Name, env)
	control := TofuKeyControl(env)
	return component{
		id: idTofuKey + env, ident: alias,
		controls: []string{control},
		missing:  "the OpenTofu encryption key is missing",
		// As the state key's, found by its alias instead of its ID.
		cost: cost{find: 1, create: 3, repair: 2, keep: 1, remove: 3},
		// Found by the ARN in state, as the state key by its ID.
		find: func(ctx context.Context, r *run) error {
			o, err := findTrackedKey(ctx, r.c.KMS, s.TofuKeyARNs[env], alias)
			return keep(slot(r), o, err)
		},
		found:   func(r *run) bool { return *slot(r) != nil },
		tracked: func(r *run) bool { o := *slot(r); return o != nil && o.ARN == s.TofuKeyARNs[env] },
		check:   func(r *run) error { return kmskey.Check(s.tofuKeySpec(env), *slot(r)) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := kmskey.Ensure(ctx, r.c.KMS, s.tofuKeySpec(env), *slot(r), tracked)
			*slot(r) = o
			if o != nil {
				r.tofuKeys[env].arn = o.ARN
			}
			return err
		},
		drift: func(r *run) map[string]string {
			o := *slot(r)
			// A key found only behind the alias that is not this
			// backend's: the alias was moved (a tracked key's tags are
			// repaired as tags drift instead).
			if o.ARN != s.TofuKeyARNs[env] {
				if err := kmskey.Check(s.tofuKeySpec(env), o); err != nil {
					return map[string]string{control: err.Error()}
				}
			}
			if o.State != "Enabled" {
				return map[string]string{control: fmt.Sprintf("key is %s", o.State)}
			}
			return map[string]string{control: tofuKeyProblem(kmskey.Drift(s.tofuKeySpec(env), o))}
		},
		// The purpose tag is the key's own, not one of the backend's tags.
		tags: func(r *run) []map[string]string {
			t := maps.Clone((*slot(r)).Tags)
			delete(t, naming.KeyPurposeTagKey)
			return []map[string]string{t}
		},
		remove: func(ctx context.Context, r *run) error {
			return removeTrackedKey(ctx, r.c.KMS, s.TofuKeyARNs[env], s.tofuKeySpec(env), s.DeletionWindow)
		},
	}
}

// findTrackedKey finds a key of the backend other than its state key (an
// OpenTofu encryption key, the replica key) by the ARN tracked in state: an
// alias moved to another key is drift repaired by pointing it back, never a
// reason to adopt that key. A key not tracked yet, or gone, is looked for
// behind the alias.
func findTrackedKey(ctx context.Context, api kmskey.API, trackedARN, alias string) (*kmskey.Observed, error) {
	if trackedARN != "" {
		o, err := kmskey.Find(ctx, api, trackedARN, alias)
		if !awserr.IsNotFound(err) {
			return o, err
		}
		tflog.Warn(ctx, "tracked KMS key no longer exists", map[string]any{"key_arn": trackedARN, "alias": alias})
	}
	return kmskey.Find(ctx, api, alias, alias)
}

// removeTrackedKey schedules the deletion of a key found by findTrackedKey:
// the key tracked in state (its alias deleted only if it still points at
// it), or, for a key never recorded (an apply that failed before saving
// it), the key behind the alias if it carries the spec's ownership and
// purpose tags; another key behind a moved alias is never deleted.
func removeTrackedKey(ctx context.Context, api kmskey.API, trackedARN string, spec kmskey.Spec, windowDays int32) error {
	// By key ID: AWS takes the ARN too, moto's ScheduleKeyDeletion only the
	// ID (HTTP 500 otherwise).
	if _, id, ok := strings.Cut(trackedARN, ":key/"); ok && id != "" {
		return kmskey.Delete(ctx, api, id, spec.Alias, windowDays)
	}
	return kmskey.DeleteOwnedByAlias(ctx, api, spec, windowDays)
}

// TofuKeyControl is the control of an environment's OpenTofu encryption key.
func TofuKeyControl(env string) string { return idTofuKey + env }

// tofuKeyProblem folds the key's controls into its one control: the first
// problem, in a fixed order.
func tofuKeyProblem(drift map[string]string) string {
	for _, c := range []string{kmskey.ControlState, kmskey.ControlRotation, kmskey.ControlPolicy, kmskey.ControlAlias} {
		if p := drift[c]; p != "" {
			return strings.TrimPrefix(c, "kms_") + ": " + p
		}
	}
	return ""
}
