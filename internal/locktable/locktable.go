// Package locktable manages the DynamoDB table Terraform's S3 backend uses for
// state locks: ensure (create or adopt, then harden), find, drift and delete.
package locktable

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the DynamoDB client this package uses.
type API interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	UpdateContinuousBackups(context.Context, *dynamodb.UpdateContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
	ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
	UntagResource(context.Context, *dynamodb.UntagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.UntagResourceOutput, error)
}

// HashKey is the attribute Terraform's S3 backend writes lock items under.
const HashKey = "LockID"

// Spec is the table a backend wants.
type Spec struct {
	Backend string
	Table   string
	KeyARN  string
	Tags    map[string]string
}

// Controls named in drift reports.
const (
	ControlBilling            = "lock_table_billing"
	ControlEncryption         = "lock_table_encryption"
	ControlPITR               = "lock_table_point_in_time_recovery"
	ControlDeletionProtection = "lock_table_deletion_protection"
)

// Observed is what exists.
type Observed struct {
	Name               string
	ARN                string
	Status             types.TableStatus
	HashKey            string
	Billing            types.BillingMode
	SSEKey             string
	SSEEnabled         bool
	PITR               bool
	DeletionProtection bool
	Tags               map[string]string
}

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	out := map[string]string{ControlBilling: "", ControlEncryption: "", ControlPITR: "", ControlDeletionProtection: ""}
	if o.Billing != types.BillingModePayPerRequest {
		out[ControlBilling] = fmt.Sprintf("billing mode is %s, not on-demand", o.Billing)
	}
	if !o.SSEEnabled || o.SSEKey != spec.KeyARN {
		out[ControlEncryption] = "table is not encrypted with the backend's KMS key"
	}
	if !o.PITR {
		out[ControlPITR] = "point-in-time recovery is off"
	}
	if !o.DeletionProtection {
		out[ControlDeletionProtection] = "deletion protection is off"
	}
	return out
}

// Find reads the table; a missing table is awserr.ErrNotFound.
func Find(ctx context.Context, api API, table string) (*Observed, error) {
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if awserr.HasCode(err, "ResourceNotFoundException") {
		return nil, awserr.NotFound("DynamoDB table %s", table)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamodb:DescribeTable %s: %w", table, err)
	}
	t := d.Table
	o := &Observed{Name: table, ARN: aws.ToString(t.TableArn), Status: t.TableStatus, DeletionProtection: aws.ToBool(t.DeletionProtectionEnabled), Billing: types.BillingModeProvisioned}
	if t.TableStatus == types.TableStatusDeleting {
		return nil, awserr.NotFound("DynamoDB table %s (deleting)", table)
	}
	for _, k := range t.KeySchema {
		if k.KeyType == types.KeyTypeHash {
			o.HashKey = aws.ToString(k.AttributeName)
		}
	}
	if t.BillingModeSummary != nil {
		o.Billing = t.BillingModeSummary.BillingMode
	}
	if t.SSEDescription != nil {
		o.SSEEnabled = t.SSEDescription.Status == types.SSEStatusEnabled || t.SSEDescription.Status == types.SSEStatusEnabling
		o.SSEKey = aws.ToString(t.SSEDescription.KMSMasterKeyArn)
	}
	cb, err := api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("dynamodb:DescribeContinuousBackups %s: %w", table, err)
	}
	if d := cb.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		o.PITR = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
	}
	listed, err := api.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: &o.ARN})
	if err != nil {
		return nil, fmt.Errorf("dynamodb:ListTagsOfResource %s: %w", table, err)
	}
	o.Tags = map[string]string{}
	for _, tg := range listed.Tags {
		o.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return o, nil
}

