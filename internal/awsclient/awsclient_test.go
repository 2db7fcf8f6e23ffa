package awsclient

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestResolveRegion(t *testing.T) {
	cases := []struct {
		attr       string
		env        map[string]string
		want, from string
	}{
		{"eu-west-1", map[string]string{"AWS_REGION": "us-east-1"}, "eu-west-1", "region"},
		{"", map[string]string{"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-west-2"}, "us-east-1", "AWS_REGION"},
		{"", map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2", "AWS_DEFAULT_REGION"},
		{"", nil, "", ""},
	}
	for _, tc := range cases {
		got, from := ResolveRegion(Settings{Region: tc.attr}, envOf(tc.env))
		if got != tc.want || from != tc.from {
			t.Errorf("ResolveRegion(%q, %v) = %q from %q; want %q from %q", tc.attr, tc.env, got, from, tc.want, tc.from)
		}
	}
}

func TestLoadCABundle(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	// A syntactically valid self-signed certificate is enough for the pool check.
	if err := os.WriteFile(good, []byte(testCertificate), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}

	if b, err := LoadCABundle(Settings{}, envOf(nil)); b != nil || err != nil {
		t.Errorf("no bundle: got %q, %v; want nil, nil", b, err)
	}
	if b, err := LoadCABundle(Settings{}, envOf(map[string]string{"AWS_CA_BUNDLE": good})); err != nil || len(b) == 0 {
		t.Errorf("bundle from AWS_CA_BUNDLE: got %d bytes, %v", len(b), err)
	}
	_, err := LoadCABundle(Settings{CustomCABundle: filepath.Join(dir, "absent.pem")}, envOf(map[string]string{"AWS_CA_BUNDLE": good}))
	if se, ok := IsSettingError(err); !ok || se.Attribute != "custom_ca_bundle" || !strings.Contains(se.Detail, "from custom_ca_bundle") {
		t.Errorf("attribute wins over env and is named: got %v", err)
	}
	_, err = LoadCABundle(Settings{}, envOf(map[string]string{"AWS_CA_BUNDLE": bad}))
	if se, ok := IsSettingError(err); !ok || se.Summary != "Invalid CA bundle" || !strings.Contains(se.Detail, "AWS_CA_BUNDLE") {
		t.Errorf("bundle without certificates: got %v", err)
	}
}

func TestMaxAttempts(t *testing.T) {
	zero, five, maxRetries, tooMany, negative := 0, 5, MaxMaxRetries, MaxMaxRetries+1, -1
	cases := []struct {
		retries *int
		env     string
		want    int
		wantErr bool
	}{
		{nil, "", DefaultMaxRetries + 1, false},
		{&five, "2", 6, false},
		{&zero, "", 1, false},
		{nil, "4", 4, false},
		{nil, "0", 0, true},
		{nil, "1", 1, false},
		{nil, strconv.Itoa(MaxMaxRetries + 1), MaxMaxRetries + 1, false},
		{nil, strconv.Itoa(MaxMaxRetries + 2), 0, true},
		{&maxRetries, "", MaxMaxRetries + 1, false},
		{&tooMany, "", 0, true},
		{&negative, "", 0, true},
		{nil, "many", 0, true},
	}
	for _, tc := range cases {
		got, err := MaxAttempts(Settings{MaxRetries: tc.retries}, envOf(map[string]string{"AWS_MAX_ATTEMPTS": tc.env}))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("MaxAttempts(%v, %q) = %d, %v; want %d, error %v", tc.retries, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPartitionForRegion(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e",
	} {
		if got := PartitionForRegion(region); got != want {
			t.Errorf("PartitionForRegion(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestMetaPending(t *testing.T) {
	_, err := Pending([]string{"endpoints.s3", "region"}).Client()
	if err == nil || !strings.Contains(err.Error(), "endpoints.s3, region") {
		t.Errorf("pending meta: got %v", err)
	}
	c := &Client{Region: "us-east-1"}
	if got, err := Configured(c).Client(); got != c || err != nil {
		t.Errorf("configured meta: got %v, %v", got, err)
	}
}

// The errors name the accepted range, so a user can correct the value.
func TestMaxAttemptsErrorsNameTheRange(t *testing.T) {
	tooMany := MaxMaxRetries + 1
	for what, tc := range map[string]struct {
		s    Settings
		env  string
		want string
	}{
		"max_retries":      {Settings{MaxRetries: &tooMany}, "", "between 0 and " + strconv.Itoa(MaxMaxRetries)},
		"AWS_MAX_ATTEMPTS": {Settings{}, "0", "from 1 to " + strconv.Itoa(MaxMaxRetries+1)},
	} {
		_, err := MaxAttempts(tc.s, envOf(map[string]string{"AWS_MAX_ATTEMPTS": tc.env}))
		var se *SettingError
		if !errors.As(err, &se) || se.Attribute != "max_retries" || !strings.Contains(se.Detail, tc.want) {
			t.Errorf("%s: error %v, want a max_retries setting error saying %q", what, err, tc.want)
		}
	}
}
