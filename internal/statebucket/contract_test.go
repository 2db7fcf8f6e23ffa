package statebucket

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find, sorted.
var findReads = []string{"GetBucketEncryption", "GetBucketLifecycleConfiguration", "GetBucketLogging", "GetBucketNotificationConfiguration",
	"GetBucketOwnershipControls", "GetBucketPolicy", "GetBucketTagging", "GetBucketVersioning", "GetObjectLockConfiguration", "GetPublicAccessBlock", "HeadBucket"}

func isRead(op string) bool { return strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Head") }

func observe(t *testing.T, f *fakeS3, spec Spec) *Observed {
	t.Helper()
	have, err := Find(context.Background(), f, spec.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return have
}

// Ensure of a compliant bucket writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	for _, spec := range []Spec{testSpec(), logSpec(), lockedSpec()} {
		f := newFake()
		f.hardenedBucket(spec)
		if _, err := Ensure(context.Background(), f, spec, observe(t, f, spec), false); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
			t.Errorf("%s: calls %v, want one Find (%v) and no write", spec.Bucket, got, findReads)
		}
	}
}

// Nothing observed: the bucket is made with its tags and ACLs disabled, and
// every other control is written, public access first; no read of the
// bucket before CreateBucket, one Find after the writes.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFake()
	spec := testSpec()
	o, err := Ensure(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	want := []string{"CreateBucket", "PutBucketEncryption", "PutBucketLifecycleConfiguration", "PutBucketLogging", "PutBucketPolicy",
		"PutBucketTagging", "PutBucketVersioning", "PutPublicAccessBlock"}
	if !slices.Equal(slices.Sorted(slices.Values(w)), want) {
		t.Errorf("writes %v, want %v in some order", w, want)
	}
	if len(w) < 3 || w[0] != "CreateBucket" || w[1] != "PutBucketTagging" || w[2] != "PutPublicAccessBlock" {
		t.Errorf("writes %v, want CreateBucket, PutBucketTagging and PutPublicAccessBlock first", w)
	}
	if f.calls[0] != "CreateBucket" {
		t.Errorf("calls %v, want CreateBucket first", f.calls)
	}
	last := slices.Index(f.calls, w[len(w)-1])
	// Before the writes, only the tag read waits for the new bucket (and
	// shows the tags the emulator dropped from CreateBucket).
	if slices.ContainsFunc(f.calls[:last], func(c string) bool { return strings.HasPrefix(c, "Get") && c != "GetBucketTagging" }) {
		t.Errorf("calls %v, want no read of a control before the writes", f.calls)
	}
	if after := slices.Sorted(slices.Values(f.calls[last+1:])); !slices.Equal(after, findReads) {
		t.Errorf("reads after the writes %v, want one Find %v", after, findReads)
	}
	drifttest.Compliant(t, "new bucket", Drift(spec, o))
}

// Ensure takes what was observed: no read before the writes, public access
// and ownership before the rest, tags last, one Find after.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := newFake()
	spec := testSpec()
	b := f.hardenedBucket(spec)
	b.pab, b.ownership, b.encryption, b.policy, b.versioning = nil, types.ObjectOwnershipObjectWriter, nil, "", ""
	b.tags = b.tags[:1]
	if _, err := Ensure(context.Background(), f, spec, observe(t, f, spec), true); err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	if len(w) != 6 || !slices.Equal(slices.Sorted(slices.Values(w[:2])), []string{"PutBucketOwnershipControls", "PutPublicAccessBlock"}) ||
		!slices.Equal(slices.Sorted(slices.Values(w[2:5])), []string{"PutBucketEncryption", "PutBucketPolicy", "PutBucketVersioning"}) || w[5] != "PutBucketTagging" {
		t.Errorf("writes %v, want public access and ownership, then encryption, policy and versioning, then tags", w)
	}
	n := len(w)
	if slices.ContainsFunc(f.calls[:n], isRead) || !slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
}

// A failure to block public access writes nothing else.
func TestEnsureStopsWhenPublicAccessCannotBeBlocked(t *testing.T) {
	f := newFake()
	spec := testSpec()
	b := f.hardenedBucket(spec)
	b.pab, b.policy = nil, ""
	have := observe(t, f, spec)
	f.fail["PutPublicAccessBlock"] = []error{errors.New("denied")}
	if _, err := Ensure(context.Background(), f, spec, have, true); err == nil || !strings.Contains(err.Error(), "s3:PutPublicAccessBlock") {
		t.Fatalf("Ensure = %v, want the failure", err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"PutPublicAccessBlock"}) {
		t.Errorf("writes %v, want nothing after the failed PutPublicAccessBlock", w)
	}
}

func TestCheckRefusesAForeignBucket(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no tags":           {},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Observed{Bucket: bucket, Tags: tags}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), bucket) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, bucket)
		}
		f := newFake()
		f.hardenedBucket(spec)
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := newFake()
	f.hardenedBucket(testSpec())
	forbidden := httpError(http.StatusForbidden)
	policyErr, loggingErr := errors.New("policy denied"), errors.New("logging denied")
	f.fail["HeadBucket"] = []error{forbidden}
	f.fail["GetBucketPolicy"] = []error{policyErr}
	f.fail["GetBucketLogging"] = []error{loggingErr}
	_, err := Find(context.Background(), f, bucket)
	for op, e := range map[string]error{"HeadBucket": forbidden, "GetBucketPolicy": policyErr, "GetBucketLogging": loggingErr} {
		if !errors.Is(err, e) || !strings.Contains(err.Error(), "s3:"+op+" "+bucket) {
			t.Errorf("Find = %v, want s3:%s reported", err, op)
		}
	}
	// A missing bucket is not found, whatever the other reads say.
	f = newFake()
	f.fail["GetBucketPolicy"] = []error{policyErr}
	if _, err := Find(context.Background(), f, bucket); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing bucket = %v, want not found", err)
	}
}

// Only the state bucket turns off logging to the backend's log bucket when
// access_logging is removed; the role, not a control prefix, says which.
func TestRoleDecidesLoggingOff(t *testing.T) {
	for role, wantOff := range map[Role]bool{RoleState: true, RoleAccessLogs: false} {
		f := newFake()
		spec := testSpec()
		spec.Logging, spec.Role = nil, role
		f.hardenedBucket(spec).logging = &types.LoggingEnabled{TargetBucket: aws.String(naming.LogBucket(bucket)), TargetPrefix: aws.String("p/")}
		if _, err := observeAndEnsure(context.Background(), f, spec, true); err != nil {
			t.Fatal(err)
		}
		if off := slices.Contains(f.writes(), "PutBucketLogging"); off != wantOff {
			t.Errorf("role %d: logging turned off %v, want %v", role, off, wantOff)
		}
	}
}
