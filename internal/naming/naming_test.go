package naming

import (
	"strings"
	"testing"
)

func TestRules(t *testing.T) {
	cases := []struct {
		rule    string
		fn      func(string) error
		value   string
		wantErr string
	}{
		{"backend", Backend, "acme", ""},
		{"backend", Backend, "a1-b2", ""},
		{"backend", Backend, "abc", ""},
		{"backend", Backend, strings.Repeat("a", 32), ""},
		{"backend", Backend, "ab", "3 to 32"},
		{"backend", Backend, strings.Repeat("a", 33), "3 to 32"},
		{"backend", Backend, "Acme", "lowercase"},
		{"backend", Backend, "-acme", "start and end"},
		{"backend", Backend, "acme-", "start and end"},
		{"backend", Backend, "ac_me", "lowercase"},
		{"backend", Backend, "ac--me", "single hyphens"},
		{"backend", Backend, "sthree-state", "S3 reserves"},
		{"backend", Backend, "amzn-s3-demo-x", "S3 reserves"},
		{"environment", Environment, "x-tfstate-dev", "contains \"tfstate\""},
		{"environment", Environment, "dev", ""},
		{"environment", Environment, "prod_eu-1", ""},
		{"environment", Environment, "", "not a valid environment"},
		{"environment", Environment, "Dev", "not a valid environment"},
		{"environment", Environment, "-dev", "not a valid environment"},
		{"environment", Environment, "a/b", "not a valid environment"},
		{"environment", Environment, strings.Repeat("e", 33), "not a valid environment"},
		{"bucket", Bucket, "acme-tfstate-123456789012", ""},
		{"bucket", Bucket, "ab", "3 to 63"},
		{"bucket", Bucket, strings.Repeat("b", 64), "3 to 63"},
		{"bucket", Bucket, "Acme", "lowercase"},
		{"bucket", Bucket, "acme_state", "lowercase"},
		{"bucket", Bucket, "acme-", "start and end"},
		{"bucket", Bucket, "192.168.1.1", "IP address"},
		{"bucket", Bucket, "a..b", "adjacent dots"},
		{"bucket", Bucket, "acme.state", "contains dots"},
		{"bucket", Bucket, "xn--acme", "reserves"},
		{"bucket", Bucket, "sthree-acme", "reserves"},
		{"bucket", Bucket, "acme-s3alias", "reserves"},
		{"bucket", Bucket, "acme--ol-s3", "reserves"},
	}
	for _, tc := range cases {
		err := tc.fn(tc.value)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s(%q) = %v, want valid", tc.rule, tc.value, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s(%q) = %v, want error containing %q", tc.rule, tc.value, err, tc.wantErr)
		}
	}
}

func TestDerivedNames(t *testing.T) {
	if got := StateBucket("acme", "123456789012"); got != "acme-tfstate-123456789012" {
		t.Errorf("StateBucket = %q", got)
	}
	if Bucket(StateBucket(strings.Repeat("a", 32), "123456789012")) != nil {
		t.Error("the longest backend name must still give a valid bucket name")
	}
	if got := LockTable("acme"); got != "acme-tflock" {
		t.Errorf("LockTable = %q", got)
	}
	if got := LogBucket("acme-tfstate-123456789012"); got != "acme-tfstate-123456789012-logs" {
		t.Errorf("LogBucket = %q", got)
	}
	if got := Trail("acme"); got != "acme-tfstate-audit" {
		t.Errorf("Trail = %q", got)
	}
	if got := KeyAlias("acme"); got != "alias/acme-tfstate" {
		t.Errorf("KeyAlias = %q", got)
	}
	if got := AccessPolicy("acme", "dev"); got != "acme-tfstate-dev" {
		t.Errorf("AccessPolicy = %q", got)
	}
	if name, ok := NameFromBucket("acme-tfstate-123456789012", "123456789012"); !ok || name != "acme" {
		t.Errorf("NameFromBucket = %q, %v", name, ok)
	}
	if _, ok := NameFromBucket("other-bucket", "123456789012"); ok {
		t.Error("NameFromBucket accepted a foreign bucket")
	}
	if OwnerTagKey != "securestate:backend" || !strings.HasPrefix(OwnerTagKey, OwnerTagPrefix) {
		t.Errorf("OwnerTagKey = %q, want securestate:backend under OwnerTagPrefix %q", OwnerTagKey, OwnerTagPrefix)
	}
	for got, want := range map[string]string{
		AlarmLogGroup("acme"):      "/securestate/acme/cloudtrail",
		TrailLogsRole("acme"):      "acme-tfstate-trail-logs",
		StateDeletedAlarm("acme"):  "acme-tfstate-state-deleted",
		StateDeletedMetric("acme"): "acme-StateObjectsDeleted",
		AccessDeniedAlarm("acme"):  "acme-tfstate-access-denied",
		AccessDeniedMetric("acme"): "acme-StateAccessDenied",
	} {
		if got != want {
			t.Errorf("derived name %q, want %q", got, want)
		}
	}
}

func TestEnvironmentFromPolicy(t *testing.T) {
	for _, tc := range []struct {
		backend, policy, want string
		ok                    bool
	}{
		{"acme", AccessPolicy("acme", "dev"), "dev", true},
		{"acme", AccessPolicy("acme", "prod_eu-1"), "prod_eu-1", true},
		{"acme", AccessPolicy("acme-2", "dev"), "", false}, // another backend's
		{"acme", "acme-tfstate-", "", false},               // no environment
		{"acme", "acme-tfstate-Dev", "", false},            // not an environment name
		{"acme", "other-policy", "", false},
	} {
		got, ok := EnvironmentFromPolicy(tc.backend, tc.policy)
		if got != tc.want && tc.ok || ok != tc.ok {
			t.Errorf("EnvironmentFromPolicy(%q, %q) = %q, %v; want %q, %v", tc.backend, tc.policy, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExistingBucketTableAndKeyReferences(t *testing.T) {
	cases := []struct {
		rule  func(string) error
		value string
		ok    bool
	}{
		{ExistingBucket, "acme-state", true},
		{ExistingBucket, "Legacy.State_Bucket", true},
		{ExistingBucket, "arn:aws:s3:::acme", false},
		{ExistingBucket, "acme/prod", false},
		{ExistingBucket, "ab", false},
		{TableNameOrARN, "terraform-locks", true},
		{TableNameOrARN, "arn:aws:dynamodb:eu-west-1:111122223333:table/terraform-locks", true},
		{TableNameOrARN, "arn:aws:dynamodb:eu-west-1:111122223333:index/x", false},
		{TableNameOrARN, "a b", false},
		{TableNameOrARN, "ab", false},
		{KMSKeyReference, "1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{KMSKeyReference, "mrk-1234abcd12ab34cd56ef1234567890ab", true},
		{KMSKeyReference, "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{KMSKeyReference, "alias/acme-tfstate", true},
		{KMSKeyReference, "alias/aws/s3", true},
		{KMSKeyReference, "alias/", false},
		{KMSKeyReference, "arn:aws:kms:eu-west-1:111122223333:alias/acme", true},
		{KMSKeyReference, "arn:aws:kms:eu-west-1:111122223333:alias/", false},
		{KMSKeyReference, "arn:aws:s3:::acme", false},
		{KMSKeyReference, "acme", false},
	}
	for _, tc := range cases {
		if err := tc.rule(tc.value); (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok=%v", tc.value, err, tc.ok)
		}
	}
}
