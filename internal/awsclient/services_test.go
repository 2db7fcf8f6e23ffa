package awsclient

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The endpoint names and the SDK's variables they fall back to, as users
// write them.
func TestServices(t *testing.T) {
	want := map[string]string{
		"cloudtrail": "AWS_ENDPOINT_URL_CLOUDTRAIL",
		"cloudwatch": "AWS_ENDPOINT_URL_CLOUDWATCH",
		"dynamodb":   "AWS_ENDPOINT_URL_DYNAMODB",
		"events":     "AWS_ENDPOINT_URL_EVENTBRIDGE",
		"iam":        "AWS_ENDPOINT_URL_IAM",
		"kms":        "AWS_ENDPOINT_URL_KMS",
		"logs":       "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
		"s3":         "AWS_ENDPOINT_URL_S3",
		"sts":        "AWS_ENDPOINT_URL_STS",
	}
	got := map[string]string{}
	for _, svc := range Services {
		got[svc.Name] = svc.EnvVar()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Services:\n got  %v\n want %v", got, want)
	}
}

// isolate keeps the process environment and shared files out of New: static
// credentials, no profile, no IMDS, no endpoint or CA variables.
func isolate(t *testing.T) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "absent")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": missing, "AWS_SHARED_CREDENTIALS_FILE": missing, "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": "", "AWS_ENDPOINT_URL": "", "AWS_DEFAULTS_MODE": "",
	} {
		t.Setenv(k, v)
	}
	for _, svc := range Services {
		t.Setenv(svc.EnvVar(), "")
	}
}

// Every client New builds takes its endpoint from the endpoints map and
// sends its requests through the one concurrency bound.
func TestNewWiresEveryService(t *testing.T) {
	isolate(t)
	endpoints := map[string]string{}
	for _, svc := range Services {
		endpoints[svc.Name] = "https://" + svc.Name + ".example.test"
	}
	c, err := New(context.Background(), Settings{Region: "eu-central-1", Endpoints: endpoints, SkipCredentialsValidation: true}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}

	// Each service client, whatever its options type, has Options() with a
	// BaseEndpoint and an HTTPClient.
	v := reflect.ValueOf(c).Elem()
	var limited *limitedTransport
	clients := 0
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer {
			continue
		}
		clients++
		name := v.Type().Field(i).Name
		if f.IsNil() {
			t.Errorf("Client.%s is not set: add the service to Services", name)
			continue
		}
		opts := f.MethodByName("Options").Call(nil)[0]
		base, _ := opts.FieldByName("BaseEndpoint").Interface().(*string)
		if !strings.HasSuffix(aws.ToString(base), ".example.test") {
			t.Errorf("Client.%s BaseEndpoint = %q, want one of the configured endpoints", name, aws.ToString(base))
		}
		hc, _ := opts.FieldByName("HTTPClient").Interface().(*http.Client)
		if hc == nil {
			t.Errorf("Client.%s HTTPClient is %T, want the bounded *http.Client", name, opts.FieldByName("HTTPClient").Interface())
			continue
		}
		lt, _ := hc.Transport.(*limitedTransport)
		switch {
		case lt == nil:
			t.Errorf("Client.%s transport is %T, want the concurrency bound", name, hc.Transport)
		case cap(lt.slots) != DefaultMaxInFlight:
			t.Errorf("Client.%s bound is %d, want %d", name, cap(lt.slots), DefaultMaxInFlight)
		case limited == nil:
			limited = lt
		case lt != limited:
			t.Errorf("Client.%s has a bound of its own; all clients of one configuration must share one", name)
		}
	}
	if clients != len(Services) {
		t.Errorf("Client has %d service clients and Services %d entries", clients, len(Services))
	}
	if got, want := aws.ToString(c.S3.Options().BaseEndpoint), "https://s3.example.test"; got != want {
		t.Errorf("S3 endpoint = %q, want %q", got, want)
	}
	if got, want := aws.ToString(c.Logs.Options().BaseEndpoint), "https://logs.example.test"; got != want {
		t.Errorf("CloudWatch Logs endpoint = %q, want %q", got, want)
	}
}

const callerIdentity = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws-cn:iam::123456789012:user/ci</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`

// The bound wraps the transport the SDK built, CA bundle included: a TLS
// endpoint signed by a private CA is reached only with that CA as the bundle.
func TestNewKeepsCABundleBehindTheBound(t *testing.T) {
	isolate(t)
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(callerIdentity))
	}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	noRetries := 0
	s := Settings{Region: "cn-north-1", Endpoints: map[string]string{"sts": srv.URL}, MaxRetries: &noRetries}

	if _, err := New(context.Background(), s, envOf(nil)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA bundle: err = %v, want a certificate error", err)
	}
	s.CustomCABundle = bundle
	c, err := New(context.Background(), s, envOf(nil))
	if err != nil {
		t.Fatalf("with the CA bundle: %v", err)
	}
	if c.AccountID != "123456789012" || c.Partition != "aws-cn" {
		t.Errorf("caller identity: account %q, partition %q", c.AccountID, c.Partition)
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("the endpoint saw %d requests, want 1 (the handshake without the bundle must fail before any request)", got)
	}
	if _, ok := c.STS.Options().HTTPClient.(*http.Client).Transport.(*limitedTransport); !ok {
		t.Error("the STS client that validated the credentials is not behind the bound")
	}
}
