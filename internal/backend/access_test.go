package backend_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

const (
	devRole     = `"arn:aws:iam::222222222222:role/dev-deployer"`
	prodRole    = `"arn:aws:iam::333333333333:role/prod-deployer"`
	auditorRole = `"arn:aws:iam::444444444444:role/auditor"`
)

// The access model's bad input is refused at plan, naming the attribute.
func TestBackend_accessInvalid(t *testing.T) {
	envs := `name = "acme"` + "\n" + `bucket = "acme-state"` + "\n" + `environments = ["dev", "prod"]` + "\n"
	access := func(env, body string) string { return "access {\n environment = \"" + env + "\"\n" + body + "\n}\n" }
	cases := map[string]struct {
		args string
		want string
	}{
		"access environment not in environments": {envs + access("qa", "principals = ["+devRole+"]"), `Unknown environment[\s\S]*environment[\s\S]*"qa" is not one of environments`},
		"access environment twice": {envs + access("dev", "principals = ["+devRole+"]") + access("dev", "read_only = ["+auditorRole+"]"),
			`Environment granted twice[\s\S]*environment[\s\S]*both grant "dev"`},
		"access environment invalid":    {envs + access("Dev", "principals = ["+devRole+"]"), `environment[\s\S]*not a valid environment`},
		"access block grants no one":    {envs + access("dev", ""), `Access block grants no one[\s\S]*access`},
		"access principals empty":       {envs + access("dev", "principals = []"), `principals[\s\S]*at least 1`},
		"access principal wildcard":     {envs + access("dev", `principals = ["arn:aws:iam::222222222222:role/*"]`), `principals[\s\S]*without wildcards`},
		"access principal account root": {envs + access("dev", `principals = ["arn:aws:iam::222222222222:root"]`), `principals[\s\S]*must name an IAM role or user`},
		"access principal star":         {envs + access("dev", `principals = ["*"]`), `principals[\s\S]*not an ARN`},
		"access read_only not IAM":      {envs + access("dev", `read_only = ["arn:aws:s3:::bucket"]`), `read_only[\s\S]*not an IAM ARN`},
		"access read_only bad account":  {envs + access("dev", `read_only = ["arn:aws:iam::1234:role/auditor"]`), `read_only[\s\S]*not an IAM ARN`},
		"access principal read-write and read-only": {envs + access("dev", "principals = ["+devRole+"]\nread_only = ["+devRole+"]"),
			`both read-write and read-only[\s\S]*read_only`},
		"access principal in two environments": {envs + access("dev", "principals = ["+devRole+"]") + access("prod", "principals = ["+devRole+"]"),
			`Principal writes several environments[\s\S]*access[\s\S]*shared_principals`},
		"shared principal in one environment": {envs + "shared_principals = [" + devRole + "]\n" + access("dev", "principals = ["+devRole+"]"),
			`Principal not shared[\s\S]*shared_principals`},
		"shared principals wildcard": {envs + `shared_principals = ["arn:aws:iam::222222222222:user/*"]`, `shared_principals[\s\S]*without wildcards`},
		"too many access blocks":     {`name = "acme"` + "\n" + `bucket = "acme-state"` + "\n" + `environments = [for i in range(50) : "env${i}"]` + "\n" + `dynamic "access" {` + "\n for_each = range(51)\n content {\n environment = \"env${access.value % 50}\"\n read_only = [" + auditorRole + "]\n }\n}", `Attribute access list must contain at most 50`},
		"policy too large": {`name = "acme"` + "\n" + `bucket = "acme-state"` + "\n" + `environments = [for i in range(10) : "env${i}"]` + "\n" +
			`dynamic "access" {` + "\n for_each = range(10)\n content {\n environment = \"env${access.value}\"\n" +
			` principals = [for j in range(20) : "arn:aws:iam::222222222222:role/deployer-${access.value}-${j}"]` + "\n }\n}",
			`Policy too large[\s\S]*state bucket policy derived from access[\s\S]*at most 20480`},
		"boundary without condition":         {envs + "boundary {\n break_glass = [" + devRole + "]\n}", `Boundary without a condition[\s\S]*boundary`},
		"boundary organization id":           {envs + "boundary {\n organization_id = \"o-ABC\"\n}", `organization_id[\s\S]*not an organization ID`},
		"boundary organization id too short": {envs + "boundary {\n organization_id = \"o-abc123\"\n}", `organization_id[\s\S]*not an organization ID`},
		"boundary org path without slash":    {envs + "boundary {\n org_paths = [\"o-abc123defg/r-ab12/ou-ab12-11111111\"]\n}", `org_paths[\s\S]*not an organization path`},
		"boundary org path wildcard":         {envs + "boundary {\n org_paths = [\"o-abc123defg/r-ab12/*\"]\n}", `org_paths[\s\S]*not an organization path`},
		"boundary org path other organization": {envs + "boundary {\n organization_id = \"o-abc123defg\"\n org_paths = [\"o-zzz123defg/r-ab12/\"]\n}",
			`outside the organization[\s\S]*org_paths`},
		"boundary vpc endpoint":                 {envs + "boundary {\n vpc_endpoint_ids = [\"vpc-0123456789abcdef0\"]\n}", `vpc_endpoint_ids[\s\S]*not a VPC endpoint ID`},
		"boundary vpc endpoint short":           {envs + "boundary {\n vpc_endpoint_ids = [\"vpce-0123\"]\n}", `vpc_endpoint_ids[\s\S]*not a VPC endpoint ID`},
		"boundary principal tag aws key":        {envs + "boundary {\n principal_tags = { \"aws:team\" = \"x\" }\n}", `principal_tags[\s\S]*reserves`},
		"boundary principal tag empty value":    {envs + "boundary {\n principal_tags = { team = \"\" }\n}", `principal_tags[\s\S]*length`},
		"boundary break glass root":             {envs + "boundary {\n organization_id = \"o-abc123defg\"\n break_glass = [\"arn:aws:iam::111111111111:root\"]\n}", `break_glass[\s\S]*must name an IAM role or user`},
		"key administrators without principals": {envs + "key_administrators {\n require_mfa = true\n}", `Missing principals[\s\S]*key_administrators`},
		"key administrators wildcard":           {envs + "key_administrators {\n principals = [\"arn:aws:iam::111111111111:role/adm*\"]\n}", `principals[\s\S]*without wildcards`},
		"provider principal without the blocks": {envs + "provider_principal = " + devRole, `provider_principal without boundary or key_administrators[\s\S]*provider_principal`},
		"provider principal wildcard":           {envs + `provider_principal = "arn:aws:iam::111111111111:role/*"`, `provider_principal[\s\S]*without wildcards`},
		"provider principal account root":       {envs + `provider_principal = "arn:aws:iam::111111111111:root"`, `provider_principal[\s\S]*must name an IAM role or user`},
		// Without credential validation the provider does not know who it
		// runs as, so it cannot exempt itself.
		"boundary without provider identity": {envs + "boundary {\n organization_id = \"o-abc123defg\"\n}", `Provider identity unknown[\s\S]*boundary[\s\S]*skip_credentials_validation`},
		"key administrators without provider identity": {envs + "key_administrators {\n principals = [" + devRole + "]\n}",
			`Provider identity unknown[\s\S]*key_administrators`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      offlineProvider + "resource \"securestate_backend\" \"test\" {\n" + tc.args + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}

// A valid access model plans without error offline (no boundary or key
// administrators, which need the provider's identity).
func TestBackend_accessValidPlans(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: offlineProvider + `resource "securestate_backend" "test" {
  name              = "acme"
  bucket            = "acme-state"
  environments      = ["dev", "prod"]
  shared_principals = ["arn:aws:iam::555555555555:role/ci"]
  access {
    environment = "dev"
    principals  = [` + devRole + `, "arn:aws:iam::555555555555:role/ci"]
    read_only   = [` + auditorRole + `]
  }
  access {
    environment = "prod"
    principals  = [` + prodRole + `, "arn:aws:iam::555555555555:role/ci"]
    read_only   = [` + auditorRole + `]
  }
}`,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}
