package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

const resourceName = "securestate_backend.test"

func config(name, extra string) string {
	return acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "test" {
  name = %q
%s
}
`, name, extra)
}

// backendAttrs is what the checks need of the backend in state.
type backendAttrs = acctest.Backend

func attrsOf(s *terraform.State) (backendAttrs, error) {
	rs, ok := s.RootModule().Resources[resourceName]
	if !ok {
		return backendAttrs{}, fmt.Errorf("%s not in state", resourceName)
	}
	return acctest.BackendFromAttributes(rs.Primary.Attributes)
}

// checkHardened reads every control from AWS directly, not from state. The
// lock table is expected unless locking is "lockfile"; wantTable says which
// the test step means, so a step that got the locking wrong fails too.
func checkHardened(t *testing.T, wantTable bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		if hasTable := a.Locking != "lockfile"; hasTable != wantTable {
			return fmt.Errorf("locking %q: lock table expected %v", a.Locking, wantTable)
		}
		return acctest.CheckHardened(context.Background(), acctest.Client(t), a)
	}
}

// checkDestroyed inspects each component: bucket, table and policies gone,
// alias gone, key pending deletion.
func checkDestroyed(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		c := acctest.Client(t)
		ctx := context.Background()
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "securestate_backend" {
				continue
			}
			a := rs.Primary.Attributes
			if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a["bucket"])}); err == nil {
				return fmt.Errorf("bucket %s still exists", a["bucket"])
			}
			if tbl := a["lock_table_name"]; tbl != "" {
				if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &tbl}); err == nil {
					return fmt.Errorf("table %s still exists", tbl)
				}
			}
			for k, arn := range a {
				if strings.HasPrefix(k, "policy_arns.") && k != "policy_arns.%" {
					if _, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err == nil {
						return fmt.Errorf("policy %s still exists", arn)
					}
				}
			}
			if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a["kms_alias_name"])}); err == nil {
				return fmt.Errorf("alias %s still exists", a["kms_alias_name"])
			}
			k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a["kms_key_id"])})
			if err != nil {
				return err
			}
			if k.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
				return fmt.Errorf("key %s is %s, want PendingDeletion", a["kms_key_id"], k.KeyMetadata.KeyState)
			}
		}
		return nil
	}
}

// allCompliant checks that every control in state reads "compliant".
func allCompliant() statecheck.StateCheck { return compliantCheck{} }

type compliantCheck struct{}

func (compliantCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address != resourceName {
			continue
		}
		controls, _ := r.AttributeValues["controls"].(map[string]any)
		if len(controls) == 0 {
			resp.Error = fmt.Errorf("no controls in state")
			return
		}
		for k, v := range controls {
			if v != "compliant" {
				resp.Error = fmt.Errorf("control %s is %v", k, v)
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in state", resourceName)
}

func TestAccBackend_basic(t *testing.T) {
	name := acctest.RandomName("basic")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{{
			Config: config(name, `environments = ["dev", "prod"]`),
			Check:  checkHardened(t, true),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("locking"), knownvalue.StringExact("both")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("bucket"), knownvalue.StringRegexp(regexp.MustCompile(`^`+name+`-tfstate-[0-9]{12}$`))),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("lock_table_name"), knownvalue.StringExact(name+"-tflock")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("kms_alias_name"), knownvalue.StringExact("alias/"+name+"-tfstate")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("policy_arns"), knownvalue.MapExact(map[string]knownvalue.Check{
					"dev":  knownvalue.StringRegexp(regexp.MustCompile(`:policy/securestate/` + name + `-tfstate-dev$`)),
					"prod": knownvalue.StringRegexp(regexp.MustCompile(`:policy/securestate/` + name + `-tfstate-prod$`)),
				})),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("dev"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"key":                  knownvalue.StringExact("dev/terraform.tfstate"),
					"encrypt":              knownvalue.Bool(true),
					"use_lockfile":         knownvalue.Bool(true),
					"dynamodb_table":       knownvalue.StringExact(name + "-tflock"),
					"workspace_key_prefix": knownvalue.StringExact("dev/workspaces"),
					"kms_key_id":           knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:kms:`)),
				})),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_hcl").AtMapKey("prod"), knownvalue.StringRegexp(regexp.MustCompile(`backend "s3" \{[\s\S]*key += "prod/terraform.tfstate"`))),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls"), knownvalue.MapSizeExact(18)),
				allCompliant(),
			},
		}},
	})
}
