// Package locktable manages the DynamoDB table Terraform's S3 backend uses for
// state locks: ensure (create or adopt, then harden), find, drift and delete.
//
// Besides the table's own settings it enforces the table's resource-based
// policy: the backend's cross-account grants, or, for a backend that grants
// no one through it, no policy at all.
package locktable

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
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
	GetResourcePolicy(context.Context, *dynamodb.GetResourcePolicyInput, ...func(*dynamodb.Options)) (*dynamodb.GetResourcePolicyOutput, error)
	PutResourcePolicy(context.Context, *dynamodb.PutResourcePolicyInput, ...func(*dynamodb.Options)) (*dynamodb.PutResourcePolicyOutput, error)
	DeleteResourcePolicy(context.Context, *dynamodb.DeleteResourcePolicyInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteResourcePolicyOutput, error)
	// Scan lists the lock items before the table is deleted.
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// HashKey is the attribute Terraform's S3 backend writes lock items under.
const HashKey = "LockID"

// Spec is the table a backend wants.
type Spec struct {
	Backend string
	Table   string
	ARN     string // the table's ARN, so the verification read needs no DescribeTable first; may be ""
	KeyARN  string
	Tags    map[string]string
	// Policy is the table's resource-based policy: the backend's grants to
	// principals in other accounts. A document without statements means the
	// table must have no resource policy at all.
	Policy policydoc.Document
}

// wantsPolicy reports whether the spec asks for a resource policy.
func (s Spec) wantsPolicy() bool { return len(s.Policy.Statement) > 0 }

// Controls named in drift reports.
const (
	ControlBilling            = "lock_table_billing"
	ControlEncryption         = "lock_table_encryption"
	ControlPITR               = "lock_table_point_in_time_recovery"
	ControlDeletionProtection = "lock_table_deletion_protection"
	ControlResourcePolicy     = "lock_table_resource_policy"
)

// ControlNames lists the table's controls in order: the keys of every Drift
// report.
func ControlNames() []string {
	return []string{ControlBilling, ControlEncryption, ControlPITR, ControlDeletionProtection, ControlResourcePolicy}
}

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
	Policy             string // the resource-based policy's text; "" when the table has none
}

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	out := make(map[string]string, len(ControlNames()))
	for _, c := range ControlNames() {
		out[c] = ""
	}
	out[ControlBilling] = billingProblem(o)
	if !o.SSEEnabled || o.SSEKey != spec.KeyARN {
		out[ControlEncryption] = "table is not encrypted with the backend's KMS key"
	}
	out[ControlPITR] = pitrProblem(o)
	out[ControlDeletionProtection] = deletionProtectionProblem(o)
	out[ControlResourcePolicy] = policyDrift(spec, o.Policy)
	return out
}

// policyDrift compares the table's resource policy (have, "" for none) with
// the spec's, by meaning: "" when they agree.
func policyDrift(spec Spec, have string) string {
	switch {
	case !spec.wantsPolicy() && have == "":
		return ""
	case !spec.wantsPolicy():
		return "a resource policy is attached but the backend grants no one through it"
	case have == "":
		return "resource policy missing"
	}
	if ok, err := policydoc.Equivalent(have, spec.Policy.String()); err != nil || !ok {
		return "resource policy differs from the backend's grants"
	}
	return ""
}

// Find reads the table, its point-in-time recovery, its tags and its
// resource-based policy; a missing table (or one being deleted) is
// awserr.ErrNotFound, whatever else failed. With the table's ARN the four
// reads run concurrently (one round trip); without it (import knows only the
// name) the tags and the policy are read after DescribeTable, with the ARN it
// reports.
func Find(ctx context.Context, api API, table, arn string) (*Observed, error) {
	o, unreadable, err := Observe(ctx, api, table, arn)
	if err != nil {
		return nil, err
	}
	if err := awserr.JoinByName(unreadable); err != nil {
		return nil, err
	}
	return o, nil
}

// ReadTags is the key of Observe's unreadable map for the table's tags,
// which are no control.
const ReadTags = "tags"

