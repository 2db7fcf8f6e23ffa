package alarms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

// newPartWrites are the writes that follow the making of a part, with the
// code its service answers while it does not see the part yet, and whether
// the part's create tags are dropped (so that it is tagged after the
// verification read).
var newPartWrites = map[string]struct {
	code     string
	dropTags bool
}{
	"PutRetentionPolicy":     {"ResourceNotFoundException", false},
	"PutMetricFilter":        {"ResourceNotFoundException", false},
	"PutRolePolicy":          {"NoSuchEntity", false},
	"TagResource logs":       {"ResourceNotFoundException", true},
	"TagRole":                {"NoSuchEntity", true},
	"TagResource cloudwatch": {"ResourceNotFoundException", true},
}

// Each write that follows the making of a part is answered once with its
// service's "not found", as AWS does while it does not see the part yet:
// Ensure writes again (one call more than without the answer) and succeeds.
func TestEnsureRetriesWritesToNewPartsNotYetVisible(t *testing.T) {
	for op, tc := range newPartWrites {
		t.Run(op, func(t *testing.T) {
			clean := newFake()
			clean.dropCreateTags = tc.dropTags
			if _, err := observeAndEnsure(context.Background(), clean, testSpec(), false); err != nil {
				t.Fatal(err)
			}
			f := newFake()
			f.dropCreateTags = tc.dropTags
			f.fail[op] = []error{apiError(tc.code)}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := f.count(op), clean.count(op)+1; got != want {
				t.Errorf("%s called %d times, want %d (one more than without the answer)", op, got, want)
			}
			drifttest.Compliant(t, op, Drift(testSpec(), o))
		})
	}
}

// A new role IAM never sees: Ensure gives up with NoSuchEntity when the
// propagation bound (here a short deadline) ends.
func TestEnsureGivesUpOnANewPartNeverVisible(t *testing.T) {
	f := newFake()
	f.always["PutRolePolicy"] = apiError("NoSuchEntity")
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
	if n := f.count("PutRolePolicy"); n < 2 {
		t.Errorf("PutRolePolicy called %d times, want it retried", n)
	}
}

// Writes to parts that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToExistingParts(t *testing.T) {
	f := applied(t)
	f.groups[testSpec().LogGroup()].RetentionInDays = aws.Int32(1)
	f.fail["PutRetentionPolicy"] = []error{apiError("ResourceNotFoundException")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), true); !awserr.HasCode(err, "ResourceNotFoundException") {
		t.Fatalf("Ensure = %v, want ResourceNotFoundException", err)
	}
	if n := f.count("PutRetentionPolicy"); n != 1 {
		t.Errorf("PutRetentionPolicy called %d times, want once", n)
	}
}
