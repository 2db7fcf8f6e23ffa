package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// checkObjectLock reads the state bucket's Object Lock configuration from
// S3: on, with the default retention wanted (mode "" and days 0: none).
func checkObjectLock(t *testing.T, mode s3types.ObjectLockRetentionMode, days int32) resource.TestCheckFunc {
	return checkRetention(t, false, mode, days)
}

// checkRetention reads the Object Lock configuration of the state bucket,
// or of the replica bucket (in its region) with replica.
func checkRetention(t *testing.T, replica bool, mode s3types.ObjectLockRetentionMode, days int32) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		api, bucket := acctest.Client(t).S3, a.Bucket
		if replica {
			api, bucket = acctest.Client(t).InRegion(a.ReplicaRegion).S3, a.ReplicaBucket
		}
		out, err := api.GetObjectLockConfiguration(context.Background(), &s3.GetObjectLockConfigurationInput{Bucket: &bucket})
		if err != nil {
			return fmt.Errorf("object lock configuration of %s: %w", bucket, err)
		}
		cfg := out.ObjectLockConfiguration
		if cfg == nil || cfg.ObjectLockEnabled != s3types.ObjectLockEnabledEnabled {
			return fmt.Errorf("object lock is not enabled on %s: %+v", bucket, cfg)
		}
		var haveMode s3types.ObjectLockRetentionMode
		var haveDays int32
		if cfg.Rule != nil && cfg.Rule.DefaultRetention != nil {
			haveMode, haveDays = cfg.Rule.DefaultRetention.Mode, aws.ToInt32(cfg.Rule.DefaultRetention.Days)
		}
		if haveMode != mode || haveDays != days {
			return fmt.Errorf("default retention of %s is %q %d days, want %q %d days", bucket, haveMode, haveDays, mode, days)
		}
		return nil
	}
}

// object_lock on an existing backend: switched on, drift of the retention
// repaired, days changed; destroy refused while a version is retained, with
// force_destroy too, naming the date; removing the (GOVERNANCE) block
// removes the default retention and leaves Object Lock on, which cannot be
// undone.
func TestAccBackend_objectLock(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("olock")
	lock := func(days int) string { return fmt.Sprintf("  object_lock {\n    days = %d\n  }", days) }
	var bucket string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{Config: config(name, ""), Check: func(s *terraform.State) error { a, err := attrsOf(s); bucket = a.Bucket; return err }},
			{
				Config: config(name, lock(1)),
				Check:  resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), checkObjectLock(t, s3types.ObjectLockRetentionModeGovernance, 1)),
				ConfigStateChecks: []statecheck.StateCheck{
					allCompliant(),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("object_lock").AtMapKey("mode"), knownvalue.StringExact("GOVERNANCE")),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls").AtMapKey("bucket_object_lock"), knownvalue.StringExact("compliant")),
				},
			},
			{
				PreConfig: func() {
					_, err := acctest.Client(t).S3.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &bucket,
						ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}})
					if err != nil {
						t.Fatalf("removing the default retention out of band: %s", err)
					}
				},
				Config: config(name, lock(1)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("bucket_object_lock"),
				}},
				Check: checkObjectLock(t, s3types.ObjectLockRetentionModeGovernance, 1),
			},
			{
				Config: config(name, lock(2)),
				Check:  checkObjectLock(t, s3types.ObjectLockRetentionModeGovernance, 2),
			},
			{Config: config(name, lock(2)+"\n  force_destroy = true")},
			{
				// A state version written now is retained for two days:
				// destroy is refused, force_destroy notwithstanding.
				PreConfig: func() {
					if _, err := acctest.Client(t).S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("default/terraform.tfstate"),
						Body: strings.NewReader(`{"version":4}`), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32}); err != nil {
						t.Fatalf("writing a state: %s", err)
					}
				},
				Config:      config(name, lock(2)+"\n  force_destroy = true"),
				Destroy:     true,
				ExpectError: wrapped(`holds 1 object versions under Object Lock retention or legal hold; the last becomes deletable on 20\d\d-[\s\S]*force_destroy neither`),
			},
			{
				// The block removed: no default retention for new versions;
				// Object Lock stays on (it cannot be switched off), and the
				// version written before keeps its retention.
				Config: config(name, "  force_destroy = true"),
				Check:  resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), checkObjectLock(t, "", 0)),
				ConfigStateChecks: []statecheck.StateCheck{
					allCompliant(),
					noControl("bucket_object_lock"),
				},
			},
			{
				// Destroy still asks the bucket, not the configuration.
				Config:      config(name, "  force_destroy = true"),
				Destroy:     true,
				ExpectError: wrapped(`holds 1 object versions under Object Lock retention or legal hold`),
			},
			{
				PreConfig: func() {
					out, err := acctest.Client(t).S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range out.Versions {
						if _, err := acctest.Client(t).S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId,
							BypassGovernanceRetention: aws.Bool(true)}); err != nil {
							t.Fatalf("removing the retained version with the governance bypass: %s", err)
						}
					}
				},
				Config: config(name, "  force_destroy = true"),
			},
		},
	})
}

// COMPLIANCE cannot be undone by AWS: changing the mode or removing the
// block is refused at plan, naming the attribute; nothing is written.
func TestAccBackend_objectLockComplianceKept(t *testing.T) {
	name := acctest.RandomName("olcmp")
	compliance := "  object_lock {\n    mode = \"COMPLIANCE\"\n    days = 1\n  }"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{Config: config(name, compliance), Check: checkObjectLock(t, s3types.ObjectLockRetentionModeCompliance, 1)},
			{
				Config:      config(name, "  object_lock {\n    mode = \"GOVERNANCE\"\n    days = 1\n  }"),
				PlanOnly:    true,
				ExpectError: wrapped(`COMPLIANCE retention cannot be changed[\s\S]*object_lock.mode cannot change from "COMPLIANCE" to "GOVERNANCE"`),
			},
			{
				Config:      config(name, ""),
				PlanOnly:    true,
				ExpectError: wrapped(`COMPLIANCE retention cannot be removed[\s\S]*Keep the object_lock block with mode = "COMPLIANCE"`),
			},
			{Config: config(name, strings.Replace(compliance, "days = 1", "days = 3", 1)), Check: checkObjectLock(t, s3types.ObjectLockRetentionModeCompliance, 3)},
		},
	})
}

// wrapped matches an error whatever the CLI's line wrapping: each space
// matches any run of white space.
func wrapped(pattern string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(pattern, " ", `\s+`))
}

// noControl checks that the backend in state reports no such control.
func noControl(name string) statecheck.StateCheck { return noControlCheck{name} }

type noControlCheck struct{ name string }

func (c noControlCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address != resourceName {
			continue
		}
		controls, _ := r.AttributeValues["controls"].(map[string]any)
		if v, ok := controls[c.name]; ok {
			resp.Error = fmt.Errorf("control %s is reported (%v), want none", c.name, v)
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in state", resourceName)
}
