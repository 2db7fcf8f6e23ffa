package acctest

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const scpDeny = "with an explicit deny in a service control policy"

// checkDenied asserts that err is the SCP AccessDenied of a guardrail: the
// code, the HTTP status and the message naming the action and resource.
func checkDenied(t *testing.T, what string, err error, code string, status int, action, resource string) {
	t.Helper()
	gotCode, gotStatus := apiError(err)
	want := "User: " + emulatorPrincipal + " is not authorized to perform: " + action + " on resource: " + resource + " " + scpDeny
	if gotCode != code || gotStatus != status || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v (code %q, HTTP %d)\nwant %s %d with %q", what, err, gotCode, gotStatus, code, status, want)
	}
}

// RequireTagOnCreate refuses creates without a tag of the prefix in the
// request itself, in each service's error format, and lets tagged ones
// through; moto accepts CreateBucketConfiguration.Tags and drops them.
func TestFaultProxy_requireTagOnCreate(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	p.RequireTagOnCreate("org:")

	bucket := RandomName("guard")
	_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	checkDenied(t, "untagged CreateBucket", err, "AccessDenied", 403, "s3:CreateBucket", `"arn:aws:s3:::`+bucket+`"`)
	_, err = c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
		Tags: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}})
	checkDenied(t, "CreateBucket tagged without the prefix", err, "AccessDenied", 403, "s3:CreateBucket", `"arn:aws:s3:::`+bucket+`"`)
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
		Tags: []s3types.Tag{{Key: aws.String("org:owner"), Value: aws.String("x")}}}}); err != nil {
		t.Fatalf("tagged CreateBucket: %s", err)
	}
	t.Cleanup(func() { _, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket}) })
	// moto 5.2.5 accepts the tags of CreateBucketConfiguration and drops them
	// (NoSuchTagSet); AWS keeps them. Either is fine here: the proxy saw them.
	tagging, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if code, _ := apiError(err); code != "NoSuchTagSet" && (err != nil || len(tagging.TagSet) != 1 || aws.ToString(tagging.TagSet[0].Key) != "org:owner") {
		t.Errorf("GetBucketTagging after a tagged create: %v, %+v; want NoSuchTagSet (moto) or the tag (AWS)", err, tagging)
	}

	_, err = c.KMS.CreateKey(ctx, &kms.CreateKeyInput{})
	checkDenied(t, "untagged CreateKey", err, "AccessDeniedException", 400, "kms:CreateKey", "*")
	key, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("org:owner"), TagValue: aws.String("x")}}})
	if err != nil {
		t.Fatalf("tagged CreateKey: %s", err)
	}
	t.Cleanup(func() {
		_, _ = c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: key.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	})

	table := RandomName("guard")
	_, err = c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}}})
	checkDenied(t, "untagged CreateTable", err, "AccessDeniedException", 400, "dynamodb:CreateTable", "arn:aws:dynamodb:us-east-1:123456789012:table/"+table)

	name := RandomName("guard")
	_, err = c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &name, Path: aws.String("/faultproxy/"), PolicyDocument: aws.String(iamDoc("s3:GetObject")),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("x")}}})
	checkDenied(t, "CreatePolicy without the tag", err, "AccessDenied", 403, "iam:CreatePolicy", "arn:aws:iam::123456789012:policy/faultproxy/"+name)

	var denied []string
	for _, call := range p.Calls() {
		if call.Denied {
			denied = append(denied, call.Service+":"+call.Operation)
		}
	}
	if want := "s3:PUTBucket s3:PUTBucket kms:CreateKey dynamodb:CreateTable iam:CreatePolicy"; strings.Join(denied, " ") != want {
		t.Errorf("denied calls %v, want %s", denied, want)
	}

	p.ClearGuardrails()
	if _, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Errorf("CreateTable after ClearGuardrails: %s", err)
	}
	t.Cleanup(func() {
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
}

// DenyAction refuses one IAM action (S3's names: PutBucketPolicy), or a
// pattern of them, and nothing else; ClearGuardrails lifts it.
func TestFaultProxy_denyAction(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := newBucket(t, c)
	p.DenyAction("s3:PutBucketPolicy")
	p.DenyAction("kms:*Alias")

	_, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "Denied"))})
	checkDenied(t, "PutBucketPolicy", err, "AccessDenied", 403, "s3:PutBucketPolicy", `"arn:aws:s3:::`+bucket+`"`)
	if _, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket}); err != nil {
		t.Errorf("GetBucketVersioning is not denied: %s", err)
	}
	_, err = c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	if code, _ := apiError(err); code != "NoSuchBucketPolicy" {
		t.Errorf("GetBucketPolicy: %v; want the emulator's NoSuchBucketPolicy (the denied write never reached it)", err)
	}
	id := aws.String("alias/" + RandomName("guard"))
	_, err = c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: id, TargetKeyId: aws.String("00000000-0000-0000-0000-000000000000")})
	checkDenied(t, "CreateAlias", err, "AccessDeniedException", 400, "kms:CreateAlias", "*")

	p.ClearGuardrails()
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "Allowed"))}); err != nil {
		t.Errorf("PutBucketPolicy after ClearGuardrails: %s", err)
	}
}
