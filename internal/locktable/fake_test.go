package locktable

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// fakeDynamoDB is an in-memory DynamoDB holding at most one table, recording
// the calls and the inputs of every write.
type fakeDynamoDB struct {
	mu sync.Mutex // the finders call concurrently

	table *fakeTable // nil: no table

	// creating is how many DescribeTable calls see a new or updated table as
	// CREATING/UPDATING before it turns ACTIVE.
	creating int
	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds). lost holds errors CreateTable returns after making the
	// table anyway.
	fail map[string][]error
	lost []error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a table DynamoDB never sees.
	always map[string]error
	// inUseRetried records, per operation, whether the options of its last
	// call make the SDK's retryer retry ResourceInUseException.
	inUseRetried map[string]bool
	// dropCreateTags: CreateTable accepts tags and keeps none, as a service
	// (or an emulator) that ignores tags on create would.
	dropCreateTags bool

	calls    []string
	created  []*dynamodb.CreateTableInput
	updated  []*dynamodb.UpdateTableInput
	backups  []*dynamodb.UpdateContinuousBackupsInput
	tagged   []*dynamodb.TagResourceInput
	untagged []*dynamodb.UntagResourceInput
	puts     []*dynamodb.PutResourcePolicyInput
	removals []*dynamodb.DeleteResourcePolicyInput
	scans    []*dynamodb.ScanInput
	deleted  int
	// scanPage is how many items one Scan page holds (0: all of them).
	scanPage int
	// revisions counts the policy revisions written, for their IDs.
	revisions int
}

type fakeTable struct {
	name, arn, hashKey  string
	status              types.TableStatus
	billing             *types.BillingMode // nil: no summary (provisioned tables made long ago)
	sse                 *types.SSEDescription
	pitr                bool
	deletionProtection  bool
	tags                map[string]string
	policy, revision    string // the resource policy and its revision ID; "" for none
	describesUntilReady int
	// items are the table's items in the order Scan returns them.
	items []map[string]types.AttributeValue
}

var _ API = (*fakeDynamoDB)(nil)

func newFake() *fakeDynamoDB {
	return &fakeDynamoDB{fail: map[string][]error{}, always: map[string]error{}, inUseRetried: map[string]bool{}}
}

// apiError is the error DynamoDB answers with code: the SDK's typed error
// where DynamoDB has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "ResourceNotFoundException":
		return &types.ResourceNotFoundException{Message: msg}
	case "ResourceInUseException":
		return &types.ResourceInUseException{Message: msg}
	case "PolicyNotFoundException":
		return &types.PolicyNotFoundException{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

func (f *fakeDynamoDB) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeDynamoDB) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// noteRetryer records whether the call options of op, applied to a client
// with the SDK's standard retryer, retry ResourceInUseException.
func (f *fakeDynamoDB) noteRetryer(op string, optFns []func(*dynamodb.Options)) {
	o := dynamodb.Options{Retryer: awsretry.NewStandard()}
	for _, fn := range optFns {
		fn(&o)
	}
	f.inUseRetried[op] = o.Retryer.IsErrorRetryable(apiError("ResourceInUseException"))
}

// hardened stores a table that matches spec.
func (f *fakeDynamoDB) hardened(spec Spec) *fakeTable {
	billing := types.BillingModePayPerRequest
	f.table = &fakeTable{
		name: spec.Table, arn: "arn:aws:dynamodb:us-east-1:123456789012:table/" + spec.Table, hashKey: HashKey,
		status: types.TableStatusActive, billing: &billing,
		sse:  &types.SSEDescription{Status: types.SSEStatusEnabled, SSEType: types.SSETypeKms, KMSMasterKeyArn: aws.String(spec.KeyARN)},
		pitr: true, deletionProtection: true, tags: map[string]string{},
	}
	for k, v := range spec.Tags {
		f.table.tags[k] = v
	}
	if spec.wantsPolicy() {
		f.setPolicy(spec.Policy.String())
	}
	return f.table
}

// setPolicy attaches a resource policy to the table, with a new revision ID
// unless it is the policy it has (DynamoDB keeps the revision of a policy put
// again).
func (f *fakeDynamoDB) setPolicy(text string) {
	if f.table.policy != text {
		f.revisions++
		f.table.policy, f.table.revision = text, strconv.Itoa(f.revisions)
	}
}

