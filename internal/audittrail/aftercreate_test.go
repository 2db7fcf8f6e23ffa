package audittrail

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

// Each write that follows CreateTrail is answered once with
// TrailNotFoundException, as CloudTrail does while it does not see a trail
// made moments ago: Ensure writes again and succeeds.
func TestEnsureRetriesWritesToANewTrailNotYetVisible(t *testing.T) {
	for op, dropTags := range map[string]bool{"PutEventSelectors": false, "StartLogging": false, "AddTags": true} {
		t.Run(op, func(t *testing.T) {
			f := newFake()
			f.dropCreateTags = dropTags
			f.fail[op] = []error{apiError("TrailNotFoundException")}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count(op); n != 2 {
				t.Errorf("%s called %d times, want twice (not visible, then done)", op, n)
			}
			drifttest.Compliant(t, op, Drift(testSpec(), o))
			if !maps.Equal(o.Tags, testSpec().Tags) {
				t.Errorf("tags %v, want %v", o.Tags, testSpec().Tags)
			}
		})
	}
}

// A new trail CloudTrail never sees: Ensure gives up with
// TrailNotFoundException when the propagation bound (here a short deadline)
// ends, and logging is not started.
func TestEnsureGivesUpOnANewTrailNeverVisible(t *testing.T) {
	f := newFake()
	f.always["PutEventSelectors"] = apiError("TrailNotFoundException")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := observeAndEnsure(ctx, f, testSpec(), false)
	if err == nil || !awserr.HasCode(err, "TrailNotFoundException") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure = %v, want TrailNotFoundException at the bound", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
	}
	if n := f.count("PutEventSelectors"); n < 2 {
		t.Errorf("PutEventSelectors called %d times, want it retried", n)
	}
	if n := f.count("StartLogging"); n != 0 {
		t.Errorf("StartLogging called %d times, want none before the selectors are set", n)
	}
}

// Writes to a trail that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToAnExistingTrail(t *testing.T) {
	f := newFake()
	f.hardenedTrail(testSpec()).logging = false
	f.fail["StartLogging"] = []error{apiError("TrailNotFoundException")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); !awserr.HasCode(err, "TrailNotFoundException") {
		t.Fatalf("Ensure = %v, want TrailNotFoundException", err)
	}
	if n := f.count("StartLogging"); n != 1 {
		t.Errorf("StartLogging called %d times, want once", n)
	}
}
