package statebucket

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// newBucketWrites are the writes Ensure makes to a bucket it has just
// created, with whether S3 keeps the tags of CreateBucket for the write to
// happen (PutBucketTagging only follows a create whose tags were dropped).
var newBucketWrites = map[string]bool{
	"PutBucketTagging":                false,
	"PutPublicAccessBlock":            true,
	"PutBucketEncryption":             true,
	"PutBucketVersioning":             true,
	"PutBucketPolicy":                 true,
	"PutBucketLifecycleConfiguration": true,
	"PutBucketLogging":                true,
}

// Each write to a new bucket is answered once with NoSuchBucket, as S3 does
// while it does not see a bucket made moments ago: Ensure writes again and
// succeeds; the bucket is kept.
func TestEnsureRetriesWritesToANewBucketNotYetVisible(t *testing.T) {
	for op, keepTags := range newBucketWrites {
		t.Run(op, func(t *testing.T) {
			f := newFake()
			f.createTags = keepTags
			f.fail[op] = []error{apiError("NoSuchBucket")}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count(op); n != 2 {
				t.Errorf("%s called %d times, want twice (not visible, then done)", op, n)
			}
			if n := f.count("DeleteBucket"); n != 0 {
				t.Errorf("DeleteBucket called %d times, want the new bucket kept", n)
			}
			drifttest.Compliant(t, op, Drift(testSpec(), o))
			if o.Tags[naming.OwnerTagKey] != "acme" {
				t.Errorf("tags %v, want the ownership tag", o.Tags)
			}
		})
	}
}

// A new bucket S3 never sees: Ensure gives up with NoSuchBucket when the
// propagation bound (here a short deadline) ends. A bucket that could not be
// tagged is removed again.
func TestEnsureGivesUpOnANewBucketNeverVisible(t *testing.T) {
	for _, op := range []string{"PutBucketTagging", "PutPublicAccessBlock"} {
		t.Run(op, func(t *testing.T) {
			f := newFake()
			f.createTags = newBucketWrites[op]
			f.always[op] = apiError("NoSuchBucket")
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err := observeAndEnsure(ctx, f, testSpec(), false)
			if err == nil || !awserr.HasCode(err, "NoSuchBucket") || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Ensure = %v, want NoSuchBucket at the bound", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
			}
			if n := f.count(op); n < 2 {
				t.Errorf("%s called %d times, want it retried", op, n)
			}
			if _, kept := f.buckets[bucket]; kept == (op == "PutBucketTagging") {
				t.Errorf("bucket kept: %v; want it removed only when it could not be tagged", kept)
			}
		})
	}
}

// The tags went with CreateBucket and do not show; writing them again is
// denied (an organisation's policy protecting tags). The bucket is kept and
// hardened, and Ensure succeeds: the tags are left to the backend's settle.
// Any other tagging failure still removes the empty bucket.
func TestEnsureKeepsANewBucketWhoseTaggingIsDenied(t *testing.T) {
	f := newFake()
	f.fail["PutBucketTagging"] = []error{apiError("AccessDenied")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.buckets[bucket]; !ok || f.count("DeleteBucket") != 0 {
		t.Fatalf("bucket removed (%d DeleteBucket calls), want it kept", f.count("DeleteBucket"))
	}
	if n := f.count("PutBucketTagging"); n != 1 {
		t.Errorf("PutBucketTagging called %d times, want once (a denial is not retried)", n)
	}
	drifttest.Compliant(t, "bucket with denied tagging", Drift(testSpec(), o))
	if _, ok := o.Tags[naming.OwnerTagKey]; ok {
		t.Errorf("observed tags %v; the fake dropped them, so the read must show them missing", o.Tags)
	}

	f = newFake()
	f.fail["PutBucketTagging"] = []error{apiError("InvalidTag")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); !awserr.HasCode(err, "InvalidTag") {
		t.Fatalf("Ensure = %v, want the InvalidTag failure", err)
	}
	if _, ok := f.buckets[bucket]; ok {
		t.Error("bucket left behind without its ownership tag")
	}
}

// Writes to a bucket that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToAnExistingBucket(t *testing.T) {
	f := newFake()
	f.hardenedBucket(testSpec()).versioning = ""
	f.fail["PutBucketVersioning"] = []error{apiError("NoSuchBucket")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); !awserr.HasCode(err, "NoSuchBucket") {
		t.Fatalf("Ensure = %v, want NoSuchBucket", err)
	}
	if n := f.count("PutBucketVersioning"); n != 1 {
		t.Errorf("PutBucketVersioning called %d times, want once", n)
	}
}

// S3 refuses logging into a log bucket it does not see yet, or whose policy
// granting log delivery it does not see yet (both made moments before, in
// the same apply), with InvalidTargetBucketForLogging: the write is retried,
// for an existing state bucket too.
func TestEnsureRetriesLoggingToANewLogBucket(t *testing.T) {
	for _, tracked := range []bool{false, true} {
		f := newFake()
		f.createTags = true
		if tracked {
			if _, err := observeAndEnsure(context.Background(), f, Spec{Backend: "acme", Bucket: testSpec().Bucket, KeyARN: testSpec().KeyARN,
				NoncurrentDays: testSpec().NoncurrentDays, Policy: testSpec().Policy, Role: testSpec().Role, Tags: testSpec().Tags}, false); err != nil {
				t.Fatal(err)
			}
		}
		f.fail["PutBucketLogging"] = []error{apiError("InvalidTargetBucketForLogging")}
		o, err := observeAndEnsure(context.Background(), f, testSpec(), tracked)
		if err != nil {
			t.Fatalf("tracked %v: %v", tracked, err)
		}
		if n := f.count("PutBucketLogging"); n != 2 {
			t.Errorf("tracked %v: PutBucketLogging called %d times, want twice", tracked, n)
		}
		drifttest.Compliant(t, "logging", Drift(testSpec(), o))
	}
}
