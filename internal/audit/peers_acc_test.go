package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// peers is testdata/peers.json: the statuses each way of building a backend
// is expected to get.
type peers struct {
	Controls []string                     `json:"controls"`
	Peers    map[string]map[string]string `json:"peers"`
}

func loadPeers(t *testing.T) peers {
	t.Helper()
	raw, err := os.ReadFile("testdata/peers.json")
	if err != nil {
		t.Fatal(err)
	}
	var p peers
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// peerBuild makes one backend out of band, as a tool makes it by default,
// registers its removal, and returns the names of its bucket and table
// (those given, unless the tool names them itself).
type peerBuild func(t *testing.T, c *awsclient.Client, bucket, table string) (string, string)

// Backends built out of band the way each tool builds them with only its
// required inputs (the settings and their sources are in the guide "Audit an
// existing backend"), audited by name: every control's status is the one
// testdata/peers.json gives, and the guide shows.
func TestAccAudit_peers(t *testing.T) {
	want := loadPeers(t)
	builds := map[string]peerBuild{"handmade": buildHandmade, "cloudposse": buildCloudposse, "terragrunt": buildTerragrunt, "securestate_backend": buildSecurestate}
	for name, build := range builds {
		t.Run(name, func(t *testing.T) {
			acctest.PreCheck(t)
			c := acctest.Client(t)
			bucket := acctest.RandomName("peer-" + strings.ReplaceAll(name, "_", "-"))
			table := bucket + "-lock"
			bucket, table = build(t, c, bucket, table)
			checks := []resource.TestCheckFunc{}
			for _, control := range want.Controls {
				status, ok := want.Peers[name][control]
				if !ok {
					t.Fatalf("testdata/peers.json: %s has no status for %s", name, control)
				}
				checks = append(checks, resource.TestCheckResourceAttr("data.securestate_backend_audit.peer", "controls."+control+".status", status))
			}
			checks = append(checks, resource.TestCheckResourceAttr("data.securestate_backend_audit.peer", "controls.%", fmt.Sprint(len(want.Controls))),
				checkSummary("data.securestate_backend_audit.peer", want.Peers[name]))
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: acctest.ProviderConfig + fmt.Sprintf(`
data "securestate_backend_audit" "peer" {
  bucket     = %q
  lock_table = %q
}
`, bucket, table),
					Check: resource.ComposeAggregateTestCheckFunc(checks...),
				}},
			})
		})
	}
}

// checkSummary checks passed, failed, not_applicable and score against the
// expected statuses.
func checkSummary(name string, statuses map[string]string) resource.TestCheckFunc {
	count := map[string]int{}
	for _, s := range statuses {
		count[s]++
	}
	applies := count["pass"] + count["fail"] + count["unknown"]
	score := 0
	if applies > 0 {
		score = count["pass"] * 100 / applies
	}
	return resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr(name, "passed", fmt.Sprint(count["pass"])),
		resource.TestCheckResourceAttr(name, "failed", fmt.Sprint(count["fail"])),
		resource.TestCheckResourceAttr(name, "not_applicable", fmt.Sprint(count["not_applicable"])),
		resource.TestCheckResourceAttr(name, "unknown", fmt.Sprint(count["unknown"])),
		resource.TestCheckResourceAttr(name, "score", fmt.Sprint(score)),
		resource.TestCheckResourceAttr(name, "satisfied_controls.#", fmt.Sprint(count["pass"])),
		func(s *terraform.State) error { return nil },
	)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %s", what, err)
	}
}

// createBucket makes a bucket with what AWS gives every new bucket since
// 2023: SSE-S3 default encryption, all public access blocked, ACLs disabled.
func createBucket(t *testing.T, c *awsclient.Client, bucket string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	must(t, "creating bucket", err)
	t.Cleanup(func() { _, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket}) })
	_, err = c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
	must(t, "blocking public access", err)
	_, err = c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: &bucket, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
	must(t, "disabling ACLs", err)
	encrypt(t, c, bucket, s3types.ServerSideEncryptionAes256, false)
}

func encrypt(t *testing.T, c *awsclient.Client, bucket string, alg s3types.ServerSideEncryption, bucketKey bool) {
	t.Helper()
	_, err := c.S3.PutBucketEncryption(context.Background(), &s3.PutBucketEncryptionInput{Bucket: &bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: alg}, BucketKeyEnabled: aws.Bool(bucketKey)}}}})
	must(t, "setting default encryption", err)
}

