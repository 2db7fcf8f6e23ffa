package statebucket

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

func TestDriftObjectLockAndEvents(t *testing.T) {
	spec := lockedSpec()
	locked := func() *Observed {
		o := compliant(spec)
		o.Logging = *spec.Logging
		o.ObjectLockEnabled, o.ObjectLockMode, o.ObjectLockDays, o.EventBridge = true, "GOVERNANCE", 30, true
		return o
	}
	drifttest.Compliant(t, "locked bucket", Drift(spec, locked()))
	for name, tc := range map[string]struct {
		mutate  func(o *Observed)
		control string
		want    string
	}{
		"object lock off":    {func(o *Observed) { *o = *compliant(spec); o.Logging, o.EventBridge = *spec.Logging, true }, ControlObjectLock, "object lock is off"},
		"no default rule":    {func(o *Observed) { o.ObjectLockMode, o.ObjectLockDays = "", 0 }, ControlObjectLock, "no default retention, want GOVERNANCE 30 days"},
		"other mode":         {func(o *Observed) { o.ObjectLockMode = "COMPLIANCE" }, ControlObjectLock, "default retention is COMPLIANCE 30 days, want GOVERNANCE 30 days"},
		"shorter":            {func(o *Observed) { o.ObjectLockDays = 1 }, ControlObjectLock, "default retention is GOVERNANCE 1 day, want GOVERNANCE 30 days"},
		"in years":           {func(o *Observed) { o.ObjectLockYears, o.ObjectLockDays = 1, 365 }, ControlObjectLock, "default retention is GOVERNANCE 1 year, want"},
		"events not sent":    {func(o *Observed) { o.EventBridge = false }, ControlEventNotifications, "events are not sent to EventBridge"},
		"versioning changed": {func(o *Observed) { o.Versioning = "Suspended" }, ControlVersioning, "Suspended"},
	} {
		o := locked()
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
	// Not wanted: no control, whatever the bucket has.
	plain := testSpec()
	d := Drift(plain, locked())
	for _, c := range []string{ControlObjectLock, ControlEventNotifications} {
		if _, ok := d[c]; ok {
			t.Errorf("spec without object lock and events: control %s reported", c)
		}
	}
}

func TestControlNamesOfTheReplica(t *testing.T) {
	spec := lockedSpec()
	spec.Role, spec.Logging = RoleReplica, nil
	want := []string{"replica_bucket_encryption", "replica_bucket_event_notifications", "replica_bucket_lifecycle", "replica_bucket_object_lock",
		"replica_bucket_ownership_controls", "replica_bucket_policy", "replica_bucket_public_access_block", "replica_bucket_versioning"}
	if got := ControlNames(spec); !slices.Equal(got, want) {
		t.Errorf("replica controls %v, want %v", got, want)
	}
	if got := ControlNames(lockedSpec()); !slices.Contains(got, ControlObjectLock) || !slices.Contains(got, ControlEventNotifications) {
		t.Errorf("state bucket controls %v, want %s and %s among them", got, ControlObjectLock, ControlEventNotifications)
	}
}

// A new bucket: Object Lock is written after versioning, in one attempt,
// even when the versioning write is slow to answer; EventBridge is switched
// on without reading a notification configuration the bucket cannot have.
func TestEnsureNewLockedBucket(t *testing.T) {
	f := newFake()
	f.delay["PutBucketVersioning"] = 50 * time.Millisecond
	spec := lockedSpec()
	o, err := observeAndEnsure(context.Background(), f, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	v, l := slices.Index(w, "PutBucketVersioning"), slices.Index(w, "PutObjectLockConfiguration")
	if v < 0 || l < v || f.count("PutObjectLockConfiguration") != 1 {
		t.Errorf("writes %v, want one PutObjectLockConfiguration after PutBucketVersioning", w)
	}
	if len(f.created) != 1 || f.created[0].ObjectLockEnabledForBucket != nil {
		t.Errorf("CreateBucket %+v, want Object Lock switched on by PutObjectLockConfiguration only", f.created)
	}
	c := f.locks[0].ObjectLockConfiguration
	if c.ObjectLockEnabled != types.ObjectLockEnabledEnabled || c.Rule == nil || c.Rule.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance ||
		aws.ToInt32(c.Rule.DefaultRetention.Days) != 30 || c.Rule.DefaultRetention.Years != nil {
		t.Errorf("PutObjectLockConfiguration %+v, want Enabled with GOVERNANCE 30 days", c)
	}
	first, last := slices.Index(f.calls, "CreateBucket"), slices.Index(f.calls, w[len(w)-1])
	if slices.Contains(f.calls[first:last], "GetBucketNotificationConfiguration") {
		t.Errorf("calls %v, want no notification read before the writes of a new bucket", f.calls)
	}
	if n := f.notified; len(n) != 1 || n[0].NotificationConfiguration.EventBridgeConfiguration == nil {
		t.Errorf("PutBucketNotificationConfiguration %+v, want EventBridge on", n)
	}
	drifttest.Compliant(t, "new locked bucket", Drift(spec, o))
	if !o.ObjectLockEnabled || o.ObjectLockMode != "GOVERNANCE" || o.ObjectLockDays != 30 || !o.EventBridge {
		t.Errorf("observed %+v, want Object Lock GOVERNANCE 30 days and EventBridge", o)
	}
}

// An existing bucket with versioning suspended: the lock is written only
// after versioning is Enabled again, and a failed versioning write stops it.
func TestEnsureLocksAfterVersioning(t *testing.T) {
	spec := lockedSpec()
	f := newFake()
	f.delay["PutBucketVersioning"] = 50 * time.Millisecond
	b := f.hardenedBucket(spec)
	b.versioning, b.objectLock = types.BucketVersioningStatusSuspended, nil
	if _, err := observeAndEnsure(context.Background(), f, spec, true); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"PutBucketVersioning", "PutObjectLockConfiguration"}) {
		t.Errorf("writes %v, want versioning, then the lock", w)
	}

	f = newFake()
	b = f.hardenedBucket(spec)
	b.versioning, b.objectLock = types.BucketVersioningStatusSuspended, nil
	f.fail["PutBucketVersioning"] = []error{errors.New("denied")}
	if _, err := observeAndEnsure(context.Background(), f, spec, true); err == nil {
		t.Fatal("Ensure succeeded, want the versioning failure")
	}
	if f.count("PutObjectLockConfiguration") != 0 {
		t.Errorf("calls %v, want no lock write after the versioning write failed", f.calls)
	}
}

