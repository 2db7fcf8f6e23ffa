package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// tofu_encryption switched on for an existing backend: the configuration is
// known at plan; an import finds the keys; each environment's key exists with rotation and its alias;
// out-of-band changes to a key (rotation off, an extra principal in its
// policy, its alias moved to another key) are planned as drift of that
// environment's control and repaired on the same key; removing an
// environment schedules its key's deletion; switching it off while the
// alias points at someone else's key deletes the tracked key and leaves the
// other untouched.
func TestAccBackend_tofuEncryptionKeys(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("tofu")
	const both = `  environments = ["dev", "prod"]
  tofu_encryption = true`
	keys := map[string]string{}
	keyOf := func(env string) string { return keys[env] }
	// Keys made out of band by the steps (aliases moved onto them): they
	// must survive every apply, and go when the test ends.
	var intruders []string
	t.Cleanup(func() {
		for _, k := range intruders {
			_, _ = acctest.Client(t).KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: aws.String(k), PendingWindowInDays: aws.Int32(7)})
		}
	})
	moveAlias := func(c *kms.Client, env string) error {
		other, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("intruder")})
		if err != nil {
			return err
		}
		// By key ID: moto's ScheduleKeyDeletion (the cleanup) takes no ARN.
		intruders = append(intruders, aws.ToString(other.KeyMetadata.KeyId))
		alias := "alias/" + name + "-tfstate-" + env + "-tofu"
		_, err = c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: &alias, TargetKeyId: other.KeyMetadata.KeyId})
		return err
	}
	intrudersEnabled := func() error {
		for _, k := range intruders {
			d, err := acctest.Client(t).KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k)})
			if err != nil || d.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
				return fmt.Errorf("a key the backend does not own (%s, behind a moved alias) was touched: %v %v", k, d, err)
			}
		}
		return nil
	}
	drift := func(change func(c *kms.Client, key string) error) func() {
		return func() {
			if err := change(acctest.Client(t).KMS, keyOf("dev")); err != nil {
				t.Fatalf("changing dev's encryption key out of band: %s", err)
			}
		}
	}
	repairs := func(change func(c *kms.Client, key string) error) resource.TestStep {
		return resource.TestStep{
			PreConfig: drift(change),
			Config:    config(name, both),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
				expectControlDrift("tofu_encryption_key/dev"),
			}},
			Check: checkTofuKeys(t, []string{"dev", "prod"}, keys),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return intrudersEnabled() },
		Steps: []resource.TestStep{
			// Switched on for a backend that exists (an update).
			{Config: config(name, `  environments = ["dev", "prod"]`)},
			{
				Config: config(name, both),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(resourceName, tfjsonpath.New("tofu_encryption_hcl").AtMapKey("dev"),
						knownvalue.StringRegexp(regexp.MustCompile(`kms_key_id = "arn:aws:kms:[a-z0-9-]+:\d{12}:alias/`+name+`-tfstate-dev-tofu"`))),
					plancheck.ExpectUnknownValue(resourceName, tfjsonpath.New("tofu_encryption_key_arns")),
				}},
				Check: checkTofuKeys(t, []string{"dev", "prod"}, keys),
			},
			{
				// Import finds the encryption keys behind their aliases.
				ResourceName:            resourceName,
				ImportState:             true,
				ImportStateId:           name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy", "kms_deletion_window_days", "timeouts"},
			},
			repairs(func(c *kms.Client, key string) error {
				_, err := c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: &key})
				return err
			}),
			repairs(func(c *kms.Client, key string) error {
				p := `{"Version":"2012-10-17","Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},` +
					`{"Sid":"Extra","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/intruder"},"Action":"kms:Decrypt","Resource":"*"}]}`
				_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default"), Policy: &p})
				return err
			}),
			// The alias moved to another key: pointed back at the
			// environment's key (tracked by ARN), the other key not adopted.
			repairs(func(c *kms.Client, _ string) error { return moveAlias(c, "dev") }),
			{
				// Removing an environment removes its key (scheduled deletion).
				Config: config(name, `  environments = ["dev"]
  tofu_encryption = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(resourceName, tfjsonpath.New("tofu_encryption_key_arns"), knownvalue.MapSizeExact(1)),
				}},
				Check: func(s *terraform.State) error {
					if err := keysPendingDeletion(ctx, acctest.Client(t).KMS, keys, "prod"); err != nil {
						return err
					}
					return intrudersEnabled()
				},
			},
			{
				// Switched off while dev's alias points at someone else's
				// key: the tracked key is deleted, the other one untouched.
				PreConfig: func() {
					if err := moveAlias(acctest.Client(t).KMS, "dev"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, `  environments = ["dev"]`),
				Check: func(s *terraform.State) error {
					if err := keysPendingDeletion(ctx, acctest.Client(t).KMS, keys, "dev"); err != nil {
						return err
					}
					return intrudersEnabled()
				},
			},
		},
	})
}

// checkTofuKeys reads each environment's encryption key from AWS
// (acctest.CheckTofuKeys: enabled, rotating, behind its alias, the rendered
// policy, its tags, one per environment), and checks that it is not the
// state key, that it is the key of the previous steps, that the
// configuration names its alias and that its control is compliant.
func checkTofuKeys(t *testing.T, envs []string, keys map[string]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources[resourceName]
		if rs == nil {
			return fmt.Errorf("%s not in state", resourceName)
		}
		a := rs.Primary.Attributes
		b, err := acctest.BackendFromAttributes(a)
		if err != nil {
			return err
		}
		if err := acctest.CheckTofuKeys(context.Background(), acctest.Client(t), b); err != nil {
			return err
		}
		for _, env := range envs {
			arn := a["tofu_encryption_key_arns."+env]
			alias := "alias/" + a["name"] + "-tfstate-" + env + "-tofu"
			if arn == "" || arn == a["kms_key_arn"] {
				return fmt.Errorf("%s's encryption key is %q, the state key is %s", env, arn, a["kms_key_arn"])
			}
			if a["controls.tofu_encryption_key/"+env] != "compliant" {
				return fmt.Errorf("control tofu_encryption_key/%s = %q", env, a["controls.tofu_encryption_key/"+env])
			}
			if !regexp.MustCompile(`(?m)^\s*kms_key_id\s*=\s*".*:` + regexp.QuoteMeta(alias) + `"$`).MatchString(a["tofu_encryption_hcl."+env]) {
				return fmt.Errorf("tofu_encryption_hcl.%s does not name %s:\n%s", env, alias, a["tofu_encryption_hcl."+env])
			}
			if keys[env] != "" && keys[env] != arn {
				return fmt.Errorf("%s's encryption key changed from %s to %s: the states it encrypted could no longer be read", env, keys[env], arn)
			}
			keys[env] = arn
		}
		return nil
	}
}

// keysPendingDeletion: the environments' encryption keys are scheduled for
// deletion (recoverable during the window), their aliases gone.
func keysPendingDeletion(ctx context.Context, c *kms.Client, keys map[string]string, envs ...string) error {
	for _, env := range envs {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keys[env])})
		if err != nil {
			return fmt.Errorf("%s's encryption key %s: %w", env, keys[env], err)
		}
		if d.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
			return fmt.Errorf("%s's encryption key is %s, want PendingDeletion", env, d.KeyMetadata.KeyState)
		}
		aliases, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(keys[env])})
		if err != nil {
			return err
		}
		if len(aliases.Aliases) != 0 {
			return fmt.Errorf("%s's encryption key still has alias %s", env, aws.ToString(aliases.Aliases[0].AliasName))
		}
	}
	return nil
}