func (f *fakeDynamoDB) get(name string) (*fakeTable, error) {
	if f.table == nil || f.table.name != name {
		return nil, apiError("ResourceNotFoundException")
	}
	return f.table, nil
}

func (f *fakeDynamoDB) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("CreateTable", optFns)
	if err := f.call("CreateTable"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	if f.table != nil {
		return nil, apiError("ResourceInUseException")
	}
	t := &fakeTable{name: aws.ToString(in.TableName), arn: "arn:aws:dynamodb:us-east-1:123456789012:table/" + aws.ToString(in.TableName),
		status: types.TableStatusCreating, deletionProtection: aws.ToBool(in.DeletionProtectionEnabled), tags: map[string]string{},
		describesUntilReady: f.creating}
	for _, k := range in.KeySchema {
		if k.KeyType == types.KeyTypeHash {
			t.hashKey = aws.ToString(k.AttributeName)
		}
	}
	if in.BillingMode != "" {
		b := in.BillingMode
		t.billing = &b
	}
	if s := in.SSESpecification; s != nil && aws.ToBool(s.Enabled) {
		t.sse = &types.SSEDescription{Status: types.SSEStatusEnabled, SSEType: s.SSEType, KMSMasterKeyArn: s.KMSMasterKeyId}
	}
	for _, tg := range in.Tags {
		if !f.dropCreateTags {
			t.tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	f.table = t
	if len(f.lost) > 0 {
		err := f.lost[0]
		f.lost = f.lost[1:]
		return nil, err
	}
	return &dynamodb.CreateTableOutput{TableDescription: &types.TableDescription{
		TableName: aws.String(t.name), TableArn: aws.String(t.arn), TableStatus: t.status,
	}}, nil
}

func (f *fakeDynamoDB) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeTable"); err != nil {
		return nil, err
	}
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	if t.describesUntilReady > 0 {
		t.describesUntilReady--
	} else if t.status != types.TableStatusDeleting {
		t.status = types.TableStatusActive
	}
	d := &types.TableDescription{
		TableName: aws.String(t.name), TableArn: aws.String(t.arn), TableStatus: t.status,
		KeySchema:                 []types.KeySchemaElement{{AttributeName: aws.String(t.hashKey), KeyType: types.KeyTypeHash}},
		DeletionProtectionEnabled: aws.Bool(t.deletionProtection), SSEDescription: t.sse,
	}
	if t.billing != nil {
		d.BillingModeSummary = &types.BillingModeSummary{BillingMode: *t.billing}
	}
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

func (f *fakeDynamoDB) UpdateTable(_ context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("UpdateTable", optFns)
	if err := f.call("UpdateTable"); err != nil {
		return nil, err
	}
	f.updated = append(f.updated, in)
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	if in.BillingMode != "" {
		b := in.BillingMode
		t.billing = &b
	}
	if in.DeletionProtectionEnabled != nil {
		t.deletionProtection = *in.DeletionProtectionEnabled
	}
	if s := in.SSESpecification; s != nil {
		t.sse = &types.SSEDescription{Status: types.SSEStatusEnabled, SSEType: s.SSEType, KMSMasterKeyArn: s.KMSMasterKeyId}
	}
	t.status, t.describesUntilReady = types.TableStatusUpdating, f.creating
	return &dynamodb.UpdateTableOutput{}, nil
}

func (f *fakeDynamoDB) DeleteTable(_ context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteTable"); err != nil {
		return nil, err
	}
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	if t.deletionProtection {
		return nil, apiError("ValidationException")
	}
	f.deleted++
	f.table = nil
	return &dynamodb.DeleteTableOutput{}, nil
}

func (f *fakeDynamoDB) DescribeContinuousBackups(_ context.Context, in *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeContinuousBackups"); err != nil {
		return nil, err
	}
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	status := types.PointInTimeRecoveryStatusDisabled
	if t.pitr {
		status = types.PointInTimeRecoveryStatusEnabled
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		ContinuousBackupsStatus:        types.ContinuousBackupsStatusEnabled,
		PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: status},
	}}, nil
}

func (f *fakeDynamoDB) UpdateContinuousBackups(_ context.Context, in *dynamodb.UpdateContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateContinuousBackups"); err != nil {
		return nil, err
	}
	f.backups = append(f.backups, in)
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	t.pitr = aws.ToBool(in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled)
	return &dynamodb.UpdateContinuousBackupsOutput{}, nil
}

