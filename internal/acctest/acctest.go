// Package acctest is the acceptance-test harness: provider factories for the
// Terraform CLI driven by terraform-plugin-testing, the emulator pre-check, and
// direct AWS clients that tests use to read what the provider really did.
//
// The emulator itself is started by scripts/emulator/emulator.sh (make test,
// make testacc, .ci/run), which exports AWS_ENDPOINT_URL (https), AWS_CA_BUNDLE,
// a dummy key pair, AWS_REGION and SECURESTATE_EMULATOR_HTTP_ENDPOINT.
package acctest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/provider"
)

// ProviderName is the provider's local name in test configurations.
const ProviderName = "securestate"

// ProtoV6ProviderFactories serves the provider in-process to the Terraform CLI.
var ProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	ProviderName: providerserver.NewProtocol6WithError(provider.New("test")()),
}

// ProviderConfig is the provider block acceptance configurations start with.
// Path-style addressing is what emulators (moto, LocalStack) need; every other
// setting comes from the environment the harness exports.
const ProviderConfig = `
provider "securestate" {
  s3_use_path_style = true
}
`

// RandomName returns a lowercase name with the given prefix, unique per test run.
func RandomName(prefix string) string {
	return prefix + "-" + acctest.RandStringFromCharSet(8, "abcdefghijklmnopqrstuvwxyz0123456789")
}

var (
	emulatorOnce sync.Once
	emulatorErr  error
	emulatorDesc string
)

// PreCheck fails the test, never skips it, when the emulator is not configured
// or does not answer over TLS with the harness CA. Acceptance tests call it
// first, so a missing emulator in CI is a failure. Without TF_ACC the test is
// skipped, as terraform-plugin-testing skips resource.Test: `make unit` runs no
// acceptance test, and `make test` (TF_ACC=1) fails on any skipped one.
func PreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	emulatorOnce.Do(func() { emulatorDesc, emulatorErr = checkEmulator() })
	if emulatorErr != nil {
		t.Fatalf("acceptance tests need the emulator (run them with `make testacc` or `make test`): %s", emulatorErr)
	}
	t.Logf("emulator: %s", emulatorDesc)
}

func checkEmulator() (string, error) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return "", fmt.Errorf("AWS_ENDPOINT_URL is not set")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" {
		return "", fmt.Errorf("AWS_ENDPOINT_URL=%q must be an https:// URL: the tests run over TLS", endpoint)
	}
	pool, err := caPool()
	if err != nil {
		return "", err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, strings.TrimRight(endpoint, "/")+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("emulator at %s does not answer over TLS: %w", endpoint, err)
	}
	_ = resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
		return "", fmt.Errorf("emulator at %s answered without a verified TLS chain", endpoint)
	}
	return fmt.Sprintf("%s over %s, certificate verified against %s", endpoint, tls.VersionName(resp.TLS.Version), os.Getenv("AWS_CA_BUNDLE")), nil
}

func caPool() (*x509.CertPool, error) {
	file := os.Getenv("AWS_CA_BUNDLE")
	if file == "" {
		return nil, fmt.Errorf("AWS_CA_BUNDLE is not set: the harness CA is needed to verify the emulator's certificate")
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading AWS_CA_BUNDLE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s holds no certificate", file)
	}
	return pool, nil
}

// Client returns AWS clients configured like the provider in tests, for
// checking what exists in the emulator independently of Terraform state.
func Client(t *testing.T) *awsclient.Client {
	t.Helper()
	c, err := awsclient.New(context.Background(), awsclient.Settings{S3UsePathStyle: true, ProviderVersion: "acctest"}, os.Getenv)
	if err != nil {
		t.Fatalf("building AWS clients for checks: %s", err)
	}
	return c
}

// PlainHTTPEndpoint is the emulator's listener without TLS, used only to prove
// that TLS-only policies refuse plain requests.
func PlainHTTPEndpoint(t *testing.T) string {
	t.Helper()
	v := os.Getenv("SECURESTATE_EMULATOR_HTTP_ENDPOINT")
	if v == "" {
		t.Fatal("SECURESTATE_EMULATOR_HTTP_ENDPOINT is not set; the harness exports it (scripts/emulator/emulator.sh env)")
	}
	return v
}
