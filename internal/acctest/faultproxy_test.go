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
	"testing"
	"time"
)

// A fault held for two attempts hits the call it selected first and that
// call's retry (same amz-sdk-invocation-id), never a concurrent call of the
// same operation that reaches the proxy in between. No emulator: the proxy
// forwards to a local TLS server.
func TestFaultProxy_heldFaultFollowsTheRetry(t *testing.T) {
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<CreatePolicyResponse/>"))
	}))
	defer target.Close()
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
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261130/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x")
		if invocation != "" {
			req.Header.Set("amz-sdk-invocation-id", invocation)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}

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