// Observe is Find for an audit: a failed read of the point-in-time recovery,
// the tags or the resource policy (access denied, most often) leaves that
// setting zero and its error in unreadable under the control's name
// (ReadTags for the tags), instead of failing the whole read. A missing
// table, or a failed DescribeTable, is an error.
func Observe(ctx context.Context, api API, table, arn string) (*Observed, map[string]error, error) {
	var (
		wg                                    sync.WaitGroup
		d                                     *dynamodb.DescribeTableOutput
		cb                                    *dynamodb.DescribeContinuousBackupsOutput
		listed                                *dynamodb.ListTagsOfResourceOutput
		policy                                string
		descErr, backupErr, tagErr, policyErr error
	)
	// byARN starts the reads that name the table by its ARN.
	byARN := func(arn string) {
		wg.Go(func() {
			if listed, tagErr = api.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: &arn}); tagErr != nil {
				tagErr = fmt.Errorf("dynamodb:ListTagsOfResource %s: %w", table, tagErr)
			}
		})
		wg.Go(func() { policy, policyErr = readPolicy(ctx, api, table, arn) })
	}
	wg.Go(func() { d, descErr = api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table}) })
	wg.Go(func() {
		if cb, backupErr = api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &table}); backupErr != nil {
			backupErr = fmt.Errorf("dynamodb:DescribeContinuousBackups %s: %w", table, backupErr)
		}
	})
	if arn != "" {
		byARN(arn)
	}
	wg.Wait()
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(descErr, &notFound):
		return nil, nil, awserr.NotFound("DynamoDB table %s", table)
	case descErr != nil:
		return nil, nil, errors.Join(fmt.Errorf("dynamodb:DescribeTable %s: %w", table, descErr), backupErr, tagErr, policyErr)
	case d.Table.TableStatus == types.TableStatusDeleting:
		return nil, nil, awserr.NotFound("DynamoDB table %s (deleting)", table)
	case arn == "":
		byARN(aws.ToString(d.Table.TableArn))
		wg.Wait()
	}
	unreadable := map[string]error{}
	for control, err := range map[string]error{ControlPITR: backupErr, ReadTags: tagErr, ControlResourcePolicy: policyErr} {
		if err != nil {
			unreadable[control] = err
		}
	}
	t := d.Table
	o := &Observed{Name: table, ARN: aws.ToString(t.TableArn), Status: t.TableStatus, DeletionProtection: aws.ToBool(t.DeletionProtectionEnabled), Billing: types.BillingModeProvisioned}
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
	if d := continuousBackups(cb); d != nil && d.PointInTimeRecoveryDescription != nil {
		o.PITR = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
	}
	o.Tags = map[string]string{}
	if listed != nil {
		for _, tg := range listed.Tags {
			o.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	o.Policy = policy
	return o, unreadable, nil
}

// continuousBackups is the description in a DescribeContinuousBackups
// answer; nil when the read failed.
func continuousBackups(cb *dynamodb.DescribeContinuousBackupsOutput) *types.ContinuousBackupsDescription {
	if cb == nil {
		return nil
	}
	return cb.ContinuousBackupsDescription
}

// readPolicy reads the table's resource-based policy: "" when it has none
// (PolicyNotFoundException, as DynamoDB and the emulator answer then).
func readPolicy(ctx context.Context, api API, table, arn string) (string, error) {
	out, err := api.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: &arn})
	var none *types.PolicyNotFoundException
	switch {
	case errors.As(err, &none):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("dynamodb:GetResourcePolicy %s: %w", table, err)
	}
	return aws.ToString(out.Policy), nil
}

// Check refuses to adopt a table that does not carry the backend's ownership
// tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("DynamoDB table %s already exists and was not created by this backend (no %s=%s tag); import it with `terraform import`, or choose another backend name",
		spec.Table, naming.OwnerTagKey, spec.Backend)
}

// Ensure makes the table match the spec, starting from have, what Find
// observed (nil: the table does not exist, and is created with every control
// but point-in-time recovery and the resource policy, which are set once it
// is ACTIVE). Without tracked (the table is not in state yet) a table without
// the ownership tag is refused. Only what differs is written; the result is
// one Find after the writes.
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	if have == nil {
		return createTable(ctx, api, spec, tracked)
	}
	return ensure(ctx, api, spec, have, tracked, false)
}