// S3 may not see versioning as Enabled yet: the lock write is tried again.
func TestEnsureRetriesTheLockWhileVersioningPropagates(t *testing.T) {
	spec := lockedSpec()
	f := newFake()
	f.hardenedBucket(spec).objectLock = nil
	f.fail["PutObjectLockConfiguration"] = []error{apiError("InvalidBucketState")}
	o, err := observeAndEnsure(context.Background(), f, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("PutObjectLockConfiguration"); n != 2 {
		t.Errorf("PutObjectLockConfiguration called %d times, want 2", n)
	}
	drifttest.Compliant(t, "after the retry", Drift(spec, o))
}

// Only what differs is written: a rule changed is rewritten whole, a
// bucket that sends events to EventBridge keeps its configuration.
func TestEnsureRewritesTheRule(t *testing.T) {
	spec := lockedSpec()
	spec.ObjectLock = &ObjectLock{Mode: "COMPLIANCE", Days: 7}
	f := newFake()
	f.hardenedBucket(lockedSpec())
	if _, err := observeAndEnsure(context.Background(), f, spec, true); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"PutObjectLockConfiguration"}) {
		t.Errorf("writes %v, want only the lock", w)
	}
	if r := f.locks[0].ObjectLockConfiguration.Rule.DefaultRetention; r.Mode != types.ObjectLockRetentionModeCompliance || aws.ToInt32(r.Days) != 7 {
		t.Errorf("rule %+v, want COMPLIANCE 7 days", r)
	}
}

// Without object_lock, a rule on the state or replica bucket is left alone:
// removing it is the backend's decision (ClearDefaultRetention).
func TestEnsureLeavesAnUnwantedRuleAlone(t *testing.T) {
	for _, role := range []Role{RoleState, RoleReplica} {
		f := newFake()
		f.hardenedBucket(lockedSpec())
		spec := testSpec()
		spec.Role = role
		o, err := observeAndEnsure(context.Background(), f, spec, true)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(f.writes(), "PutObjectLockConfiguration") || slices.Contains(f.writes(), "PutBucketNotificationConfiguration") {
			t.Errorf("role %d: writes %v, want neither the lock nor the notifications touched", role, f.writes())
		}
		if o.ObjectLockMode != "GOVERNANCE" || !o.EventBridge {
			t.Errorf("role %d: observed %+v, want the rule and EventBridge still there", role, o)
		}
	}
}

