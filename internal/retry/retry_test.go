package retry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

func TestOnCodesRetriesNamedCodesOnly(t *testing.T) {
	calls := 0
	err := OnCodes(context.Background(), time.Minute, Codes{"Busy"}, func() error {
		calls++
		if calls < 3 {
			return apiErr("Busy")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("named code: err %v after %d calls, want success after 3", err, calls)
	}

	calls = 0
	err = OnCodes(context.Background(), time.Minute, Codes{"Busy"}, func() error {
		calls++
		return apiErr("AccessDenied")
	})
	if calls != 1 || err == nil {
		t.Fatalf("other code: %d calls, err %v; want 1 call and the error", calls, err)
	}
}

func TestOnCodesIsBounded(t *testing.T) {
	calls := 0
	err := OnCodes(context.Background(), 600*time.Millisecond, Codes{"Busy"}, func() error {
		calls++
		return apiErr("Busy")
	})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the last error joined with the deadline", err)
	}
	if calls < 2 {
		t.Fatalf("calls = %d, want retries before the bound", calls)
	}
	// The bound, not the number of attempts, ends the loop (no timing assertion
	// beyond "it returned"): a context that is already done stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	_ = OnCodes(ctx, time.Hour, Codes{"Busy"}, func() error { calls++; return apiErr("Busy") })
	if calls != 1 {
		t.Fatalf("cancelled context: %d calls, want 1", calls)
	}
}

func TestVisibleRetriesNotFoundOnly(t *testing.T) {
	calls := 0
	v, err := Visible(context.Background(), func() (int, error) {
		calls++
		switch calls {
		case 1:
			return 0, awserr.NotFound("bucket b")
		case 2:
			return 0, apiErr("NoSuchBucket")
		}
		return 7, nil
	})
	if err != nil || v != 7 || calls != 3 {
		t.Fatalf("Visible = %d, %v after %d calls; want 7 after 3", v, err, calls)
	}
	calls = 0
	if _, err := Visible(context.Background(), func() (int, error) { calls++; return 0, apiErr("AccessDenied") }); err == nil || calls != 1 {
		t.Fatalf("AccessDenied: %d calls, err %v; want 1 call and the error", calls, err)
	}
}

func TestBoundKeepsTimeForAfterwards(t *testing.T) {
	if got := bound(context.Background()); got != PropagationTimeout {
		t.Fatalf("no deadline: bound %v, want %v", got, PropagationTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if got := bound(ctx); got > 15*time.Second || got < 14*time.Second {
		t.Fatalf("20 s left: bound %v, want about 15 s (a quarter kept)", got)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if got := bound(ctx); got != PropagationTimeout {
		t.Fatalf("an hour left: bound %v, want %v", got, PropagationTimeout)
	}
}

func TestSettleWaitsForConsistentReads(t *testing.T) {
	// Reads: stale, stale, fresh, fresh. One fresh read after stale ones is
	// not enough: Settle wants ConsistentReads in a row.
	answers := []string{"", "old", "old", "", ""}
	read := 0
	reads := func(context.Context) error { read++; return nil }
	pending := func() map[string]string {
		return map[string]string{"bucket.versioning": answers[min(read, len(answers)-1)], "bucket.policy": ""}
	}
	answers[0] = "old"
	if err := Settle(context.Background(), "state_bucket", reads, pending); err != nil {
		t.Fatal(err)
	}
	if read != 4 {
		t.Fatalf("read %d times, want 4 (two stale, then %d consistent)", read, ConsistentReads)
	}

	// Compliant at once: no read at all.
	read = 0
	answers = []string{""}
	if err := Settle(context.Background(), "state_bucket", reads, pending); err != nil || read != 0 {
		t.Fatalf("compliant at once: %d reads, err %v; want none", read, err)
	}
}

func TestSettleGivesUpAtTheBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	reads := 0
	err := Settle(ctx, "kms_key", func(context.Context) error { reads++; return nil },
		func() map[string]string { return map[string]string{"kms_key.rotation": "rotation is off"} })
	var ns *NotSettledError
	if !errors.As(err, &ns) || ns.Component != "kms_key" || ns.Pending["kms_key.rotation"] != "rotation is off" {
		t.Fatalf("err = %v, want *NotSettledError naming kms_key and its control", err)
	}
	if reads < 2 {
		t.Fatalf("%d reads before giving up, want it to keep reading", reads)
	}
	if ctx.Err() != nil {
		t.Fatalf("Settle used the whole deadline: it must keep time for saving state")
	}
	for _, want := range []string{"kms_key", "this control", "kms_key.rotation: rotation is off"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err.Error(), want)
		}
	}
}

func TestSettleStopsOnOtherErrors(t *testing.T) {
	boom := apiErr("AccessDenied")
	err := Settle(context.Background(), "lock_table", func(context.Context) error { return boom },
		func() map[string]string { return map[string]string{"lock_table.pitr": "off"} })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read's AccessDenied", err)
	}
}

func TestSettleRestartsTheCountOnAStaleRead(t *testing.T) {
	// After the writes: stale, fresh, stale again (another replica), fresh,
	// fresh. The fresh read between two stale ones does not count.
	answers := []string{"old", "", "old", "", ""}
	read := 0
	err := Settle(context.Background(), "state_bucket", func(context.Context) error { read++; return nil },
		func() map[string]string {
			return map[string]string{"bucket_policy": answers[min(read, len(answers)-1)]}
		})
	if err != nil || read != 4 {
		t.Fatalf("Settle = %v after %d reads, want success after 4", err, read)
	}
}

func TestSettleDoesNotCountAReadThatFoundNothing(t *testing.T) {
	// The verification read showed the write; the next read does not find
	// the object at all (a replica that does not know it yet). The
	// observation it leaves behind is the older one, so it proves nothing:
	// two reads that find the object must follow.
	read := 0
	err := Settle(context.Background(), "kms_key", func(context.Context) error {
		read++
		if read == 1 {
			return awserr.NotFound("key k")
		}
		return nil
	}, func() map[string]string {
		if read == 0 {
			return map[string]string{"kms_key_rotation": "rotation is off"}
		}
		return map[string]string{"kms_key_rotation": ""}
	})
	if err != nil || read != 3 {
		t.Fatalf("Settle = %v after %d reads, want success after 3 (missing, then two that show the write)", err, read)
	}
}

func TestSettleEndsWellWhenTheBoundCutsAConfirmation(t *testing.T) {
	// Stale once, then every read is consistent but slow: the bound ends the
	// confirming read. The last judged read showed the write: no error.
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	read := 0
	err := Settle(ctx, "lock_table", func(ctx context.Context) error {
		read++
		if read == 1 {
			return nil
		}
		<-ctx.Done() // the read outlasts the bound
		return ctx.Err()
	}, func() map[string]string {
		if read == 0 {
			return map[string]string{"lock_table_point_in_time_recovery": "off"}
		}
		return map[string]string{"lock_table_point_in_time_recovery": ""}
	})
	if err != nil {
		t.Fatalf("Settle = %v, want nil: the last read showed the write", err)
	}
}
