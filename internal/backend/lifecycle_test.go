package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// captured is filled by a Check so later PreConfig steps can act on the real objects.
type captured struct{ backendAttrs }

func (c *captured) capture() resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		c.backendAttrs = a
		return err
	}
}

func policySids(t *testing.T, arn string) []string {
	t.Helper()
	doc, err := acctest.PolicyDocument(context.Background(), acctest.Client(t), arn)
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, st := range doc.Statement {
		sids = append(sids, st.Sid)
	}
	return sids
}

func checkSids(t *testing.T, env string, want, notWant []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		sids := strings.Join(policySids(t, a.PolicyARNs[env]), ",")
		for _, w := range want {
			if !strings.Contains(sids, w) {
				return fmt.Errorf("policy of %s lacks %s (has %s)", env, w, sids)
			}
		}
		for _, w := range notWant {
			if strings.Contains(sids, w) {
				return fmt.Errorf("policy of %s has %s", env, w)
			}
		}
		return nil
	}
}

func TestAccBackend_update(t *testing.T) {
	name := acctest.RandomName("upd")
	var first captured
	role := "arn:aws:iam::123456789012:role/" + name + "-ci"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{
				Config: config(name, `environments = ["dev"]`),
				Check:  resource.ComposeTestCheckFunc(first.capture(), checkHardened(t, true)),
			},
			{
				Config: config(name, fmt.Sprintf(`
  environments                       = ["dev", "prod"]
  locking                            = "lockfile"
  principals                         = [%q]
  noncurrent_version_expiration_days = 30
  kms_rotation_period_days           = 180
  tags                               = { team = "platform" }`, role)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkHardened(t, false),
					checkSids(t, "prod", []string{policies.SidLockFiles}, []string{policies.SidLockTableItems}),
					func(s *terraform.State) error {
						c, ctx := acctest.Client(t), context.Background()
						if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(first.Table)}); err == nil {
							return fmt.Errorf("lock table %s still exists after switching to lockfile", first.Table)
						}
						kp, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(first.KeyID), PolicyName: aws.String("default")})
						if err != nil || !strings.Contains(aws.ToString(kp.Policy), role) || !strings.Contains(aws.ToString(kp.Policy), "kms:ViaService") {
							return fmt.Errorf("key policy does not grant %s through S3/DynamoDB: %v", role, err)
						}
						lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(first.Bucket)})
						if err != nil || aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays) != 30 {
							return fmt.Errorf("lifecycle not updated to 30 days: %v", err)
						}
						tg, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(first.Bucket)})
						if err != nil || !acctest.HasTag(tg.TagSet, "team", "platform") {
							return fmt.Errorf("bucket tags not updated: %v", err)
						}
						return nil
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("lock_table_name"), knownvalue.Null()),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("prod").AtMapKey("dynamodb_table"), knownvalue.Null()),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("platform")})),
					allCompliant(),
				},
			},
			{
				// Through "both" (a straight change is refused at plan).
				Config: config(name, `
  environments = ["dev", "prod"]
  locking      = "both"`),
				Check: checkHardened(t, true),
			},
			{
				// Back to a table only; prod removed: its policy is deleted.
				Config: config(name, `
  environments = ["dev"]
  locking      = "dynamodb"`),
				Check: resource.ComposeTestCheckFunc(
					checkHardened(t, true),
					checkSids(t, "dev", []string{policies.SidLockTableItems}, []string{policies.SidLockFiles}),
					func(s *terraform.State) error {
						prod := strings.Replace(first.PolicyARNs["dev"], "-tfstate-dev", "-tfstate-prod", 1)
						if _, err := acctest.Client(t).IAM.GetPolicy(context.Background(), &iam.GetPolicyInput{PolicyArn: &prod}); err == nil {
							return fmt.Errorf("policy %s still exists after prod was removed", prod)
						}
						return nil
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("dev").AtMapKey("use_lockfile"), knownvalue.Null()),
					allCompliant(),
				},
			},
		},
	})
}