func TestClearDefaultRetention(t *testing.T) {
	f := newFake()
	f.hardenedBucket(lockedSpec())
	if err := ClearDefaultRetention(context.Background(), f, bucket); err != nil {
		t.Fatal(err)
	}
	if c := f.locks[0].ObjectLockConfiguration; c.ObjectLockEnabled != types.ObjectLockEnabledEnabled || c.Rule != nil {
		t.Errorf("PutObjectLockConfiguration %+v, want Enabled without a rule", c)
	}
	o, err := Find(context.Background(), f, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if !o.ObjectLockEnabled || o.ObjectLockMode != "" || o.ObjectLockDays != 0 {
		t.Errorf("observed lock %v %q %d, want on without a rule", o.ObjectLockEnabled, o.ObjectLockMode, o.ObjectLockDays)
	}
	f.fail["PutObjectLockConfiguration"] = []error{errors.New("denied")}
	if err := ClearDefaultRetention(context.Background(), f, bucket); err == nil || !strings.Contains(err.Error(), "s3:PutObjectLockConfiguration "+bucket) {
		t.Errorf("ClearDefaultRetention = %v, want the failure named", err)
	}
}

// EventBridge is added to the notification configuration others set, which
// is kept, and their destinations are not validated again.
func TestEnsureKeepsOthersNotifications(t *testing.T) {
	spec := lockedSpec()
	f := newFake()
	queue := types.QueueConfiguration{Id: aws.String("audit"), QueueArn: aws.String("arn:aws:sqs:eu-west-1:123456789012:audit"), Events: []types.Event{"s3:ObjectCreated:*"}}
	topic := types.TopicConfiguration{Id: aws.String("ops"), TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:ops"), Events: []types.Event{"s3:ObjectRemoved:*"}}
	f.hardenedBucket(spec).notification = &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{queue}, TopicConfigurations: []types.TopicConfiguration{topic}}
	o, err := observeAndEnsure(context.Background(), f, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"PutBucketNotificationConfiguration"}) {
		t.Fatalf("writes %v, want the notifications only", w)
	}
	in := f.notified[0]
	c := in.NotificationConfiguration
	if c.EventBridgeConfiguration == nil || len(c.QueueConfigurations) != 1 || aws.ToString(c.QueueConfigurations[0].Id) != "audit" ||
		len(c.TopicConfigurations) != 1 || aws.ToString(c.TopicConfigurations[0].Id) != "ops" || !aws.ToBool(in.SkipDestinationValidation) {
		t.Errorf("PutBucketNotificationConfiguration %+v (skip validation %v), want EventBridge added to the queue and topic, not validated again", c, in.SkipDestinationValidation)
	}
	drifttest.Compliant(t, "events on", Drift(spec, o))
}

func TestFindReadsObjectLock(t *testing.T) {
	f := newFake()
	f.buckets[bucket] = &fakeBucket{objectLock: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Years: aws.Int32(2)}}}}
	o, err := Find(context.Background(), f, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if !o.ObjectLockEnabled || o.ObjectLockMode != "COMPLIANCE" || o.ObjectLockYears != 2 || o.ObjectLockDays != 730 {
		t.Errorf("observed %v %q %d years %d days, want COMPLIANCE 2 years (730 days)", o.ObjectLockEnabled, o.ObjectLockMode, o.ObjectLockYears, o.ObjectLockDays)
	}
	f.buckets[bucket].objectLock = &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}
	if o, err = Find(context.Background(), f, bucket); err != nil || !o.ObjectLockEnabled || o.ObjectLockMode != "" {
		t.Errorf("Find = %+v, %v; want Object Lock on without a rule", o, err)
	}
}

