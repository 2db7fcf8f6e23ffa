package accesspolicy

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

// The only write that follows CreatePolicy is the tagging of a policy whose
// create tags were dropped. Answered once with NoSuchEntity, as IAM does while
// it does not see a policy made moments ago, it is made again and Ensure
// succeeds.
func TestEnsureRetriesWritesToANewPolicyNotYetVisible(t *testing.T) {
	f := newFake()
	f.dropCreateTags = true
	f.fail["TagPolicy"] = []error{apiError("NoSuchEntity")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("TagPolicy"); n != 2 {
		t.Errorf("TagPolicy called %d times, want twice (not visible, then done)", n)
	}
	if !maps.Equal(o.Tags, testSpec().Tags) {
		t.Errorf("tags %v, want %v", o.Tags, testSpec().Tags)
	}
}

// A new policy IAM never sees: Ensure gives up with NoSuchEntity when the
// propagation bound (here a short deadline) ends.
func TestEnsureGivesUpOnANewPolicyNeverVisible(t *testing.T) {
	f := newFake()
	f.dropCreateTags = true
	f.always["TagPolicy"] = apiError("NoSuchEntity")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := observeAndEnsure(ctx, f, testSpec(), false)
	if err == nil || !awserr.HasCode(err, "NoSuchEntity") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure = %v, want NoSuchEntity at the bound", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
	}
	if n := f.count("TagPolicy"); n < 2 {
		t.Errorf("TagPolicy called %d times, want it retried", n)
	}
}

// Writes to a policy that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToAnExistingPolicy(t *testing.T) {
	f := newFake()
	f.add(testSpec().Name, map[string]string{"owner": "acme"}, wanted)
	spec := testSpec()
	spec.Tags = map[string]string{"owner": "acme", "team": "platform"}
	f.fail["TagPolicy"] = []error{apiError("NoSuchEntity")}
	if _, err := observeAndEnsure(context.Background(), f, spec, true); !awserr.HasCode(err, "NoSuchEntity") {
		t.Fatalf("Ensure = %v, want NoSuchEntity", err)
	}
	if n := f.count("TagPolicy"); n != 1 {
		t.Errorf("TagPolicy called %d times, want once", n)
	}
}
