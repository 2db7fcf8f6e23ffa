package acctest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// otherAccount is the account a caller acts in after assuming a role of it:
// the emulator keeps separate state per account, as AWS does.
const otherAccount = "222222222222"

// assumeOtherAccount returns the credentials of AssumeRole into a role ARN of
// otherAccount, having checked that they act in that account.
func assumeOtherAccount(ctx context.Context, t *testing.T, c *sts.Client) aws.CredentialsProvider {
	t.Helper()
	role := fmt.Sprintf("arn:aws:iam::%s:role/%s", otherAccount, acctest.RandomName("caller"))
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &role, RoleSessionName: aws.String("emulator-accounts")})
	if err != nil {
		t.Fatalf("assuming %s: %s", role, err)
	}
	creds := credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	id, err := sts.New(c.Options(), func(o *sts.Options) { o.Credentials = creds }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != otherAccount {
		t.Fatalf("caller identity after assuming %s: %v, %v; want account %s", role, id, err, otherAccount)
	}
	return creds
}

func createLockTable(ctx context.Context, c *dynamodb.Client, name string) (string, error) {
	out, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.TableDescription.TableArn), nil
}

func lockKey(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: id}}
}

// DynamoDB accepts a table ARN wherever it takes a table name, which is how a
// caller in another account reaches a central lock table (and its tags and
// resource policy, named by ResourceArn). moto alone looks an
// ARN up in the caller's own account (ResourceNotFoundException); the harness
// resolves it in the account the ARN names, as AWS does. This proves it: a
// caller of 222222222222 writes and reads an item by the owner's table ARN,
// the owner sees the item, and the caller's own table of the same name is
// untouched. (The emulator does not evaluate the table's resource policy for
// the caller; without IAM enforcement every caller is allowed.)
func TestAccEmulator_crossAccountTableByARN(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	owner := acctest.Client(t)
	name := acctest.RandomName("xacct-lock")

	ownerARN, err := createLockTable(ctx, owner.DynamoDB, name)
	if err != nil {
		t.Fatalf("owner creating table %s: %s", name, err)
	}
	t.Cleanup(func() { _, _ = owner.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name}) })
	if !strings.Contains(ownerARN, ":"+owner.AccountID+":table/") || owner.AccountID == otherAccount {
		t.Fatalf("owner table ARN %s is not in the owner's account %s", ownerARN, owner.AccountID)
	}

	creds := assumeOtherAccount(ctx, t, owner.STS)
	caller := dynamodb.New(owner.DynamoDB.Options(), func(o *dynamodb.Options) { o.Credentials = creds })
	// A table of the same name in the caller's own account: a request that
	// resolves the name instead of the ARN lands here.
	callerARN, err := createLockTable(ctx, caller, name)
	if err != nil {
		t.Fatalf("caller creating its own table %s: %s", name, err)
	}
	t.Cleanup(func() { _, _ = caller.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name}) })
	if callerARN == ownerARN || !strings.Contains(callerARN, ":"+otherAccount+":table/") {
		t.Fatalf("caller's own table ARN %s, want one in %s distinct from %s", callerARN, otherAccount, ownerARN)
	}

	desc, err := caller.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &ownerARN})
	if err != nil || aws.ToString(desc.Table.TableArn) != ownerARN {
		t.Fatalf("caller DescribeTable by ARN %s: %v, %v; want the owner's table", ownerARN, desc, err)
	}
	item := lockKey("state-bucket/dev/terraform.tfstate-md5")
	item["Digest"] = &ddbtypes.AttributeValueMemberS{Value: "written-from-" + otherAccount}
	if _, err := caller.PutItem(ctx, &dynamodb.PutItemInput{TableName: &ownerARN, Item: item}); err != nil {
		t.Fatalf("caller PutItem by the owner's table ARN: %s", err)
	}
	got, err := caller.GetItem(ctx, &dynamodb.GetItemInput{TableName: &ownerARN, Key: lockKey("state-bucket/dev/terraform.tfstate-md5")})
	if err != nil || len(got.Item) == 0 {
		t.Fatalf("caller GetItem by the owner's table ARN: %v, item %v; want the item just written", err, got)
	}

	seen, err := owner.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: lockKey("state-bucket/dev/terraform.tfstate-md5")})
	if err != nil {
		t.Fatalf("owner GetItem: %s", err)
	}
	if d, ok := seen.Item["Digest"].(*ddbtypes.AttributeValueMemberS); !ok || d.Value != "written-from-"+otherAccount {
		t.Fatalf("owner's table item = %v, want the item the caller wrote by ARN", seen.Item)
	}
	own, err := caller.Scan(ctx, &dynamodb.ScanInput{TableName: &name})
	if err != nil {
		t.Fatalf("caller scanning its own table: %s", err)
	}
	if own.Count != 0 {
		t.Fatalf("caller's own table %s holds %d items, want 0: the ARN was resolved in the caller's account", name, own.Count)
	}

	if _, err := caller.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &ownerARN, Key: lockKey("state-bucket/dev/terraform.tfstate-md5")}); err != nil {
		t.Fatalf("caller DeleteItem by the owner's table ARN: %s", err)
	}
	gone, err := owner.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: lockKey("state-bucket/dev/terraform.tfstate-md5")})
	if err != nil || len(gone.Item) != 0 {
		t.Fatalf("owner's item after the caller's DeleteItem by ARN: %v, %v; want it gone", gone.Item, err)
	}

	// The calls that name a table by ResourceArn (tags, resource policy) are
	// resolved in the ARN's account too: the owner's tag, not the caller's.
	if _, err := owner.DynamoDB.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: &ownerARN, Tags: []ddbtypes.Tag{{Key: aws.String("owner"), Value: aws.String("central")}}}); err != nil {
		t.Fatalf("owner tagging its table: %s", err)
	}
	tags, err := caller.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: &ownerARN})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "central" {
		t.Fatalf("caller ListTagsOfResource by the owner's table ARN: %v, %v; want the owner's tag", tags, err)
	}

	// A table ARN that names no table in its account is still not found.
	missing := strings.TrimSuffix(ownerARN, name) + acctest.RandomName("missing")
	_, err = caller.GetItem(ctx, &dynamodb.GetItemInput{TableName: &missing, Key: lockKey("x")})
	var notFound *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("caller GetItem by the ARN of a missing table: %v, want ResourceNotFoundException", err)
	}
}

