package acctest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// The state bucket's TLS-only policy is a core control, so the harness must make
// moto evaluate aws:SecureTransport (moto alone applies the Deny regardless of its
// Condition). This proves it: the same object request is refused over plain HTTP
// and accepted over HTTPS once the policy is in place.
func TestAccEmulator_secureTransportDenyIsEvaluated(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	tlsClient := acctest.Client(t).S3
	plainEndpoint := acctest.PlainHTTPEndpoint(t)
	plainClient := s3.New(tlsClient.Options(), func(o *s3.Options) { o.BaseEndpoint = aws.String(plainEndpoint) })

	bucket := acctest.RandomName("tls-only")
	key := "dev/terraform.tfstate"
	if _, err := tlsClient.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("creating bucket: %s", err)
	}
	t.Cleanup(func() { removeBucket(t, tlsClient, bucket) })
	put := func(c *s3.Client, body string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
		return err
	}
	get := func(c *s3.Client) (string, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(out.Body)
		if cerr := out.Body.Close(); err == nil {
			err = cerr
		}
		return string(b), err
	}

	// Control: without the policy, the plain listener serves the object, so a
	// refusal later comes from the policy and not from the listener.
	if err := put(tlsClient, "v1"); err != nil {
		t.Fatalf("HTTPS put before policy: %s", err)
	}
	if body, err := get(plainClient); err != nil || body != "v1" {
		t.Fatalf("plain HTTP get before policy = %q, %v; want v1, nil", body, err)
	}

	policy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}`, bucket)
	if _, err := tlsClient.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy}); err != nil {
		t.Fatalf("putting TLS-only policy: %s", err)
	}

	_, err := get(plainClient)
	expectForbidden(t, "plain HTTP GetObject", err)
	expectForbidden(t, "plain HTTP PutObject", put(plainClient, "tampered"))

	if err := put(tlsClient, "v2"); err != nil {
		t.Fatalf("HTTPS PutObject under TLS-only policy: %s", err)
	}
	if body, err := get(tlsClient); err != nil || body != "v2" {
		t.Fatalf("HTTPS GetObject under TLS-only policy = %q, %v; want v2, nil", body, err)
	}
}

func expectForbidden(t *testing.T, what string, err error) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Fatalf("%s: got %v, want HTTP 403 from the bucket policy", what, err)
	}
}

func removeBucket(t *testing.T, c *s3.Client, bucket string) {
	ctx := context.Background()
	_, _ = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket})
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err == nil {
		for _, v := range out.Versions {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Logf("cleanup: deleting bucket %s: %s", bucket, err)
	}
}
