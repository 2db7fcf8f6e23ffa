package kmskey

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

// Each write that follows CreateKey is answered once with NotFoundException,
// as KMS does while it does not see a key made moments ago: Ensure writes
// again and succeeds, and the new key is kept behind its alias (a key not yet
// visible is not a failed alias).
func TestEnsureRetriesWritesToANewKeyNotYetVisible(t *testing.T) {
	for _, op := range []string{"CreateAlias", "EnableKeyRotation", "TagResource"} {
		t.Run(op, func(t *testing.T) {
			f := newFakeKMS()
			f.reportPeriod = true
			f.dropCreateTags = true // so that the new key is tagged after the verification read
			f.fail[op] = []error{apiError("NotFoundException")}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count(op); n != 2 {
				t.Errorf("%s called %d times, want twice (not visible, then done)", op, n)
			}
			if len(f.scheduled) != 0 {
				t.Errorf("scheduled for deletion %v, want nothing", f.scheduled)
			}
			if len(f.order) != 1 || o.KeyID != f.order[0] || f.aliases[alias] != o.KeyID {
				t.Errorf("keys %v, alias → %q, returned %q; want the one new key behind its alias", f.order, f.aliases[alias], o.KeyID)
			}
			drifttest.Compliant(t, "new key", Drift(testSpec(), o))
		})
	}
}

// A new key KMS never sees: Ensure gives up with the NotFoundException when
// the propagation bound (here a short deadline) ends, not before and not long
// after.
func TestEnsureGivesUpOnANewKeyNeverVisible(t *testing.T) {
	for _, op := range []string{"CreateAlias", "EnableKeyRotation"} {
		t.Run(op, func(t *testing.T) {
			f := newFakeKMS()
			f.always[op] = apiError("NotFoundException")
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err := observeAndEnsure(ctx, f, testSpec(), "")
			if err == nil || !awserr.HasCode(err, "NotFoundException") || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Ensure = %v, want the NotFoundException at the bound", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
			}
			if n := f.count(op); n < 2 {
				t.Errorf("%s called %d times, want it retried", op, n)
			}
			id := f.order[0]
			if op == "CreateAlias" {
				// Without its alias the key could not be found again.
				if f.keys[id].meta.KeyState != types.KeyStatePendingDeletion {
					t.Errorf("key %s is %s, want it scheduled for deletion", id, f.keys[id].meta.KeyState)
				}
			} else if f.aliases[alias] != id || len(f.scheduled) != 0 {
				t.Errorf("alias → %q, scheduled %v; want key %s kept behind its alias for the next apply", f.aliases[alias], f.scheduled, id)
			}
		})
	}
}

// Writes to a key that existed before this Ensure are made once: a
// NotFoundException there is an error, not a key still appearing.
func TestEnsureDoesNotRetryWritesToAnExistingKey(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	id := hardenedKey(f)
	f.keys[id].rotation = false
	delete(f.keys[id].tags, "team")
	f.fail["EnableKeyRotation"] = []error{apiError("NotFoundException")}
	f.fail["TagResource"] = []error{apiError("NotFoundException")}
	_, err := observeAndEnsure(context.Background(), f, testSpec(), id)
	if !awserr.HasCode(err, "NotFoundException") {
		t.Fatalf("Ensure = %v, want the NotFoundException", err)
	}
	if r, tg := f.count("EnableKeyRotation"), f.count("TagResource"); r != 1 || tg != 1 {
		t.Errorf("EnableKeyRotation called %d times, TagResource %d; want once each", r, tg)
	}
}