// ensure is Ensure for a table that exists; created says this Ensure made it
// moments ago, so that each write is retried while DynamoDB does not see it
// yet.
func ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked, created bool) (*Observed, error) {
	if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	if have.HashKey != HashKey {
		return nil, fmt.Errorf("DynamoDB table %s has hash key %q; Terraform's S3 backend needs %q. A table's key cannot be changed: delete or rename the table", spec.Table, have.HashKey, HashKey)
	}
	if have.Status != types.TableStatusActive {
		if err := waitActive(ctx, api, spec.Table); err != nil {
			return nil, err
		}
	}
	drift := Drift(spec, have)
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
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UpdateTable(ctx, in, retryInUse)
			return err
		}); err != nil {
			return nil, fmt.Errorf("dynamodb:UpdateTable %s: %w", spec.Table, err)
		}
		// The table is UPDATING: the other writes wait until it is ACTIVE.
		if err := waitActive(ctx, api, spec.Table); err != nil {
			return nil, err
		}
	}
	var (
		wg                         sync.WaitGroup
		pitrErr, policyErr, tagErr error
	)
	if drift[ControlPITR] != "" {
		wg.Go(func() { pitrErr = enablePITR(ctx, api, spec.Table, created) })
	}
	if drift[ControlResourcePolicy] != "" {
		wg.Go(func() {
			if spec.wantsPolicy() {
				policyErr = putPolicy(ctx, api, spec.Table, have.ARN, spec.Policy, created)
			} else {
				policyErr = deletePolicy(ctx, api, spec.Table, have.ARN, created)
			}
		})
	}
	wg.Go(func() { tagErr = syncTags(ctx, api, have.ARN, have.Tags, spec.Tags, created) })
	wg.Wait()
	if err := errors.Join(pitrErr, policyErr, tagErr); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Table, have.ARN) })
}

// createTable makes the table with its tags (in the CreateTable request
// itself: an organisation may deny creating an untagged table), encryption,
// billing and deletion protection, waits until it is ACTIVE, turns on
// point-in-time recovery and puts the resource policy (when the spec has one).
// A table found in use (the SDK's retry of a create whose reply was lost, or
// a table made meanwhile) is read and brought to the spec like any other.
// Either way the table did not exist moments ago: every write to it is
// retried while DynamoDB does not see it yet (point-in-time recovery in
// particular is refused for a while after the table turns ACTIVE).
//
// The policy is put once the table is ACTIVE rather than sent in the
// CreateTable request: the emulator (moto 5.2.5) accepts it there and keeps
// none, and a table without its grants only refuses the other accounts until
// the policy is on.
func createTable(ctx context.Context, api API, spec Spec, tracked bool) (*Observed, error) {
	out, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:                 &spec.Table,
		AttributeDefinitions:      []types.AttributeDefinition{{AttributeName: aws.String(HashKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:                 []types.KeySchemaElement{{AttributeName: aws.String(HashKey), KeyType: types.KeyTypeHash}},
		BillingMode:               types.BillingModePayPerRequest,
		DeletionProtectionEnabled: aws.Bool(true),
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KeyARN)},
		Tags:                      ddbTags(spec.Tags),
	})
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		if err := waitActive(ctx, api, spec.Table); err != nil {
			return nil, err
		}
		o, err := Find(ctx, api, spec.Table, spec.ARN)
		if err != nil {
			return nil, err
		}
		return ensure(ctx, api, spec, o, tracked, true)
	case err != nil:
		return nil, fmt.Errorf("dynamodb:CreateTable %s: %w", spec.Table, err)
	}
	if err := waitActive(ctx, api, spec.Table); err != nil {
		return nil, err
	}
	arn := spec.ARN
	if out.TableDescription != nil && out.TableDescription.TableArn != nil {
		arn = *out.TableDescription.TableArn
	}
	var (
		wg                 sync.WaitGroup
		pitrErr, policyErr error
	)
	wg.Go(func() { pitrErr = enablePITR(ctx, api, spec.Table, true) })
	if spec.wantsPolicy() {
		wg.Go(func() { policyErr = putPolicy(ctx, api, spec.Table, arn, spec.Policy, true) })
	}
	wg.Wait()
	if err := errors.Join(pitrErr, policyErr); err != nil {
		return nil, err
	}
	o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Table, spec.ARN) })
	if err != nil || !tags.Differ(o.Tags, spec.Tags) {
		return o, err
	}
	// CreateTable carried the tags; a service that dropped them (an
	// emulator) gets them again.
	if err := syncTags(ctx, api, o.ARN, o.Tags, spec.Tags, true); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Table, o.ARN) })
}

