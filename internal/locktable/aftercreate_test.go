package locktable

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

// The first write after CreateTable is answered once as DynamoDB does while
// it does not see the table yet (point-in-time recovery refused on a table
// that has only just turned ACTIVE; a tag write not finding it): Ensure
// writes again and succeeds.
func TestEnsureRetriesWritesToANewTableNotYetVisible(t *testing.T) {
	for name, tc := range map[string]struct {
		op, code string
		setup    func(f *fakeDynamoDB)
	}{
		"point-in-time recovery": {"UpdateContinuousBackups", "ContinuousBackupsUnavailableException", func(*fakeDynamoDB) {}},
		"tags dropped on create": {"TagResource", "ResourceNotFoundException", func(f *fakeDynamoDB) { f.dropCreateTags = true }},
		// CreateTable's reply lost: the table found in use was made moments ago too.
		"lost create reply": {"UpdateContinuousBackups", "ContinuousBackupsUnavailableException", func(f *fakeDynamoDB) {
			f.lost = []error{apiError("ResourceInUseException")}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			f.fail[tc.op] = []error{apiError(tc.code)}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count(tc.op); n != 2 {
				t.Errorf("%s called %d times, want twice (not visible, then done)", tc.op, n)
			}
			drifttest.Compliant(t, name, Drift(testSpec(), o))
		})
	}
}

// A new table on which point-in-time recovery stays unavailable: Ensure
// gives up with that error when the propagation bound (here a short
// deadline) ends.
func TestEnsureGivesUpOnANewTableNeverVisible(t *testing.T) {
	f := newFake()
	f.always["UpdateContinuousBackups"] = apiError("ContinuousBackupsUnavailableException")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := observeAndEnsure(ctx, f, testSpec(), false)
	if err == nil || !awserr.HasCode(err, "ContinuousBackupsUnavailableException") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure = %v, want ContinuousBackupsUnavailableException at the bound", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
	}
	if n := f.count("UpdateContinuousBackups"); n < 2 {
		t.Errorf("UpdateContinuousBackups called %d times, want it retried", n)
	}
}

// Writes to a table that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToAnExistingTable(t *testing.T) {
	f := newFake()
	f.hardened(testSpec()).pitr = false
	f.fail["UpdateContinuousBackups"] = []error{apiError("ContinuousBackupsUnavailableException")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); !awserr.HasCode(err, "ContinuousBackupsUnavailableException") {
		t.Fatalf("Ensure = %v, want the refusal", err)
	}
	if n := f.count("UpdateContinuousBackups"); n != 1 {
		t.Errorf("UpdateContinuousBackups called %d times, want once", n)
	}
}

// UpdateTable and the tag calls ask the SDK's retryer to retry
// ResourceInUseException (another change to the table in progress);
// CreateTable does not, as it answers that code for a table that exists.
func TestTableChangesRetryResourceInUse(t *testing.T) {
	f := newFake()
	tb := f.hardened(testSpec())
	tb.deletionProtection = false
	tb.tags["stale"] = "x"
	delete(tb.tags, "team")
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	if err := Delete(context.Background(), f, testSpec().Table); err != nil {
		t.Fatal(err)
	}
	f.table = nil
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	for op, want := range map[string]bool{"UpdateTable": true, "TagResource": true, "UntagResource": true, "CreateTable": false} {
		got, called := f.inUseRetried[op]
		if !called || got != want {
			t.Errorf("%s (called: %v) retries ResourceInUseException: %v, want %v", op, called, got, want)
		}
	}
}