func version(t *testing.T, c *awsclient.Client, bucket string) {
	t.Helper()
	_, err := c.S3.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	must(t, "enabling versioning", err)
}

func putPolicy(t *testing.T, c *awsclient.Client, bucket, policy string) {
	t.Helper()
	_, err := c.S3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy})
	must(t, "putting the bucket policy", err)
}

// createTable makes a lock table keyed on LockID.
func createTable(t *testing.T, c *awsclient.Client, table string, in dynamodb.CreateTableInput, pitr bool) {
	t.Helper()
	ctx := context.Background()
	in.TableName = &table
	in.AttributeDefinitions = []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}}
	in.KeySchema = []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}}
	_, err := c.DynamoDB.CreateTable(ctx, &in)
	must(t, "creating the lock table", err)
	t.Cleanup(func() {
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	if pitr {
		_, err = c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: &table,
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
		must(t, "enabling point-in-time recovery", err)
	}
}

// buildHandmade is the console's defaults and `aws dynamodb create-table`
// with provisioned capacity: nothing beyond what AWS does by itself.
func buildHandmade(t *testing.T, c *awsclient.Client, bucket, table string) (string, string) {
	createBucket(t, c, bucket)
	createTable(t, c, table, dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}}, false)
	return bucket, table
}

// tlsOnly is terragrunt's statement refusing every S3 action without TLS.
func tlsOnly(sid, bucket string) string {
	return fmt.Sprintf(`{"Sid":%q,"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::%[2]s","arn:aws:s3:::%[2]s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, sid, bucket)
}

// buildCloudposse is cloudposse/tfstate-backend's defaults (its main.tf
// with aws >= 6): versioned, SSE-S3, public access blocked, ACLs disabled, a
// policy refusing uploads without encryption and requests without TLS; a
// lock table on demand, encrypted with the AWS managed key, with
// point-in-time recovery and without deletion protection.
func buildCloudposse(t *testing.T, c *awsclient.Client, bucket, table string) (string, string) {
	createBucket(t, c, bucket)
	version(t, c, bucket)
	putPolicy(t, c, bucket, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%[1]s/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":["AES256","aws:kms"]}}},`+
		`{"Sid":"DenyUnEncryptedObjectUploads","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%[1]s/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},`+
		`{"Sid":"EnforceTlsRequestsOnly","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":["arn:aws:s3:::%[1]s","arn:aws:s3:::%[1]s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, bucket))
	createTable(t, c, table, dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest,
		SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(true)}}, true)
	return bucket, table
}

// buildTerragrunt is terragrunt's bootstrap defaults (its S3 remote state
// client): created with ObjectWriter ownership (ACLs enabled), versioned,
// SSE-KMS with the AWS managed key aws/s3 and the bucket key, public access
// blocked, a policy enforcing TLS and granting the account root; a lock
// table on demand with DynamoDB's own encryption, no point-in-time recovery,
// no deletion protection.
func buildTerragrunt(t *testing.T, c *awsclient.Client, bucket, table string) (string, string) {
	createBucket(t, c, bucket)
	_, err := c.S3.PutBucketOwnershipControls(context.Background(), &s3.PutBucketOwnershipControlsInput{Bucket: &bucket, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
	must(t, "enabling ACLs", err)
	version(t, c, bucket)
	encrypt(t, c, bucket, s3types.ServerSideEncryptionAwsKms, true)
	putPolicy(t, c, bucket, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"RootAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:*","Resource":["arn:aws:s3:::%[2]s","arn:aws:s3:::%[2]s/*"]},`, c.AccountID, bucket)+tlsOnly("EnforcedTLS", bucket)+`]}`)
	createTable(t, c, table, dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest}, false)
	return bucket, table
}

// buildSecurestate is a securestate_backend with access logs, made with the
// provider through the Terraform CLI.
func buildSecurestate(t *testing.T, c *awsclient.Client, bucket, _ string) (string, string) {
	name := strings.TrimPrefix(bucket, "peer-")
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+`
resource "securestate_backend" "org" {
  name          = "`+name+`"
  force_destroy = true
  access_logging {}
}
`)
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("creating the backend: %s\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := ws.Destroy(); err != nil {
			t.Errorf("destroying the backend: %s\n%s", err, out)
		}
	})
	return naming.StateBucket(name, c.AccountID), naming.LockTable(name)
}
