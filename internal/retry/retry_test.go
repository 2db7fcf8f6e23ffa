package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
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