func (f *fakeDynamoDB) byARN(arn string) (*fakeTable, error) {
	if f.table == nil || f.table.arn != arn {
		return nil, apiError("ResourceNotFoundException")
	}
	return f.table, nil
}

func (f *fakeDynamoDB) ListTagsOfResource(_ context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTagsOfResource"); err != nil {
		return nil, err
	}
	t, err := f.byARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	out := &dynamodb.ListTagsOfResourceOutput{}
	for k, v := range t.tags {
		out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeDynamoDB) TagResource(_ context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("TagResource", optFns)
	if err := f.call("TagResource"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	t, err := f.byARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, tg := range in.Tags {
		t.tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return &dynamodb.TagResourceOutput{}, nil
}

func (f *fakeDynamoDB) UntagResource(_ context.Context, in *dynamodb.UntagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UntagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("UntagResource", optFns)
	if err := f.call("UntagResource"); err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, in)
	t, err := f.byARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(t.tags, k)
	}
	return &dynamodb.UntagResourceOutput{}, nil
}

func (f *fakeDynamoDB) GetResourcePolicy(_ context.Context, in *dynamodb.GetResourcePolicyInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetResourcePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetResourcePolicy"); err != nil {
		return nil, err
	}
	t, err := f.byARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	if t.policy == "" {
		return nil, apiError("PolicyNotFoundException")
	}
	return &dynamodb.GetResourcePolicyOutput{Policy: aws.String(t.policy), RevisionId: aws.String(t.revision)}, nil
}

func (f *fakeDynamoDB) PutResourcePolicy(_ context.Context, in *dynamodb.PutResourcePolicyInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutResourcePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("PutResourcePolicy", optFns)
	if err := f.call("PutResourcePolicy"); err != nil {
		return nil, err
	}
	f.puts = append(f.puts, in)
	if _, err := f.byARN(aws.ToString(in.ResourceArn)); err != nil {
		return nil, err
	}
	f.setPolicy(aws.ToString(in.Policy))
	return &dynamodb.PutResourcePolicyOutput{RevisionId: aws.String(f.table.revision)}, nil
}

// DeleteResourcePolicy answers as DynamoDB does: removing no policy succeeds.
func (f *fakeDynamoDB) DeleteResourcePolicy(_ context.Context, in *dynamodb.DeleteResourcePolicyInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteResourcePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteRetryer("DeleteResourcePolicy", optFns)
	if err := f.call("DeleteResourcePolicy"); err != nil {
		return nil, err
	}
	f.removals = append(f.removals, in)
	t, err := f.byARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	t.policy, t.revision = "", ""
	return &dynamodb.DeleteResourcePolicyOutput{}, nil
}

// put stores an item with the given LockID and, unless info is "", an Info
// attribute (a lock's LockInfo JSON; digest items have Digest instead).
func (t *fakeTable) put(lockID, info string) {
	item := map[string]types.AttributeValue{HashKey: &types.AttributeValueMemberS{Value: lockID}}
	if info != "" {
		item["Info"] = &types.AttributeValueMemberS{Value: info}
	} else {
		item["Digest"] = &types.AttributeValueMemberS{Value: "d41d8cd98f00b204e9800998ecf8427e"}
	}
	t.items = append(t.items, item)
}

// Scan pages through the items, scanPage at a time, resuming after
// ExclusiveStartKey's LockID as DynamoDB resumes after LastEvaluatedKey.
func (f *fakeDynamoDB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Scan"); err != nil {
		return nil, err
	}
	f.scans = append(f.scans, in)
	t, err := f.get(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	start := 0
	if k := stringAttr(in.ExclusiveStartKey, HashKey); k != "" {
		for i, item := range t.items {
			if stringAttr(item, HashKey) == k {
				start = i + 1
			}
		}
	}
	end := len(t.items)
	if f.scanPage > 0 && start+f.scanPage < end {
		end = start + f.scanPage
	}
	out := &dynamodb.ScanOutput{Items: t.items[start:end], Count: int32(end - start)}
	if end < len(t.items) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{HashKey: t.items[end-1][HashKey]}
	}
	return out, nil
}

// writes lists the calls that change something, in order.
func (f *fakeDynamoDB) writes() []string {
	var out []string
	for _, c := range f.calls {
		switch c {
		case "DescribeTable", "DescribeContinuousBackups", "ListTagsOfResource", "GetResourcePolicy", "Scan":
		default:
			out = append(out, c)
		}
	}
	return out
}