func TestAccBackend_import(t *testing.T) {
	name := acctest.RandomName("imp")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{Config: config(name, `
  environments                       = ["dev", "prod"]
  locking                            = "dynamodb"
  noncurrent_version_expiration_days = 45
  principals                         = ["arn:aws:iam::123456789012:role/deployer"]
  tags                               = { team = "platform" }`)},
			{
				ResourceName:            resourceName,
				ImportState:             true,
				ImportStateId:           name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy", "kms_deletion_window_days", "timeouts"},
			},
		},
	})
}

// A backend made by hand (unhardened bucket, table and key) is imported by its
// parts; the plan shows what apply hardens, and apply makes it compliant.
func TestAccBackend_importForeign(t *testing.T) {
	name := acctest.RandomName("foreign")
	bucket, table := name+"-legacy-state", name+"-legacy-locks"
	var keyARN string
	resource.Test(t, resource.TestCase{
		PreCheck: func() {
			acctest.PreCheck(t)
			c, ctx := acctest.Client(t), context.Background()
			if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			k, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("hand-made")})
			if err != nil {
				t.Fatal(err)
			}
			keyARN = aws.ToString(k.KeyMetadata.Arn)
			if _, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            &table,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
				BillingMode:          ddbtypes.BillingModePayPerRequest,
				// Emulator gap: moto's UpdateTable ignores SSESpecification, so the
				// hand-made table starts encrypted with the key; the rest is unhardened.
				SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: &keyARN},
			}); err != nil {
				t.Fatal(err)
			}
		},
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{
				Config:       config(name, fmt.Sprintf("  bucket = %q\n  environments = [\"dev\"]", bucket)),
				ResourceName: resourceName,
				ImportState:  true,
				ImportStateIdFunc: func(*terraform.State) (string, error) {
					return fmt.Sprintf("bucket=%s,table=%s,key=%s", bucket, table, keyARN), nil
				},
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["controls.bucket_versioning"] != "drifted: versioning is never enabled" {
						return fmt.Errorf("imported backend should report unversioned bucket, got %v", states[0].Attributes["controls.bucket_versioning"])
					}
					return nil
				},
			},
			{
				Config: config(name, fmt.Sprintf("  bucket = %q\n  environments = [\"dev\"]", bucket)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("bucket_encryption", "bucket_versioning", "bucket_policy", "lock_table_point_in_time_recovery", "lock_table_deletion_protection", "kms_key_rotation", "kms_key_policy", "kms_alias"),
				}},
				Check:             checkHardened(t, true),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant(), statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("lock_table_name"), knownvalue.StringExact(table))},
			},
		},
	})
}

// The bucket deleted out of band: the backend leaves state with a warning and
// the next apply recreates it, adopting the surviving components it owns.
func TestAccBackend_disappears(t *testing.T) {
	name := acctest.RandomName("gone")
	var got captured
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{
				Config: config(name, ""),
				Check: resource.ComposeTestCheckFunc(got.capture(), func(*terraform.State) error {
					_, err := acctest.Client(t).S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(got.Bucket)})
					return err
				}),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeTestCheckFunc(checkHardened(t, true), func(s *terraform.State) error {
					a, err := attrsOf(s)
					if err != nil || a.KeyID != got.KeyID {
						return fmt.Errorf("key %s was not adopted (now %s): %v", got.KeyID, a.KeyID, err)
					}
					return nil
				}),
			},
		},
	})
}

func TestAccBackend_lockingLockfile(t *testing.T) {
	name := acctest.RandomName("lockf")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{{
			Config: config(name, `locking = "lockfile"`),
			Check: resource.ComposeTestCheckFunc(checkHardened(t, false),
				checkSids(t, "default", []string{policies.SidLockFiles, policies.SidStateObjects, policies.SidUseKey}, []string{policies.SidLockTableItems, policies.SidLockTableLookup}),
				resource.TestCheckResourceAttrWith(resourceName, "backend_hcl.default", func(v string) error {
					if strings.Contains(v, "dynamodb_table") {
						return fmt.Errorf("backend_hcl names a lock table with locking = lockfile:\n%s", v)
					}
					return nil
				}),
				func(*terraform.State) error {
					_, err := acctest.Client(t).DynamoDB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name + "-tflock")})
					if err == nil {
						return fmt.Errorf("a lock table exists with locking = lockfile")
					}
					return nil
				}),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("lock_table_arn"), knownvalue.Null()),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("default").AtMapKey("use_lockfile"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_hcl").AtMapKey("default"), knownvalue.StringRegexp(regexp.MustCompile(`use_lockfile += true`))),
				allCompliant(),
			},
		}},
	})
}