func TestRetained(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	later, latest, past := now.Add(24*time.Hour), now.Add(72*time.Hour), now.Add(-time.Hour)
	version := func(key, id string) types.ObjectVersion {
		return types.ObjectVersion{Key: aws.String(key), VersionId: aws.String(id)}
	}
	f := newFake()
	b := f.hardenedBucket(lockedSpec())
	b.versions = []types.ObjectVersion{version("a", "1"), version("a", "2"), version("b", "1"), version("c", "1"), version("d", "1"), version("e", "1")}
	b.markers = []types.DeleteMarkerEntry{{Key: aws.String("a"), VersionId: aws.String("3")}}
	b.retention = map[string]types.ObjectLockRetention{
		"a@1": {Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(later)},
		"a@2": {Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(latest)},
		"b@1": {Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(past)}, // ended
		"d@1": {Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(past)}, // ended, but held
	}
	b.legalHold = map[string]types.ObjectLockLegalHoldStatus{"d@1": types.ObjectLockLegalHoldStatusOn, "e@1": types.ObjectLockLegalHoldStatusOff}
	n, until, err := Retained(context.Background(), f, bucket, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || !until.Equal(latest) {
		t.Errorf("Retained = %d, %s; want 3 (a@1, a@2, d@1 held), until %s", n, until, latest)
	}
	// A retained version's legal hold is not read.
	if got, want := f.count("GetObjectRetention"), 6; got != want {
		t.Errorf("GetObjectRetention called %d times, want once per version (%d)", got, want)
	}
	if got, want := f.count("GetObjectLegalHold"), 4; got != want {
		t.Errorf("GetObjectLegalHold called %d times, want once per version not retained (%d)", got, want)
	}

	// Only a legal hold: counted, no date.
	b.retention = nil
	b.legalHold = map[string]types.ObjectLockLegalHoldStatus{"c@1": types.ObjectLockLegalHoldStatusOn}
	if n, until, err = Retained(context.Background(), f, bucket, now); err != nil || n != 1 || !until.IsZero() {
		t.Errorf("Retained with a legal hold = %d, %s, %v; want 1, no date", n, until, err)
	}

	// A version deleted since it was listed is not retained.
	gone := newFake()
	gone.hardenedBucket(lockedSpec()).versions = []types.ObjectVersion{version("a", "1")}
	gone.fail["GetObjectRetention"] = []error{apiError("NoSuchVersion")}
	if n, _, err = Retained(context.Background(), gone, bucket, now); err != nil || n != 0 || gone.count("GetObjectLegalHold") != 0 {
		t.Errorf("Retained with a version gone = %d, %v (calls %v); want 0, no legal hold read", n, err, gone.calls)
	}

	// A version that cannot be read may be retained: an error.
	f.fail["GetObjectLegalHold"] = []error{apiError("AccessDenied")}
	if _, _, err = Retained(context.Background(), f, bucket, now); err == nil || !strings.Contains(err.Error(), "s3:GetObjectLegalHold "+bucket+"/") ||
		!strings.Contains(err.Error(), "1 of the 6 object versions") {
		t.Errorf("Retained with a read denied = %v, want the failure named", err)
	}
	f.fail["GetObjectRetention"] = []error{apiError("AccessDenied")}
	if _, _, err = Retained(context.Background(), f, bucket, now); err == nil || !strings.Contains(err.Error(), "s3:GetObjectRetention") {
		t.Errorf("Retained with a retention read denied = %v, want the failure", err)
	}
	f.fail["ListObjectVersions"] = []error{errors.New("boom")}
	if _, _, err = Retained(context.Background(), f, bucket, now); err == nil || !strings.Contains(err.Error(), "s3:ListObjectVersions") {
		t.Errorf("Retained when listing fails = %v", err)
	}
	f.fail["GetObjectLockConfiguration"] = []error{errors.New("boom")}
	if _, _, err = Retained(context.Background(), f, bucket, now); err == nil || !strings.Contains(err.Error(), "s3:GetObjectLockConfiguration") {
		t.Errorf("Retained when the lock cannot be read = %v", err)
	}
}

// A bucket without Object Lock holds nothing retained, and is not listed.
func TestRetainedWithoutObjectLock(t *testing.T) {
	f := newFake()
	b := f.hardenedBucket(testSpec())
	b.versions = []types.ObjectVersion{{Key: aws.String("a"), VersionId: aws.String("1")}}
	n, until, err := Retained(context.Background(), f, bucket, time.Now())
	if err != nil || n != 0 || !until.IsZero() {
		t.Errorf("Retained = %d, %s, %v; want 0", n, until, err)
	}
	if !slices.Equal(f.calls, []string{"GetObjectLockConfiguration"}) {
		t.Errorf("calls %v, want the lock configuration read only", f.calls)
	}
	// S3's answers for versions of a bucket without Object Lock read as no
	// retention too.
	b.objectLock = &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}
	f.fail["GetObjectRetention"] = []error{apiError("InvalidRequest")}
	f.fail["GetObjectLegalHold"] = []error{apiError("InvalidRequest")}
	if n, _, err = Retained(context.Background(), f, bucket, time.Now()); err != nil || n != 0 {
		t.Errorf("Retained = %d, %v; want 0", n, err)
	}
}
