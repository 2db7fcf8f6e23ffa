package validate

import (
	"strings"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	role := func(v string) error { return IAMPrincipalARN(v, "role") }
	roleOrUser := func(v string) error { return IAMPrincipalARN(v, "role", "user") }
	cases := []struct {
		rule    string
		fn      func(string) error
		value   string
		wantErr string // empty: valid
	}{
		{"region", Region, "us-east-1", ""},
		{"region", Region, "us-gov-west-1", ""},
		{"region", Region, "ap-southeast-4", ""},
		{"region", Region, "us-isob-east-1", ""},
		{"region", Region, "eusc-de-east-1", ""},
		{"region", Region, "useast1", "not an AWS region"},
		{"region", Region, "us-east-1a", "not an AWS region"},
		{"region", Region, "", "not an AWS region"},
		{"endpoint", EndpointURL, "https://127.0.0.1:4566", ""},
		{"endpoint", EndpointURL, "http://localhost:4566/", ""},
		{"endpoint", EndpointURL, "https://s3.eu-central-1.amazonaws.com", ""},
		{"endpoint", EndpointURL, "s3.amazonaws.com", "must start with https://"},
		{"endpoint", EndpointURL, "https://", "has no host"},
		{"endpoint", EndpointURL, "https://:443", "has no host"},
		{"endpoint", EndpointURL, "https://h/#frag", "must not carry"},
		{"endpoint", EndpointURL, "%zz", "not a valid URL"},
		{"endpoint", EndpointURL, "https://h/?", "must not carry"},
		{"endpoint", EndpointURL, "https://h/ a", "must not carry"},
		{"endpoint", EndpointURL, "https://h:99999", "port 99999"},
		{"endpoint", EndpointURL, "https://h:1", ""},
		{"endpoint", EndpointURL, "https://h:65535", ""},
		{"endpoint", EndpointURL, "https://h:0", "port 0"},
		{"endpoint", EndpointURL, "https://h:65536", "port 65536"},
		{"session", SessionName, "terraform@ci", ""},
		{"session", SessionName, "a", "not a valid session name"},
		{"session", SessionName, strings.Repeat("a", 65), "not a valid session name"},
		{"external id", ExternalID, "partner:42", ""},
		{"external id", ExternalID, "x", "not a valid external ID"},
		{"external id", ExternalID, "xy", ""},
		{"external id", ExternalID, strings.Repeat("a", 1224), ""},
		{"external id", ExternalID, strings.Repeat("a", 1225), "not a valid external ID"},
		{"role", role, "arn:aws:iam::123456789012:role/path/ci", ""},
		{"role", role, "arn:aws-cn:iam::123456789012:role/ci", ""},
		{"role", role, "arn:aws:iam::123456789012:user/ci", "must name an IAM role"},
		{"role", role, "arn:aws:iam::123456789012:role/*", "without wildcards"},
		{"role", role, "arn:aws:iam::123456789012:role/", "must name an IAM role"},
		{"role", role, "arn:aws:s3:::bucket", "not an IAM ARN"},
		{"role", role, "arn:aws:iam::12345:role/ci", "not an IAM ARN"},
		{"role", role, "ci", "not an ARN"},
		{"role", role, "arn::iam::123456789012:role/x", "not an IAM ARN"},
		{"role", role, "arn:aws:iam::123456789012:role/a b", "without wildcards"},
		{"role or user", roleOrUser, "arn:aws:iam::123456789012:user/alice", ""},
		{"role or user", roleOrUser, "arn:aws:iam::123456789012:group/admins", "must name an IAM role or user"},
		{"topic", SNSTopicARN, "arn:aws:sns:us-east-1:123456789012:state-alerts", ""},
		{"topic", SNSTopicARN, "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts.fifo", ""},
		{"topic", SNSTopicARN, "state-alerts", "not an SNS topic ARN"},
		{"topic", SNSTopicARN, "arn:aws:sqs:us-east-1:123456789012:state-alerts", "not an SNS topic ARN"},
		{"topic", SNSTopicARN, "arn:aws:sns::123456789012:state-alerts", "not an SNS topic ARN"},
		{"topic", SNSTopicARN, "arn:a_b:sns:us-east-1:123456789012:state-alerts", "not an SNS topic ARN"},
		{"topic", SNSTopicARN, "arn:aws:sns:us-east-1:12345:state-alerts", "not an SNS topic ARN"},
		{"topic", SNSTopicARN, "arn:aws:sns:us-east-1:123456789012:state/alerts", "not an SNS topic ARN"},
		{"tag key", TagKey, "owner", ""},
		{"tag key", TagKey, "AWS:cloudformation", "reserves"},
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

func TestAssumeRoleDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "1h": time.Hour, "12h": 12 * time.Hour} {
		got, err := AssumeRoleDuration(in)
		if err != nil || got != want {
			t.Errorf("AssumeRoleDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"14m59s", "12h1s", "-1h", "1 hour", ""} {
		if _, err := AssumeRoleDuration(in); err == nil {
			t.Errorf("AssumeRoleDuration(%q) accepted; want error", in)
		}
	}
}
