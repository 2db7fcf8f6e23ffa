package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// enforceIAM switches the IAM-enforcing emulator instance to check every
// request after the next n (moto's POST /moto-api/reset-auth).
func enforceIAM(t *testing.T, endpoint string, n int) {
	t.Helper()
	pem, err := os.ReadFile(os.Getenv("AWS_CA_BUNDLE"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint+"/moto-api/reset-auth", strings.NewReader(fmt.Sprint(n)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("switching on IAM enforcement: %s", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("switching on IAM enforcement: HTTP %d", resp.StatusCode)
	}
}

// asEnforcedAdmin points the test at the IAM-enforcing emulator instance,
// makes an administrator there (Action "*", the next three requests being
// the last unauthenticated ones) and runs the rest of the test, the
// provider included, as that administrator. It returns the endpoint.
func asEnforcedAdmin(t *testing.T) string {
	t.Helper()
	acctest.PreCheck(t)
	endpoint := os.Getenv("SECURESTATE_EMULATOR_IAM_ENDPOINT")
	if endpoint == "" {
		t.Fatal("SECURESTATE_EMULATOR_IAM_ENDPOINT is not set: make test starts the IAM-enforcing emulator instance")
	}
	ctx := context.Background()
	enforceIAM(t, endpoint, 3)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	bootstrap, err := awsclient.New(ctx, awsclient.Settings{SkipCredentialsValidation: true}, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	adminName := acctest.RandomName("admin")
	admin, err := newUser(ctx, bootstrap.IAM, adminName)
	if err != nil {
		t.Fatalf("creating the administrator: %s", err)
	}
	adminPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := bootstrap.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &adminName, PolicyName: aws.String("admin"), PolicyDocument: &adminPolicy}); err != nil {
		t.Fatalf("granting the administrator: %s", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", admin.id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.secret)
	return endpoint
}

type accessKey struct{ id, secret string }

func (k accessKey) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + k.id, "AWS_SECRET_ACCESS_KEY=" + k.secret}
}

func newUser(ctx context.Context, c *iam.Client, name string) (accessKey, error) {
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: &name}); err != nil {
		return accessKey{}, err
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &name})
	if err != nil {
		return accessKey{}, err
	}
	return accessKey{aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)}, nil
}

func forbidden(err error) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}

// Proof 4: on an emulator that enforces IAM, a user holding only the dev
// policy from policy_arns can init, apply and lock the dev state, and is
// refused reading or writing prod state and listing other prefixes.
func TestAccE2E_leastPrivilegeEnforced(t *testing.T) {
	endpoint := asEnforcedAdmin(t)
	name := acctest.RandomName("lp")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: backendConfig(name, defaultLocking(t)),
			Check:  func(s *terraform.State) error { return proveLeastPrivilege(t, s, endpoint) },
		}},
	})
}

func proveLeastPrivilege(t *testing.T, s *terraform.State, endpoint string) error {
	ctx := context.Background()
	a, err := attrs(s, "securestate_backend.test")
	if err != nil {
		return err
	}
	bucket := a["bucket"]
	admin := acctest.Client(t)

	// Someone else's prod state, which dev must not reach.
	if _, err := admin.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate"), Body: strings.NewReader(`{"version":4}`)}); err != nil {
		return fmt.Errorf("admin writing prod state: %w", err)
	}
	userName := acctest.RandomName("dev")
	dev, err := newUser(ctx, admin.IAM, userName)
	if err != nil {
		return fmt.Errorf("creating the dev user: %w", err)
	}
	if _, err := admin.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &userName, PolicyArn: aws.String(a["policy_arns.dev"])}); err != nil {
		return fmt.Errorf("attaching the dev policy: %w", err)
	}

	// Under each CLI: dev can init and apply its own state, taking and
	// releasing the locks of the backend's mode (every apply locks; a refused
	// lock fails the apply), and cannot use the prod state.
	for _, cli := range acctest.CLIs(t) {
		c := newConsumer(t, cli, a["backend_hcl.dev"]+consumerConfig, endpoint, dev.env()...)
		c.mustInitApply("1")
		if out, err := c.apply(ctx, "2", 0); err != nil {
			return fmt.Errorf("dev's second %s apply: %w\n%s", cli, err, out)
		}
		if table := a["lock_table_name"]; table != "" {
			// The S3 backend keeps the state's digest in the lock table: dev's
			// CLI wrote it there with dev's credentials.
			digest, err := admin.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table,
				Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/dev/terraform.tfstate-md5"}}})
			if err != nil || len(digest.Item) == 0 {
				return fmt.Errorf("dev's state digest is not in the lock table %s: %v", table, err)
			}
		}
		p := newConsumer(t, cli, a["backend_hcl.prod"]+consumerConfig, endpoint, dev.env()...)
		out, err := p.init()
		if err == nil {
			out, err = p.apply(ctx, "1", 0)
		}
		if err == nil || !refusedOnProd(cli, out) {
			return fmt.Errorf("dev's %s on prod state: err %v, want access denied on prod/; output:\n%s", cli, err, out)
		}
	}

	// And directly: no reading or writing prod, no listing outside dev/.
	cl := s3.New(admin.S3.Options(), func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(dev.id, dev.secret, "")
	})
	checks := map[string]error{}
	_, checks["GetObject prod/terraform.tfstate"] = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate")})
	_, checks["PutObject prod/terraform.tfstate"] = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate"), Body: strings.NewReader("{}")})
	_, checks["ListObjectsV2 without prefix"] = cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	_, checks["ListObjectsV2 prefix prod/"] = cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("prod/")})
	for what, err := range checks {
		if !forbidden(err) {
			return fmt.Errorf("dev user %s: %v, want HTTP 403", what, err)
		}
	}
	if _, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("dev/")}); err != nil {
		return fmt.Errorf("dev user listing dev/: %w", err)
	}
	// Lock items: only dev's (dynamodb:LeadingKeys, evaluated by the harness).
	ddb := dynamodb.New(admin.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(dev.id, dev.secret, "")
	})
	lockItem := func(key string) error {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a["lock_table_name"]),
			Item: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/" + key}}})
		return err
	}
	if err := lockItem("prod/terraform.tfstate"); err == nil || !strings.Contains(err.Error(), "403") {
		return fmt.Errorf("dev user writing prod's lock item: %v, want HTTP 403", err)
	}
	if err := lockItem("dev/scratch.tfstate"); err != nil {
		return fmt.Errorf("dev user writing a dev lock item: %w", err)
	}
	// Released as a run releases it (dynamodb:DeleteItem on dev's items): a
	// lock left in the table would stop the backend's destroy.
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(a["lock_table_name"]),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/dev/scratch.tfstate"}}}); err != nil {
		return fmt.Errorf("dev user releasing its dev lock item: %w", err)
	}
	t.Logf("dev policy: dev state applied and locked; prod read/write, prod lock items and listing outside dev/ refused (%d checks)", len(checks)+1)
	t.Log("emulator gap: moto does not check KMS permissions for SSE-KMS objects, so the key limits are asserted on the policy documents (internal/policies tests)")
	return nil
}
