package audit_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

const offlineProvider = `
provider "securestate" {
  region                      = "us-east-1"
  skip_credentials_validation = true
}
`

// Bad input to the audit and the scan is refused before any AWS call, with
// an error naming the attribute.
func TestDataSources_invalidArguments(t *testing.T) {
	cases := map[string]struct {
		config, want string
	}{
		"audit bucket missing":   {`data "securestate_backend_audit" "a" {}`, `argument "bucket" is required`},
		"audit bucket as ARN":    {`data "securestate_backend_audit" "a" { bucket = "arn:aws:s3:::acme" }`, `bucket[\s\S]*not an S3 bucket name`},
		"audit bucket as URL":    {`data "securestate_backend_audit" "a" { bucket = "s3://acme-state" }`, `bucket[\s\S]*not an S3 bucket name`},
		"audit bucket too short": {`data "securestate_backend_audit" "a" { bucket = "ab" }`, `bucket[\s\S]*not an S3 bucket name`},
		"audit lock table not a name": {`data "securestate_backend_audit" "a" {
  bucket = "acme-state"
  lock_table = "a b"
}`, `lock_table[\s\S]*not a DynamoDB table name`},
		"audit lock table other ARN": {`data "securestate_backend_audit" "a" {
  bucket = "acme-state"
  lock_table = "arn:aws:s3:::acme-state"
}`,
			`lock_table[\s\S]*not a DynamoDB table ARN`},
		"audit kms key not a key": {`data "securestate_backend_audit" "a" {
  bucket = "acme-state"
  kms_key = "my-key"
}`, `kms_key[\s\S]*not a KMS key ID, key ARN or alias name`},
		"audit kms key of another service": {`data "securestate_backend_audit" "a" {
  bucket = "acme-state"
  kms_key = "arn:aws:s3:::acme-state"
}`, `kms_key[\s\S]*not a KMS key ARN`},
		"audit policy ARN not IAM": {`data "securestate_backend_audit" "a" {
  bucket             = "acme-state"
  access_policy_arns = { prod = "arn:aws:s3:::acme-state" }
}`, `access_policy_arns[\s\S]*not an IAM policy ARN`},
		"audit policy ARN of a role": {`data "securestate_backend_audit" "a" {
  bucket             = "acme-state"
  access_policy_arns = { prod = "arn:aws:iam::111122223333:role/deployer" }
}`, `access_policy_arns[\s\S]*not an IAM policy ARN`},
		"scan bucket missing":  {`data "securestate_state_scan" "s" {}`, `argument "bucket" is required`},
		"scan bucket as ARN":   {`data "securestate_state_scan" "s" { bucket = "arn:aws:s3:::acme" }`, `bucket[\s\S]*not an S3 bucket name`},
		"scan bucket with key": {`data "securestate_state_scan" "s" { bucket = "acme-state/prod" }`, `bucket[\s\S]*not an S3 bucket name`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      offlineProvider + tc.config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}
