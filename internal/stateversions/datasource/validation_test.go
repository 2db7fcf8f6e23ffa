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

// Bad input to securestate_state_versions is refused at plan time, before
// any AWS call, with an error naming the attribute.
func TestStateVersions_invalidArguments(t *testing.T) {
	cases := map[string]struct {
		config, want string
	}{
		"bucket missing": {`data "securestate_state_versions" "v" {
  environment = "dev"
}`, `argument "bucket" is required`},
		"bucket as ARN": {`data "securestate_state_versions" "v" {
  bucket      = "arn:aws:s3:::acme"
  environment = "dev"
}`, `bucket[\s\S]*not an S3 bucket name`},
		"bucket with a key": {`data "securestate_state_versions" "v" {
  bucket      = "acme-state/dev/terraform.tfstate"
  environment = "dev"
}`, `bucket[\s\S]*not an S3 bucket name`},
		"neither environment nor key": {`data "securestate_state_versions" "v" {
  bucket = "acme-state"
}`, `Missing Attribute Configuration[\s\S]*Exactly one of these attributes must be configured: \[environment,key\]`},
		"both environment and key": {`data "securestate_state_versions" "v" {
  bucket      = "acme-state"
  environment = "dev"
  key         = "dev/terraform.tfstate"
}`, `Invalid Attribute Combination[\s\S]*Exactly one of these attributes must be configured: \[environment,key\]`},
		"environment with capitals": {`data "securestate_state_versions" "v" {
  bucket      = "acme-state"
  environment = "Prod"
}`, `environment[\s\S]*"Prod" is not a valid environment name`},
		"environment with a slash": {`data "securestate_state_versions" "v" {
  bucket      = "acme-state"
  environment = "prod/terraform.tfstate"
}`, `environment[\s\S]*not a valid environment name`},
		"key with a leading slash": {`data "securestate_state_versions" "v" {
  bucket = "acme-state"
  key    = "/prod/terraform.tfstate"
}`, `Invalid key[\s\S]*starts or ends with "/"`},
		"key as URL": {`data "securestate_state_versions" "v" {
  bucket = "acme-state"
  key    = "s3://acme-state/prod/terraform.tfstate"
}`, `Invalid key[\s\S]*contains "//"`},
		"key empty": {`data "securestate_state_versions" "v" {
  bucket = "acme-state"
  key    = ""
}`, `Invalid key[\s\S]*the key is empty`},
		"max_versions zero": {`data "securestate_state_versions" "v" {
  bucket       = "acme-state"
  environment  = "dev"
  max_versions = 0
}`, `max_versions[\s\S]*must be between 1 and 1000, got: 0`},
		"max_versions too many": {`data "securestate_state_versions" "v" {
  bucket       = "acme-state"
  environment  = "dev"
  max_versions = 1001
}`, `max_versions[\s\S]*must be between 1 and 1000, got: 1001`},
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
