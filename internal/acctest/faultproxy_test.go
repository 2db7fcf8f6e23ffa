package acctest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A fault held for two attempts hits the call it selected first and that
// call's retry (same amz-sdk-invocation-id), never a concurrent call of the
// same operation that reaches the proxy in between. No emulator: the proxy
// forwards to a local TLS server.
func TestFaultProxy_heldFaultFollowsTheRetry(t *testing.T) {
	p, send := newTestProxy(t)

	p.Arm(Fault{Kind: FaultInternalError, Match: "iam:CreatePolicy", Attempts: 2})
	steps := []struct {
		what, invocation, action string
		want                     int
	}{
		{"another operation", "inv-0", "ListPolicies", http.StatusOK},
		{"the call selected", "inv-a", "CreatePolicy", http.StatusInternalServerError},
		{"a concurrent sibling call", "inv-b", "CreatePolicy", http.StatusOK},
		{"the selected call's retry", "inv-a", "CreatePolicy", http.StatusInternalServerError},
		{"the sibling's next attempt, after the fault is spent", "inv-b", "CreatePolicy", http.StatusOK},
	}
	for _, s := range steps {
		if got := send(s.invocation, s.action); got != s.want {
			t.Errorf("%s: HTTP %d, want %d", s.what, got, s.want)
		}
	}
	if got := p.Injected(); got != 2 {
		t.Errorf("%d faults injected, want 2", got)
	}
	var ops []string
	for _, c := range p.Calls() {
		ops = append(ops, c.Service+":"+c.Operation+"="+string(c.Injected))
	}
	if want := "iam:ListPolicies= iam:CreatePolicy=internal-error iam:CreatePolicy= iam:CreatePolicy=internal-error iam:CreatePolicy="; strings.Join(ops, " ") != want {
		t.Errorf("calls seen:\n%s\nwant:\n%s", strings.Join(ops, " "), want)
	}

	// Without invocation IDs (a client that sends none) the retry is matched
	// by operation.
	p.Arm(Fault{Kind: FaultInternalError, Match: "iam:CreatePolicy", Attempts: 2})
	if send("", "CreatePolicy") != http.StatusInternalServerError || send("", "DeletePolicy") != http.StatusOK || send("", "CreatePolicy") != http.StatusInternalServerError {
		t.Errorf("a fault without invocation IDs did not hold for two attempts of the operation")
	}
}

// newTestProxy starts a fault proxy in front of a local TLS server that
// answers every request at once (no emulator), and returns it with a function
// that sends one signed-looking IAM query request through it (with the given
// amz-sdk-invocation-id, none when empty) and returns the HTTP status.
func newTestProxy(t *testing.T) (*FaultProxy, func(invocation, action string) int) {
	t.Helper()
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<CreatePolicyResponse/>"))
	}))
	t.Cleanup(target.Close)
	ca := filepath.Join(t.TempDir(), "target-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: target.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", target.URL)
	t.Setenv("AWS_CA_BUNDLE", ca)

	p := StartFaultProxy(t)
	bundle, err := os.ReadFile(p.CABundle)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(bundle)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	send := func(invocation, action string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL+"/", strings.NewReader("Action="+action+"&Version=2010-05-08"))
		if err != nil {
			t.Error(err)
			return 0
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261130/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x")
		if invocation != "" {
			req.Header.Set("amz-sdk-invocation-id", invocation)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	return p, send
}

// SetDelay holds every request, with or without an armed fault, for the
// delay; concurrent requests wait concurrently (a round trip each, not a
// queue); Requests counts every request whether or not a fault was ever armed,
// and Arm and Disarm do not reset it.
func TestFaultProxy_delayAndRequestCount(t *testing.T) {
	const delay = 300 * time.Millisecond
	p, send := newTestProxy(t)
	p.SetDelay(delay)

	start := time.Now()
	if got := send("", "ListPolicies"); got != http.StatusOK {
		t.Fatalf("HTTP %d through the delaying proxy, want 200", got)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("a request took %s with a delay of %s", took, delay)
	}
	if got := p.Requests(); got != 1 {
		t.Errorf("%d requests counted with no fault ever armed, want 1", got)
	}

	const concurrent = 4
	start = time.Now()
	var wg sync.WaitGroup
	for range concurrent {
		wg.Go(func() { send("", "ListPolicies") })
	}
	wg.Wait()
	// One after the other they would take 4 delays (1.2 s); at once, about one.
	if took := time.Since(start); took < delay || took >= 3*delay {
		t.Errorf("%d concurrent requests took %s with a delay of %s each, want about one delay", concurrent, took, delay)
	}
	if got := p.Requests(); got != 1+concurrent {
		t.Errorf("%d requests counted, want %d", got, 1+concurrent)
	}

	// A fault is injected after the delay, and the count goes on across Arm.
	p.Arm(Fault{Kind: FaultInternalError, Match: "iam:CreatePolicy"})
	start = time.Now()
	if got := send("inv-x", "CreatePolicy"); got != http.StatusInternalServerError {
		t.Errorf("HTTP %d for an armed fault behind the delay, want 500", got)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("a faulted request took %s with a delay of %s", took, delay)
	}
	p.Disarm()
	p.SetDelay(0)
	send("", "ListPolicies")
	if got, want := p.Requests(), 1+concurrent+2; got != want {
		t.Errorf("%d requests counted across Arm and Disarm, want %d", got, want)
	}
}
