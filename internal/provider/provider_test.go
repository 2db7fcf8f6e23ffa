package provider_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

const identity = `
data "securestate_caller_identity" "current" {}
`

// Each bad provider argument is refused before any AWS call, with an error that
// names the argument. These need the Terraform CLI but not the emulator.
func TestProviderConfig_invalid(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not-a-ca.pem")
	if err := os.WriteFile(notPEM, []byte("hello, not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		provider string
		want     string
	}{
		"endpoint not a URL":         {`endpoints { s3 = "::not a url" }`, `endpoints.s3[\s\S]*not a valid URL`},
		"endpoint wrong scheme":      {`endpoints { kms = "ftp://kms.example.com" }`, `endpoints.kms[\s\S]*must start with https://`},
		"endpoint without host":      {`endpoints { dynamodb = "https://" }`, `endpoints.dynamodb[\s\S]*has no host`},
		"endpoint with query":        {`endpoints { iam = "https://iam.example.com/?x=1" }`, `endpoints.iam[\s\S]*must not carry`},
		"endpoint with credentials":  {`endpoints { sts = "https://user:pw@sts.example.com" }`, `endpoints.sts[\s\S]*must not carry`},
		"CA bundle missing":          {`custom_ca_bundle = "` + filepath.Join(dir, "absent.pem") + `"`, `Unreadable CA bundle[\s\S]*custom_ca_bundle`},
		"CA bundle without certs":    {`custom_ca_bundle = "` + notPEM + `"`, `Invalid CA bundle[\s\S]*holds no PEM certificate`},
		"region malformed":           {`region = "moon-base"`, `Invalid region[\s\S]*not an AWS region name`},
		"region uppercase":           {`region = "US-EAST-1"`, `Invalid region[\s\S]*not an AWS region name`},
		"assume_role without arn":    {`assume_role { session_name = "ci" }`, `Missing role_arn[\s\S]*assume_role`},
		"assume_role arn not a role": {`assume_role { role_arn = "arn:aws:iam::123456789012:user/bob" }`, `assume_role.role_arn[\s\S]*must name an IAM role`},
		"assume_role arn malformed":  {`assume_role { role_arn = "my-role" }`, `assume_role.role_arn[\s\S]*is not an ARN`},
		"duration too short":         {withRole(`duration = "5m"`), `assume_role.duration[\s\S]*between 15m and 12h`},
		"duration too long":          {withRole(`duration = "13h"`), `assume_role.duration[\s\S]*between 15m and 12h`},
		"duration not a duration":    {withRole(`duration = "an hour"`), `assume_role.duration[\s\S]*not a duration`},
		"session name invalid":       {withRole(`session_name = "has space"`), `assume_role.session_name`},
		"external id too short":      {withRole(`external_id = "x"`), `assume_role.external_id`},
		"negative max_retries":       {`max_retries = -1`, `max_retries[\s\S]*between 0 and 100`},
		"huge max_retries":           {`max_retries = 1000`, `max_retries[\s\S]*between 0 and 100`},
		"endpoint bad port":          {`endpoints { s3 = "https://127.0.0.1:99999" }`, `endpoints.s3[\s\S]*port 99999`},
		"cloudtrail endpoint":        {`endpoints { cloudtrail = "cloudtrail.example.com" }`, `endpoints.cloudtrail[\s\S]*must start with https://`},
		"reserved default tag":       {`default_tags { tags = { "aws:owner" = "x" } }`, `default_tags.tags[\s\S]*reserves`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      "provider \"securestate\" {\n  " + tc.provider + "\n}\n" + identity,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// withRole is an assume_role block with a valid role_arn and one more argument.
func withRole(arg string) string {
	return "assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/r\"\n    " + arg + "\n  }"
}

// A region from the environment is checked too, and the error says where it came from.
func TestProviderConfig_invalidRegionFromEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "nowhere")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      identity,
			ExpectError: regexp.MustCompile(`Invalid region[\s\S]*from AWS_REGION`),
		}},
	})
}

// Provider arguments that come from other resources are unknown at plan time:
// the plan must succeed (no crash, no misleading validation error) and the data
// source that depends on them waits for apply.
const unknownConfig = `
resource "terraform_data" "settings" {
  input = {
    region   = "us-east-1"
    endpoint = %q
  }
}

provider "securestate" {
  region            = terraform_data.settings.output.region
  s3_use_path_style = true
  endpoints {
    sts = terraform_data.settings.output.endpoint
  }
}

data "securestate_caller_identity" "current" {
  depends_on = [terraform_data.settings]
}
`

// The environment is emptied, so the plan cannot lean on a region, endpoint or
// keys from it: only the unknown arguments are there, for the data source and
// for a backend, whose plan must wait for apply too.
func TestProviderConfig_unknownAtPlan(t *testing.T) {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CA_BUNDLE", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: sprintf(unknownConfig, "https://sts.us-east-1.amazonaws.com") + `
resource "securestate_backend" "b" {
  name = "acme"
}
`,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

func TestAccProviderConfig_unknownAtPlanAppliedOnEmulator(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: sprintf(unknownConfig, os.Getenv("AWS_ENDPOINT_URL")),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.securestate_caller_identity.current", tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
				statecheck.ExpectKnownValue("data.securestate_caller_identity.current", tfjsonpath.New("account_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9]{12}$`))),
			},
		}},
	})
}

// The provider configured only from the harness environment (endpoint, CA
// bundle, keys, region) reaches the emulator over TLS and resolves the account.
func TestAccCallerIdentity_basic(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig + identity,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.securestate_caller_identity.current", tfjsonpath.New("partition"), knownvalue.StringExact("aws")),
				statecheck.ExpectKnownValue("data.securestate_caller_identity.current", tfjsonpath.New("region"), knownvalue.StringExact(os.Getenv("AWS_REGION"))),
				statecheck.ExpectKnownValue("data.securestate_caller_identity.current", tfjsonpath.New("arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:(iam|sts)::[0-9]{12}:`))),
				statecheck.CompareValuePairs("data.securestate_caller_identity.current", tfjsonpath.New("id"),
					"data.securestate_caller_identity.current", tfjsonpath.New("account_id"), compareEqual),
			},
		}},
	})
}