// Ensure creates the table (or adopts one carrying the ownership tag), waits
// until it is active, and brings every control to the spec.
func Ensure(ctx context.Context, api API, spec Spec, tracked bool) (*Observed, error) {
	o, err := Find(ctx, api, spec.Table)
	switch {
	case awserr.IsNotFound(err):
		if err := create(ctx, api, spec); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !tracked && o.Tags[naming.OwnerTagKey] != spec.Backend:
		return nil, fmt.Errorf("DynamoDB table %s already exists and was not created by this backend (no %s=%s tag); import it with `terraform import`, or choose another backend name",
			spec.Table, naming.OwnerTagKey, spec.Backend)
	}
	if err := waitActive(ctx, api, spec.Table); err != nil {
		return nil, err
	}
	if o, err = Find(ctx, api, spec.Table); err != nil {
		return nil, err
	}
	if o.HashKey != HashKey {
		return nil, fmt.Errorf("DynamoDB table %s has hash key %q; Terraform's S3 backend needs %q. A table's key cannot be changed: delete or rename the table", spec.Table, o.HashKey, HashKey)
	}
	drift := Drift(spec, o)
	if drift[ControlBilling] != "" || drift[ControlDeletionProtection] != "" || drift[ControlEncryption] != "" {
		in := &dynamodb.UpdateTableInput{TableName: &spec.Table}
		if drift[ControlBilling] != "" {
			in.BillingMode = types.BillingModePayPerRequest
		}
		if drift[ControlDeletionProtection] != "" {
			in.DeletionProtectionEnabled = aws.Bool(true)
		}
		if drift[ControlEncryption] != "" {
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KeyARN)}
		}
		if _, err := api.UpdateTable(ctx, in); err != nil {
			return nil, fmt.Errorf("dynamodb:UpdateTable %s: %w", spec.Table, err)
		}
		if err := waitActive(ctx, api, spec.Table); err != nil {
			return nil, err
		}
	}
	if drift[ControlPITR] != "" {
		if _, err := api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        &spec.Table,
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
		}); err != nil {
			return nil, fmt.Errorf("dynamodb:UpdateContinuousBackups %s: %w", spec.Table, err)
		}
	}
	if err := syncTags(ctx, api, o.ARN, o.Tags, spec.Tags); err != nil {
		return nil, err
	}
	return Find(ctx, api, spec.Table)
}

func create(ctx context.Context, api API, spec Spec) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:                 &spec.Table,
		AttributeDefinitions:      []types.AttributeDefinition{{AttributeName: aws.String(HashKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:                 []types.KeySchemaElement{{AttributeName: aws.String(HashKey), KeyType: types.KeyTypeHash}},
		BillingMode:               types.BillingModePayPerRequest,
		DeletionProtectionEnabled: aws.Bool(true),
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KeyARN)},
		Tags:                      ddbTags(spec.Tags),
	})
	if err != nil && !awserr.HasCode(err, "ResourceInUseException") {
		return fmt.Errorf("dynamodb:CreateTable %s: %w", spec.Table, err)
	}
	return nil
}

// waitActive waits for ACTIVE with the SDK's waiter, bounded by ctx (the
// resource timeout) and at most 10 minutes.
func waitActive(ctx context.Context, api API, table string) error {
	w := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 500 * time.Millisecond
		o.MaxDelay = 10 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 10*time.Minute); err != nil {
		return fmt.Errorf("waiting for DynamoDB table %s to become ACTIVE: %w", table, err)
	}
	return nil
}

func ddbTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func syncTags(ctx context.Context, api API, arn string, have, want map[string]string) error {
	return tags.Apply(have, want, func(keys []string) error {
		if _, err := api.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: &arn, TagKeys: keys}); err != nil {
			return fmt.Errorf("dynamodb:UntagResource %s: %w", arn, err)
		}
		return nil
	}, func(set map[string]string) error {
		if _, err := api.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: &arn, Tags: ddbTags(set)}); err != nil {
			return fmt.Errorf("dynamodb:TagResource %s: %w", arn, err)
		}
		return nil
	})
}

// Delete lifts deletion protection and deletes the table; a table already gone
// counts as deleted.
func Delete(ctx context.Context, api API, table string) error {
	_, err := api.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table, DeletionProtectionEnabled: aws.Bool(false)})
	if awserr.HasCode(err, "ResourceNotFoundException") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb:UpdateTable %s (lifting deletion protection): %w", table, err)
	}
	_, err = api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	if err != nil && !awserr.HasCode(err, "ResourceNotFoundException") {
		return fmt.Errorf("dynamodb:DeleteTable %s: %w", table, err)
	}
	return nil
}
