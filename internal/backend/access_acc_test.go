package backend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// accessModelConfig grants dev and prod to principals of other accounts,
// with every boundary condition and key administrators requiring MFA.
const accessModelConfig = `
  environments = ["dev", "prod"]
  access {
    environment = "dev"
    principals  = [` + devRole + `]
    read_only   = [` + auditorRole + `]
  }
  access {
    environment = "prod"
    principals  = [` + prodRole + `]
  }
  boundary {
    organization_id  = "o-abc123defg"
    org_paths        = ["o-abc123defg/r-ab12/ou-ab12-11111111/"]
    vpc_endpoint_ids = ["vpce-0123456789abcdef0"]
    principal_tags   = { Department = "Infrastructure" }
    break_glass      = ["arn:aws:iam::123456789012:role/break-glass"]
  }
  key_administrators {
    principals  = ["arn:aws:iam::123456789012:role/security-admin"]
    require_mfa = true
  }
`

// The access model on the emulator: every derived document is in AWS (bucket,
// key and table policies compared with internal/policies by meaning, read
// from AWS), the outputs are what a principal of another account needs, and
// the provider refreshes and repairs under its own boundary and key
// administration: drift of the derived statements shows in the plan and apply
// puts them back. Removing the model restores the plain policies. The
// emulator evaluates none of the boundary's condition keys
// (scripts/emulator/server.py), so what the denies refuse on AWS is proven on
// the documents (internal/policies tests).
func TestAccBackend_accessModel(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("access")
	var got captured
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{
				Config:            config(name, accessModelConfig),
				Check:             resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), checkAccessOutputs(t), got.capture()),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// Someone strips the boundary from the bucket policy, the key
				// administration from the key policy and the grants from the
				// table.
				PreConfig: func() {
					c := acctest.Client(t)
					plain := got.Policies()
					plain.Boundary, plain.KeyAdmins, plain.Grants = nil, nil, nil
					if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &got.Bucket, Policy: aws.String(policies.Render(policies.BucketPolicy(plain)))}); err != nil {
						t.Fatal(err)
					}
					if _, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &got.KeyID, PolicyName: aws.String("default"), Policy: aws.String(policies.Render(policies.KeyPolicy(plain)))}); err != nil {
						t.Fatal(err)
					}
					if _, err := c.DynamoDB.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: &got.TableARN}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, accessModelConfig),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("bucket_policy", "kms_key_policy", "lock_table_resource_policy"),
				}},
				Check:             checkHardened(t, true),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// Without the model, the policies are the plain ones again and
				// the table has no resource policy (checkHardened reads them).
				Config: config(name, `environments = ["dev", "prod"]`),
				Check: resource.ComposeAggregateTestCheckFunc(checkHardened(t, true),
					resource.TestCheckNoResourceAttr(resourceName, "provider_principal"),
					resource.TestCheckResourceAttrPair(resourceName, "backend_config.dev.dynamodb_table", resourceName, "lock_table_name")),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
		},
	})
}

// checkAccessOutputs checks the outputs a principal of another account uses:
// the provider's own principal, the table by ARN in the backend
// configuration, and identity policies equal to internal/policies' (the
// semantic content of which internal/policies' tests prove).
func checkAccessOutputs(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		attrs := s.RootModule().Resources[resourceName].Primary.Attributes
		if want := policies.CallerPrincipal(acctest.Client(t).CallerARN); want == "" || attrs["provider_principal"] != want {
			return fmt.Errorf("provider_principal %q, want %q", attrs["provider_principal"], want)
		}
		for _, env := range []string{"dev", "prod"} {
			if got := attrs["backend_config."+env+".dynamodb_table"]; got != a.TableARN {
				return fmt.Errorf("backend_config.%s.dynamodb_table %q, want the table ARN %s", env, got, a.TableARN)
			}
			for kind, want := range map[string]policydoc.Document{
				"read_write": policies.AccessPolicy(a.Policies(), env),
				"read_only":  policies.ReadOnlyAccessPolicy(a.Policies(), env),
			} {
				text := attrs["access_policy_documents."+env+"."+kind]
				if !json.Valid([]byte(text)) {
					return fmt.Errorf("access_policy_documents.%s.%s is not JSON: %q", env, kind, text)
				}
				if err := acctest.SameDocument(text, want); err != nil {
					return fmt.Errorf("access_policy_documents.%s.%s: %w", env, kind, err)
				}
			}
		}
		if len(a.Grants) != 2 || a.Boundary == nil || a.KeyAdmins == nil || !a.KeyAdmins.RequireMFA {
			return fmt.Errorf("access model not read from state: %+v %+v %+v", a.Grants, a.Boundary, a.KeyAdmins)
		}
		return nil
	}
}

// Key administrators and break-glass principals must be in the backend's
// account: the key policy allows only the account root, so one of another
// account would be exempt from the denies but allowed nothing.
func TestAccBackend_accessAdministratorsInOtherAccounts(t *testing.T) {
	name := acctest.RandomName("access")
	for _, tc := range []struct{ block, want string }{
		{"key_administrators {\n principals = [\"arn:aws:iam::999999999999:role/security-admin\"]\n}", `Principal in another account[\s\S]*principals[\s\S]*999999999999`},
		{"boundary {\n organization_id = \"o-abc123defg\"\n break_glass = [\"arn:aws:iam::999999999999:role/admin\"]\n}", `Principal in another account[\s\S]*break_glass[\s\S]*999999999999`},
	} {
		t.Run(strings.Fields(tc.block)[0], func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      config(name, tc.block),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}
