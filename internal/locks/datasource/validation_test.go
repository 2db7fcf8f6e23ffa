package datasource_test

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

// Bad input to securestate_locks is refused at plan time, before any AWS
// call, with an error naming the attribute.
func TestLocks_invalidArguments(t *testing.T) {
	cases := map[string]struct {
		config, want string
	}{
		"bucket missing":    {`data "securestate_locks" "l" {}`, `argument "bucket" is required`},
		"bucket as ARN":     {`data "securestate_locks" "l" { bucket = "arn:aws:s3:::acme" }`, `bucket[\s\S]*not an S3 bucket name`},
		"bucket with a key": {`data "securestate_locks" "l" { bucket = "acme-state/dev/terraform.tfstate" }`, `bucket[\s\S]*not an S3 bucket name`},
		"lock table not a name": {`data "securestate_locks" "l" {
  bucket     = "acme-state"
  lock_table = "a b"
}`, `lock_table[\s\S]*not a DynamoDB table name`},
		"lock table other ARN": {`data "securestate_locks" "l" {
  bucket     = "acme-state"
  lock_table = "arn:aws:s3:::acme-state"
}`, `lock_table[\s\S]*not a DynamoDB table ARN`},
		"stale_after without unit": {`data "securestate_locks" "l" {
  bucket      = "acme-state"
  stale_after = "4"
}`, `Invalid stale_after[\s\S]*"4" is not a duration`},
		"stale_after in days": {`data "securestate_locks" "l" {
  bucket      = "acme-state"
  stale_after = "1d"
}`, `Invalid stale_after[\s\S]*"1d" is not a duration`},
		"stale_after negative": {`data "securestate_locks" "l" {
  bucket      = "acme-state"
  stale_after = "-4h"
}`, `Invalid stale_after[\s\S]*"-4h" is not a positive duration`},
		"stale_after zero": {`data "securestate_locks" "l" {
  bucket      = "acme-state"
  stale_after = "0s"
}`, `Invalid stale_after[\s\S]*"0s" is not a positive duration`},
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
