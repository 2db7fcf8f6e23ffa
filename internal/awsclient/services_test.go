package awsclient

import (
	"reflect"
	"testing"
)

// The endpoint names and the SDK's variables they fall back to, as users
// write them.
func TestServices(t *testing.T) {
	want := map[string]string{
		"cloudtrail": "AWS_ENDPOINT_URL_CLOUDTRAIL",
		"cloudwatch": "AWS_ENDPOINT_URL_CLOUDWATCH",
		"dynamodb":   "AWS_ENDPOINT_URL_DYNAMODB",
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
