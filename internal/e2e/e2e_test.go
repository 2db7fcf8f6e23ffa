package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

func backendConfig(name, extra string) string {
	return acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "test" {
  name          = %q
  environments  = ["dev", "prod"]
  force_destroy = true # the consumers leave state behind
%s
}
`, name, extra)
}

// Proofs 1, 3 and 5 (locking "both", or "dynamodb" before Terraform 1.10): a
// consumer's init and apply store state at dev/..., encrypted with the
// backend's own key; a second apply keeps the previous version; the state
// object is refused over plain HTTP; uploads encrypted otherwise are refused.
func TestAccE2E_consumerStateEncryptedVersionedTLSOnly(t *testing.T) {
	name := acctest.RandomName("e2e")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: backendConfig(name, defaultLocking(t)),
			Check: func(s *terraform.State) error {
				a, err := attrs(s, "securestate_backend.test")
				if err != nil {
					return err
				}
				bucket, keyARN, stateKey := a["bucket"], a["kms_key_arn"], "dev/terraform.tfstate"
				c := newConsumer(t, a["backend_hcl.dev"]+consumerConfig, os.Getenv("AWS_ENDPOINT_URL"))
				c.mustInitApply("1")

				cl := acctest.Client(t).S3
				ctx := context.Background()
				head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &stateKey})
				if err != nil {
					return fmt.Errorf("state object s3://%s/%s: %w", bucket, stateKey, err)
				}
				if head.ServerSideEncryption != "aws:kms" || aws.ToString(head.SSEKMSKeyId) != keyARN {
					return fmt.Errorf("state object encryption = %s with %s, want aws:kms with %s", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), keyARN)
				}
				t.Logf("state at s3://%s/%s, SSE-KMS with %s", bucket, stateKey, keyARN)

				if out, err := c.apply(ctx, "2", 0); err != nil {
					return fmt.Errorf("second apply: %w\n%s", err, out)
				}
				versions, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &stateKey})
				if err != nil {
					return err
				}
				n := 0
				for _, v := range versions.Versions {
					if aws.ToString(v.Key) == stateKey {
						n++
					}
				}
				if n < 2 {
					return fmt.Errorf("state object has %d versions after two applies, want at least 2", n)
				}

				// Proof 3: the bucket policy refuses the state object over plain HTTP.
				plain := s3.New(cl.Options(), func(o *s3.Options) { o.BaseEndpoint = aws.String(acctest.PlainHTTPEndpoint(t)) })
				_, err = plain.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
				var re *smithyhttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
					return fmt.Errorf("plain HTTP GetObject of the state: %v, want HTTP 403", err)
				}
				got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
				if err != nil {
					return fmt.Errorf("HTTPS GetObject of the state: %w", err)
				}
				body, _ := io.ReadAll(got.Body)
				_ = got.Body.Close()
				if !strings.Contains(string(body), `"terraform_data"`) {
					return fmt.Errorf("state object does not hold the consumer's state")
				}
				return uploadsNeedTheBackendKey(ctx, cl, bucket, keyARN)
			},
		}},
	})
}

// uploadsNeedTheBackendKey proves the bucket policy's encryption rules: an
// object is accepted with no encryption headers (the bucket default, the
// backend key) or with SSE-KMS naming the backend key, and refused with any
// other encryption, another key, or SSE-KMS naming no key (which AWS would
// encrypt with the aws/s3 managed key).
func uploadsNeedTheBackendKey(ctx context.Context, cl *s3.Client, bucket, keyARN string) error {
	otherKey := keyARN[:strings.LastIndex(keyARN, "/")+1] + "00000000-0000-0000-0000-000000000000"
	cases := []struct {
		name    string
		sse     s3types.ServerSideEncryption
		key     string
		refused bool
	}{
		{"no encryption headers", "", "", false},
		{"SSE-KMS with the backend key", s3types.ServerSideEncryptionAwsKms, keyARN, false},
		{"SSE-S3", s3types.ServerSideEncryptionAes256, "", true},
		{"SSE-KMS naming no key", s3types.ServerSideEncryptionAwsKms, "", true},
		{"SSE-KMS with another key", s3types.ServerSideEncryptionAwsKms, otherKey, true},
	}
	for i, c := range cases {
		in := &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("dev/upload-check-%d", i)), Body: strings.NewReader("x"), ServerSideEncryption: c.sse}
		if c.key != "" {
			in.SSEKMSKeyId = aws.String(c.key)
		}
		_, err := cl.PutObject(ctx, in)
		var re *smithyhttp.ResponseError
		refused := errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
		switch {
		case c.refused && !refused:
			return fmt.Errorf("upload with %s: %v, want HTTP 403 from the bucket policy", c.name, err)
		case !c.refused && err != nil:
			return fmt.Errorf("upload with %s: %w", c.name, err)
		}
	}
	return nil
}

// Proof 2 (and 5 for "dynamodb" and "lockfile"): while one apply holds the
// lock, a second apply on the same state fails with Terraform's lock error and
// leaves the state unchanged.
func TestAccE2E_locking(t *testing.T) {
	modes := []string{"dynamodb"}
	if slices.Contains(lockingModes(t), "lockfile") {
		modes = append(modes, "lockfile")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			name := acctest.RandomName("lock")
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: backendConfig(name, fmt.Sprintf("  locking = %q", mode)),
					Check:  func(s *terraform.State) error { return proveLocking(t, s, mode) },
				}},
			})
		})
	}
}

func proveLocking(t *testing.T, s *terraform.State, mode string) error {
	a, err := attrs(s, "securestate_backend.test")
	if err != nil {
		return err
	}
	bucket, stateKey := a["bucket"], "dev/terraform.tfstate"
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	holder := newConsumer(t, a["backend_hcl.dev"]+consumerConfig, endpoint)
	holder.mustInitApply("1")
	contender := newConsumer(t, a["backend_hcl.dev"]+consumerConfig, endpoint)
	if out, err := contender.init(); err != nil {
		return fmt.Errorf("contender init: %w\n%s", err, out)
	}

	c := acctest.Client(t)
	ctx := context.Background()
	latest := func() string {
		v, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &stateKey})
		if err != nil {
			return "error: " + err.Error()
		}
		return aws.ToString(v.VersionId)
	}
	lockHeld := func() bool {
		if mode == "lockfile" {
			_, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(stateKey + ".tflock")})
			return err == nil
		}
		out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a["lock_table_name"]),
			Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/" + stateKey}}})
		return err == nil && len(out.Item) > 0
	}

	var (
		wg        sync.WaitGroup
		holderOut string
		holderErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		holderOut, holderErr = holder.apply(ctx, "2", 8)
	}()
	if !waitFor(60*time.Second, lockHeld) {
		wg.Wait()
		return fmt.Errorf("the %s lock never appeared while apply ran:\n%s", mode, holderOut)
	}
	before := latest()
	out, err := contender.apply(ctx, "3", 0)
	after := latest()
	wg.Wait()

	if err == nil || !strings.Contains(out, "Error acquiring the state lock") {
		return fmt.Errorf("second apply while the %s lock is held: err %v, want Terraform's lock error; output:\n%s", mode, err, out)
	}
	if before != after {
		return fmt.Errorf("state changed while the %s lock was held: version %s -> %s", mode, before, after)
	}
	if holderErr != nil {
		return fmt.Errorf("the lock holder's apply failed: %w\n%s", holderErr, holderOut)
	}
	if lockHeld() {
		return fmt.Errorf("the %s lock is still held after the holder finished", mode)
	}
	t.Logf("%s locking: second apply refused with Terraform's lock error, state version %s unchanged", mode, before)
	return nil
}
