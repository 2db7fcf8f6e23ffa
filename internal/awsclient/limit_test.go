package awsclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heldTransport counts the round trips inside it and holds each one until
// release is closed.
type heldTransport struct {
	inFlight, most, calls atomic.Int32
	entered               chan struct{}
	release               chan struct{}
	err                   error
}

func newHeldTransport() *heldTransport {
	return &heldTransport{entered: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (h *heldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h.calls.Add(1)
	n := h.inFlight.Add(1)
	for {
		m := h.most.Load()
		if n <= m || h.most.CompareAndSwap(m, n) {
			break
		}
	}
	h.entered <- struct{}{}
	<-h.release
	h.inFlight.Add(-1)
	if h.err != nil {
		return nil, h.err
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// roundTrip sends req through lt and closes the response body.
func roundTrip(lt *limitedTransport, req *http.Request) error {
	resp, err := lt.RoundTrip(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// newRequest is a request to a fixed URL, which cannot fail to parse.
func newRequest(ctx context.Context, body io.ReadCloser) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://sts.example.test/", body)
	if err != nil {
		panic(err)
	}
	return req
}

// Under many concurrent requests exactly n reach the wrapped transport at a
// time: the bound is never exceeded and it is filled.
func TestLimitedTransportBoundsInFlight(t *testing.T) {
	const n, requests = 4, 40
	base := newHeldTransport()
	lt := newLimitedTransport(base, n)

	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for range requests {
		wg.Go(func() {
			errs <- roundTrip(lt, newRequest(context.Background(), nil))
		})
	}
	for range n {
		<-base.entered
	}
	select {
	case <-base.entered:
		t.Fatalf("a request beyond the bound of %d reached the transport (%d in flight)", n, base.inFlight.Load())
	case <-time.After(50 * time.Millisecond):
	}
	close(base.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("RoundTrip: %v", err)
		}
	}
	if got := base.most.Load(); got != n {
		t.Errorf("at most %d requests were in flight at once, want exactly %d", got, n)
	}
	if got := base.calls.Load(); got != requests {
		t.Errorf("%d requests reached the transport, want %d", got, requests)
	}
	if len(lt.slots) != 0 {
		t.Errorf("%d slots still taken after every request finished", len(lt.slots))
	}
}

// closeRecorder is a request body that records being closed.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

// A request waiting for a slot returns its context's error as soon as the
// context ends, closes its body, never reaches the transport, and leaves no
// slot taken.
func TestLimitedTransportCancelledWaiter(t *testing.T) {
	base := newHeldTransport()
	lt := newLimitedTransport(base, 1)

	first := make(chan error, 1)
	go func() {
		first <- roundTrip(lt, newRequest(context.Background(), nil))
	}()
	<-base.entered

	ctx, cancel := context.WithCancel(context.Background())
	body := &closeRecorder{Reader: strings.NewReader("Action=GetCallerIdentity")}
	waiter := make(chan error, 1)
	go func() {
		waiter <- roundTrip(lt, newRequest(ctx, body))
	}()
	select {
	case err := <-waiter:
		t.Fatalf("the waiting request returned before its context ended: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-waiter:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiting request returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request did not return after its context was cancelled")
	}
	if !body.closed.Load() {
		t.Error("the cancelled request's body was not closed")
	}
	if got := base.calls.Load(); got != 1 {
		t.Errorf("the transport saw %d requests, want only the first", got)
	}

	close(base.release)
	if err := <-first; err != nil {
		t.Fatalf("first request: %v", err)
	}
	// The slot is free again: the next request goes straight through.
	if err := roundTrip(lt, newRequest(context.Background(), nil)); err != nil {
		t.Fatalf("request after the cancelled one: %v", err)
	}
	if len(lt.slots) != 0 {
		t.Errorf("%d slots still taken", len(lt.slots))
	}
}

// A failing round trip gives its slot back.
func TestLimitedTransportFreesSlotOnError(t *testing.T) {
	base := newHeldTransport()
	base.err = errors.New("connection reset")
	close(base.release)
	lt := newLimitedTransport(base, 1)
	for range 3 {
		if err := roundTrip(lt, newRequest(context.Background(), nil)); !errors.Is(err, base.err) {
			t.Fatalf("RoundTrip = %v, want the transport's error", err)
		}
	}
	if len(lt.slots) != 0 {
		t.Errorf("%d slots still taken after failed round trips", len(lt.slots))
	}
}