// AWS always knows who the caller is: its organisation, org paths and tags,
// the VPC endpoint the request came through, its ARN, whether it is a service
// and whether it used MFA. The emulator does not, and with those keys absent
// a boundary Deny ("StringNotEquals aws:PrincipalOrgID …") would hold and
// refuse every object request (moto applies bucket-policy Denys to object
// operations). The harness does not evaluate such statements at all. This
// proves it: under a bucket policy with boundary denies on every such key, an
// HTTPS PutObject and GetObject succeed, while the TLS-only deny in the same
// policy still refuses plain HTTP. The boundary statements themselves are
// proven by the rendered documents (internal/policies tests).
func TestAccEmulator_unknowableConditionsNotApplied(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	tlsClient := acctest.Client(t).S3
	plainClient := s3.New(tlsClient.Options(), func(o *s3.Options) { o.BaseEndpoint = aws.String(acctest.PlainHTTPEndpoint(t)) })

	bucket := acctest.RandomName("boundary")
	key := "dev/terraform.tfstate"
	if _, err := tlsClient.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("creating bucket: %s", err)
	}
	t.Cleanup(func() { removeBucket(t, tlsClient, bucket) })

	policy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyOutsideOrganization",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
      "Condition": {
        "StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/admin"]},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
      }
    },
    {
      "Sid": "DenyOutsideOrganizationPaths",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
      "Condition": {"ForAllValues:StringNotLike": {"aws:PrincipalOrgPaths": ["o-abc123def4/r-ab12/ou-ab12-11111111/*"]}}
    },
    {
      "Sid": "DenyDataAccessOutsideVpcEndpoints",
      "Effect": "Deny",
      "Principal": "*",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::%[1]s/*",
      "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}
    },
    {
      "Sid": "DenyWithoutPrincipalTag1",
      "Effect": "Deny",
      "Principal": "*",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::%[1]s/*",
      "Condition": {"StringNotEquals": {"aws:PrincipalTag/Department": "Infrastructure"}}
    },
    {
      "Sid": "DenyWithoutMFA",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::%[1]s/*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    },
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}`, bucket)
	if _, err := tlsClient.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy}); err != nil {
		t.Fatalf("putting the boundary policy: %s", err)
	}

	if _, err := tlsClient.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(`{"version":4}`)}); err != nil {
		t.Fatalf("HTTPS PutObject under boundary denies: %s (a statement on a key the emulator cannot know was applied)", err)
	}
	if _, err := tlsClient.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		t.Fatalf("HTTPS GetObject under boundary denies: %s", err)
	}
	_, err := plainClient.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("tampered")})
	expectForbidden(t, "plain HTTP PutObject under the same policy", err)
	_, err = plainClient.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	expectForbidden(t, "plain HTTP GetObject under the same policy", err)
}
