package acctest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// A table encrypted with KMS and no key named gets the AWS managed key
// aws/dynamodb, which AWS describes with KeyManager AWS (moto 5.2.5 says
// CUSTOMER; server.py corrects it), while a key the caller creates stays
// CUSTOMER. The audit tells the two apart by this.
func TestAccEmulator_tableDefaultKeyIsAWSManaged(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t)
	table := acctest.RandomName("default-key")
	_, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
		SSESpecification:     &ddbtypes.SSESpecification{Enabled: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.SSEDescription == nil || d.Table.SSEDescription.KMSMasterKeyArn == nil {
		t.Fatalf("SSEDescription = %+v, want the AWS managed key", d.Table.SSEDescription)
	}
	k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: d.Table.SSEDescription.KMSMasterKeyArn})
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeAws {
		t.Errorf("the table's default key is managed by %s, want AWS", k.KeyMetadata.KeyManager)
	}
	own, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("customer key for the emulator test")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: own.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	})
	if own.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeCustomer {
		t.Errorf("a created key is managed by %s, want CUSTOMER", own.KeyMetadata.KeyManager)
	}
}
