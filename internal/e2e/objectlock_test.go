package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// object_lock with real CLIs writing state, under both lock kinds ("both"):
// Terraform and then OpenTofu init and apply (their uploads carry the
// checksums Object Lock requires), each state version gets the default
// GOVERNANCE retention, lock files are released (a delete marker over a
// retained version), and no one holding the provider's own permissions can
// delete a retained state version. Destroy is refused while versions are
// retained, naming the date, force_destroy or not; after the test removes
// them with the governance bypass (which no policy of the backend grants),
// destroy goes through.
func TestAccE2E_objectLockWithCLIs(t *testing.T) {
	name := acctest.RandomName("olock")
	ctx := context.Background()
	cfg := backendConfig(name, defaultLocking(t)+"\n  object_lock {\n    days = 1\n  }")
	var bucket string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					a, err := attrs(s, "securestate_backend.test")
					if err != nil {
						return err
					}
					bucket = a["bucket"]
					if a["controls.bucket_object_lock"] != "compliant" {
						return fmt.Errorf("bucket_object_lock is %q", a["controls.bucket_object_lock"])
					}
					return proveObjectLock(ctx, t, a)
				},
			},
			{
				// force_destroy = true is in the configuration: it cannot
				// delete retained versions either.
				Config:      cfg,
				Destroy:     true,
				ExpectError: regexp.MustCompile(`Backend\s+still\s+holds\s+state[\s\S]*under\s+Object\s+Lock\s+retention[\s\S]*deletable\s+on\s+20\d\d-`),
			},
			{
				PreConfig: func() {
					if err := bypassDeleteAll(ctx, acctest.Client(t).S3, bucket); err != nil {
						t.Fatalf("removing the retained versions: %s", err)
					}
				},
				Config: cfg,
			},
		},
	})
}

func proveObjectLock(ctx context.Context, t *testing.T, a map[string]string) error {
	bucket, stateKey := a["bucket"], "dev/terraform.tfstate"
	cl := acctest.Client(t).S3
	for _, cli := range acctest.CLIs(t) {
		c := newConsumer(t, cli, a["backend_hcl.dev"]+consumerConfig, os.Getenv("AWS_ENDPOINT_URL"))
		if out, err := c.init(); err != nil {
			return fmt.Errorf("%s init: %w\n%s", cli, err, out)
		}
		for i := range 2 {
			if out, err := c.apply(ctx, fmt.Sprintf("%d-%s", i, cli.Name), 0); err != nil {
				return fmt.Errorf("%s apply %d into a bucket with Object Lock: %w\n%s", cli, i, err, out)
			}
		}
		t.Logf("%s: two applies into a bucket with Object Lock", cli)
	}
	versions, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String("dev/")})
	if err != nil {
		return err
	}
	states := 0
	for _, v := range versions.Versions {
		if aws.ToString(v.Key) != stateKey {
			continue
		}
		states++
		r, err := cl.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		if err != nil {
			return fmt.Errorf("retention of state version %s: %w", aws.ToString(v.VersionId), err)
		}
		until := aws.ToTime(r.Retention.RetainUntilDate)
		if r.Retention.Mode != s3types.ObjectLockRetentionModeGovernance || until.Before(time.Now().Add(23*time.Hour)) {
			return fmt.Errorf("state version %s retained %s until %s, want GOVERNANCE for a day", aws.ToString(v.VersionId), r.Retention.Mode, until)
		}
	}
	if states < 4 {
		return fmt.Errorf("%d state versions after four applies", states)
	}
	// Lock files were taken and released: the last word on the lock key
	// is a delete marker, over retained versions.
	released := false
	for _, m := range versions.DeleteMarkers {
		if aws.ToString(m.Key) == stateKey+".tflock" && aws.ToBool(m.IsLatest) {
			released = true
		}
	}
	if !released {
		return fmt.Errorf("no released lock file (delete marker) for %s", stateKey)
	}
	// A retained version cannot be deleted, not even by the account's
	// administrator (the emulator's root credentials here).
	for _, v := range versions.Versions {
		if aws.ToString(v.Key) != stateKey {
			continue
		}
		_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			return fmt.Errorf("deleting retained state version %s: %v, want AccessDenied", aws.ToString(v.VersionId), err)
		}
		break
	}
	return nil
}

// bypassDeleteAll deletes every version and delete marker with the
// governance bypass: what an administrator holding
// s3:BypassGovernanceRetention could do on purpose.
func bypassDeleteAll(ctx context.Context, cl *s3.Client, bucket string) error {
	out, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err != nil {
		return err
	}
	del := func(key, id *string) error {
		_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: key, VersionId: id, BypassGovernanceRetention: aws.Bool(true)})
		return err
	}
	for _, v := range out.Versions {
		if err := del(v.Key, v.VersionId); err != nil {
			return err
		}
	}
	for _, m := range out.DeleteMarkers {
		if err := del(m.Key, m.VersionId); err != nil {
			return err
		}
	}
	return nil
}