func TestAccBackend_lockingDynamoDB(t *testing.T) {
	name := acctest.RandomName("lockd")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{{
			Config: config(name, `locking = "dynamodb"`),
			Check: resource.ComposeTestCheckFunc(checkHardened(t, true),
				checkSids(t, "default", []string{policies.SidLockTableItems, policies.SidLockTableLookup}, []string{policies.SidLockFiles})),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("default").AtMapKey("use_lockfile"), knownvalue.Null()),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("default").AtMapKey("dynamodb_table"), knownvalue.StringExact(name+"-tflock")),
				allCompliant(),
			},
		}},
	})
}

// Destroy is refused while the bucket holds a state version, naming how many;
// with force_destroy it empties every version and removes every component.
func TestAccBackend_destroyRefusedThenForced(t *testing.T) {
	name := acctest.RandomName("keep")
	var got captured
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{
				Config: config(name, ""),
				Check: resource.ComposeTestCheckFunc(got.capture(), func(*terraform.State) error {
					c, ctx := acctest.Client(t), context.Background()
					for _, body := range []string{"v1", "v2"} {
						if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(got.Bucket), Key: aws.String("default/terraform.tfstate"), Body: strings.NewReader(body)}); err != nil {
							return err
						}
					}
					_, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(got.Bucket), Key: aws.String("default/terraform.tfstate")})
					return err
				}),
			},
			{
				Config:      config(name, ""),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Backend\s+still\s+holds\s+state\s+or\s+logs.*holds\s+3\s+object\s+versions.*Terraform\s+states.*force_destroy\s+=\s+true`),
			},
			{
				Config: config(name, "  force_destroy = true"),
				Check: func(*terraform.State) error {
					out, err := acctest.Client(t).S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(got.Bucket)})
					if err != nil || len(out.Versions)+len(out.DeleteMarkers) != 3 {
						return fmt.Errorf("the refused destroy must not delete anything: %v", err)
					}
					return nil
				},
			},
		},
	})
}

var (
	_ = kmstypes.KeyStateEnabled
	_ = s3types.BucketVersioningStatusEnabled
	_ = policydoc.Document{}
)

// A bucket that already has the backend's name but not its ownership tag is
// never taken over: create fails and says to import it.
func TestAccBackend_existingBucketNotAdopted(t *testing.T) {
	name := acctest.RandomName("taken")
	resource.Test(t, resource.TestCase{
		PreCheck: func() {
			acctest.PreCheck(t)
			c := acctest.Client(t)
			bucket := name + "-tfstate-" + c.AccountID
			if _, err := c.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket}) })
		},
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config(name, ""),
			ExpectError: regexp.MustCompile(`(?s)already\s+exists\s+and\s+was\s+not\s+created\s+by\s+this\s+backend.*terraform\s+import`),
		}},
	})
	// Nothing was made before the refusal: of everything a backend named so
	// could have (buckets, table, policies, alias, tagged keys, monitoring),
	// only the bucket that was there before exists, and it was not tagged.
	c, ctx := acctest.Client(t), context.Background()
	objects, err := acctest.BackendObjects(ctx, c, name)
	if err != nil {
		t.Fatal(err)
	}
	bucket := naming.StateBucket(name, c.AccountID)
	for _, o := range objects {
		if o != (acctest.Object{Kind: "bucket", ID: bucket}) {
			t.Errorf("the refused create left %s behind", o)
		}
	}
	if len(objects) != 1 {
		t.Errorf("found %v, want only the existing bucket %s", objects, bucket)
	}
	if tags, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket}); err == nil && acctest.HasTag(tags.TagSet, naming.OwnerTagKey, name) {
		t.Errorf("the refused create tagged the existing bucket %s as its own", bucket)
	}
}