func enablePITR(ctx context.Context, api API, table string, created bool) error {
	if err := retry.AfterCreate(ctx, created, func() error {
		_, err := api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        &table,
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
		})
		return err
	}); err != nil {
		return fmt.Errorf("dynamodb:UpdateContinuousBackups %s: %w", table, err)
	}
	return nil
}

// putPolicy puts the spec's resource policy on the table; created says the
// table was made moments ago by this Ensure. The write names no expected
// revision: whatever policy the table has now, read before or written since,
// is replaced, so DynamoDB has no revision to refuse it with
// (PolicyNotFoundException). A table still UPDATING answers
// ResourceInUseException, which is retried.
func putPolicy(ctx context.Context, api API, table, arn string, policy policydoc.Document, created bool) error {
	text := policy.String()
	if err := retry.AfterCreate(ctx, created, func() error {
		_, err := api.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: &arn, Policy: &text}, retryInUse)
		return err
	}); err != nil {
		return fmt.Errorf("dynamodb:PutResourcePolicy %s: %w", table, err)
	}
	return nil
}

// deletePolicy removes the table's resource policy; created as for putPolicy.
// A policy removed meanwhile counts as removed: DynamoDB answers success, a
// revision mismatch would be PolicyNotFoundException, and the emulator (moto
// 5.2.5) answers ResourceNotFoundException for a table without a policy.
// That code also means the table is gone, which leaves no policy either; the
// read after the writes reports the table then.
func deletePolicy(ctx context.Context, api API, table, arn string, created bool) error {
	err := retry.AfterCreate(ctx, created, func() error {
		_, err := api.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: &arn}, retryInUse)
		return err
	})
	var (
		none     *types.PolicyNotFoundException
		notFound *types.ResourceNotFoundException
	)
	if err != nil && !errors.As(err, &none) && !errors.As(err, &notFound) {
		return fmt.Errorf("dynamodb:DeleteResourcePolicy %s: %w", table, err)
	}
	return nil
}

// retryInUse makes the SDK's retryer also retry ResourceInUseException for
// one call: DynamoDB answers it to a change of a table that another change
// is still updating. It is not the provider-wide default, because CreateTable
// answers it for a table that already exists, which createTable adopts at
// once.
func retryInUse(o *dynamodb.Options) {
	if o.Retryer != nil {
		o.Retryer = awsretry.AddWithErrorCodes(o.Retryer, "ResourceInUseException")
	}
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

// syncTags turns the table's tags from have into want; created says the
// table was made moments ago by this Ensure (see write).
func syncTags(ctx context.Context, api API, arn string, have, want map[string]string, created bool) error {
	return tags.Apply(have, want, func(keys []string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: &arn, TagKeys: keys}, retryInUse)
			return err
		}); err != nil {
			return fmt.Errorf("dynamodb:UntagResource %s: %w", arn, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: &arn, Tags: ddbTags(set)}, retryInUse)
			return err
		}); err != nil {
			return fmt.Errorf("dynamodb:TagResource %s: %w", arn, err)
		}
		return nil
	})
}

// Delete lifts deletion protection and deletes the table; a table already gone
// counts as deleted. A table in which a run holds a state lock is refused
// first (CheckNoLocks), before its deletion protection is lifted.
func Delete(ctx context.Context, api API, table string) error {
	if err := CheckNoLocks(ctx, api, table); err != nil {
		return err
	}
	_, err := api.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table, DeletionProtectionEnabled: aws.Bool(false)}, retryInUse)
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb:UpdateTable %s (lifting deletion protection): %w", table, err)
	}
	_, err = api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("dynamodb:DeleteTable %s: %w", table, err)
	}
	return nil
}
