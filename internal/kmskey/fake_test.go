package kmskey

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// fakeKMS is an in-memory KMS that keeps keys, aliases, policies, rotation and
// tags as AWS does, and records the calls and the inputs of every write.
type fakeKMS struct {
	mu sync.Mutex // Find and Ensure call concurrently

	keys    map[string]*fakeKey
	order   []string          // key IDs in creation order (ListKeys)
	aliases map[string]string // alias name → key ID

	// reportPeriod makes GetKeyRotationStatus report the rotation period, as
	// AWS does (the emulator does not).
	reportPeriod bool
	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds); "DescribeKey <ref>" holds those of DescribeKey of one
	// key or alias, answered before the operation's. lost holds errors CreateKey returns after making the
	// key anyway: a reply lost on the way back.
	fail map[string][]error
	lost []error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a key KMS never sees.
	always map[string]error
	// lostAlias: CreateAlias makes the alias and answers AlreadyExists, as
	// the SDK's retry of a CreateAlias whose first reply was lost does.
	lostAlias bool
	// dropCreateTags: CreateKey accepts tags and keeps none, as a service
	// (or an emulator) that ignores tags on create would.
	dropCreateTags bool

	calls     []string
	created   []*kms.CreateKeyInput
	rotations []*kms.EnableKeyRotationInput
	policies  []*kms.PutKeyPolicyInput
	tagged    []*kms.TagResourceInput
	untagged  []*kms.UntagResourceInput
	scheduled map[string]int32 // key ID → pending window in days
}

type fakeKey struct {
	meta     types.KeyMetadata
	policy   string
	rotation bool
	period   int32
	tags     map[string]string
}

var _ API = (*fakeKMS)(nil)

func newFakeKMS() *fakeKMS {
	return &fakeKMS{keys: map[string]*fakeKey{}, aliases: map[string]string{}, fail: map[string][]error{}, always: map[string]error{}, scheduled: map[string]int32{}}
}

// apiError is the error KMS answers with code: the SDK's typed error where
// KMS has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "NotFoundException":
		return &types.NotFoundException{Message: msg}
	case "AlreadyExistsException":
		return &types.AlreadyExistsException{Message: msg}
	case "KMSInvalidStateException":
		return &types.KMSInvalidStateException{Message: msg}
	case "MalformedPolicyDocumentException":
		return &types.MalformedPolicyDocumentException{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

// call records op and returns the error queued for it, if any.
func (f *fakeKMS) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeKMS) count(op string) int {
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// addKey stores an enabled key as if made earlier; it returns its ID.
func (f *fakeKMS) addKey(created time.Time, tags map[string]string) string {
	id := fmt.Sprintf("key-%d", len(f.order)+1)
	f.keys[id] = &fakeKey{
		meta: types.KeyMetadata{
			KeyId: aws.String(id), Arn: aws.String("arn:aws:kms:us-east-1:123456789012:key/" + id),
			KeyState: types.KeyStateEnabled, KeyManager: types.KeyManagerTypeCustomer, CreationDate: aws.Time(created),
		},
		tags: map[string]string{},
	}
	for k, v := range tags {
		f.keys[id].tags[k] = v
	}
	f.order = append(f.order, id)
	return id
}

// key resolves a key ID, key ARN or alias name.
func (f *fakeKMS) key(ref string) (*fakeKey, error) {
	if id, ok := f.aliases[ref]; ok {
		ref = id
	}
	for id, k := range f.keys {
		if ref == id || ref == aws.ToString(k.meta.Arn) {
			return k, nil
		}
	}
	return nil, apiError("NotFoundException")
}

func (f *fakeKMS) CreateKey(_ context.Context, in *kms.CreateKeyInput, _ ...func(*kms.Options)) (*kms.CreateKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateKey"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	tags := map[string]string{}
	for _, t := range in.Tags {
		if !f.dropCreateTags {
			tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
	}
	// Keys made by one Ensure are a second apart, newest last.
	id := f.addKey(time.Now().Add(time.Duration(len(f.order))*time.Second), tags)
	f.keys[id].policy = aws.ToString(in.Policy)
	if len(f.lost) > 0 {
		err := f.lost[0]
		f.lost = f.lost[1:]
		return nil, err
	}
	meta := f.keys[id].meta
	return &kms.CreateKeyOutput{KeyMetadata: &meta}, nil
}

func (f *fakeKMS) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.fail["DescribeKey "+aws.ToString(in.KeyId)]; len(q) > 0 {
		f.fail["DescribeKey "+aws.ToString(in.KeyId)] = q[1:]
		if q[0] != nil {
			f.calls = append(f.calls, "DescribeKey")
			return nil, q[0]
		}
	}
	if err := f.call("DescribeKey"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	meta := k.meta
	return &kms.DescribeKeyOutput{KeyMetadata: &meta}, nil
}

func (f *fakeKMS) CreateAlias(_ context.Context, in *kms.CreateAliasInput, _ ...func(*kms.Options)) (*kms.CreateAliasOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateAlias"); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AliasName)
	if _, ok := f.aliases[name]; ok {
		return nil, apiError("AlreadyExistsException")
	}
	k, err := f.key(aws.ToString(in.TargetKeyId))
	if err != nil {
		return nil, err
	}
	f.aliases[name] = aws.ToString(k.meta.KeyId)
	if f.lostAlias {
		return nil, apiError("AlreadyExistsException")
	}
	return &kms.CreateAliasOutput{}, nil
}

func (f *fakeKMS) UpdateAlias(_ context.Context, in *kms.UpdateAliasInput, _ ...func(*kms.Options)) (*kms.UpdateAliasOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateAlias"); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AliasName)
	if _, ok := f.aliases[name]; !ok {
		return nil, apiError("NotFoundException")
	}
	k, err := f.key(aws.ToString(in.TargetKeyId))
	if err != nil {
		return nil, err
	}
	f.aliases[name] = aws.ToString(k.meta.KeyId)
	return &kms.UpdateAliasOutput{}, nil
}

func (f *fakeKMS) DeleteAlias(_ context.Context, in *kms.DeleteAliasInput, _ ...func(*kms.Options)) (*kms.DeleteAliasOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteAlias"); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AliasName)
	if _, ok := f.aliases[name]; !ok {
		return nil, apiError("NotFoundException")
	}
	delete(f.aliases, name)
	return &kms.DeleteAliasOutput{}, nil
}

func (f *fakeKMS) GetKeyPolicy(_ context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetKeyPolicy"); err != nil {
		return nil, err
	}
	if aws.ToString(in.PolicyName) != "default" {
		return nil, apiError("NotFoundException")
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	return &kms.GetKeyPolicyOutput{Policy: aws.String(k.policy), PolicyName: in.PolicyName}, nil
}

func (f *fakeKMS) PutKeyPolicy(_ context.Context, in *kms.PutKeyPolicyInput, _ ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutKeyPolicy"); err != nil {
		return nil, err
	}
	f.policies = append(f.policies, in)
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.PolicyName) == "default" {
		k.policy = aws.ToString(in.Policy)
	}
	return &kms.PutKeyPolicyOutput{}, nil
}

func (f *fakeKMS) GetKeyRotationStatus(_ context.Context, in *kms.GetKeyRotationStatusInput, _ ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetKeyRotationStatus"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	out := &kms.GetKeyRotationStatusOutput{KeyId: k.meta.KeyId, KeyRotationEnabled: k.rotation}
	if f.reportPeriod && k.rotation {
		out.RotationPeriodInDays = aws.Int32(k.period)
	}
	return out, nil
}

// EnableKeyRotation keeps the period asked for, or KMS's default of 365 days
// when none is given.
func (f *fakeKMS) EnableKeyRotation(_ context.Context, in *kms.EnableKeyRotationInput, _ ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("EnableKeyRotation"); err != nil {
		return nil, err
	}
	f.rotations = append(f.rotations, in)
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	k.rotation, k.period = true, 365
	if in.RotationPeriodInDays != nil {
		k.period = *in.RotationPeriodInDays
	}
	return &kms.EnableKeyRotationOutput{}, nil
}

func (f *fakeKMS) ListResourceTags(_ context.Context, in *kms.ListResourceTagsInput, _ ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListResourceTags"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	out := &kms.ListResourceTagsOutput{}
	for key, v := range k.tags {
		out.Tags = append(out.Tags, types.Tag{TagKey: aws.String(key), TagValue: aws.String(v)})
	}
	return out, nil
}

func (f *fakeKMS) TagResource(_ context.Context, in *kms.TagResourceInput, _ ...func(*kms.Options)) (*kms.TagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagResource"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		k.tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
	}
	return &kms.TagResourceOutput{}, nil
}

func (f *fakeKMS) UntagResource(_ context.Context, in *kms.UntagResourceInput, _ ...func(*kms.Options)) (*kms.UntagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagResource"); err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, in)
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	for _, key := range in.TagKeys {
		delete(k.tags, key)
	}
	return &kms.UntagResourceOutput{}, nil
}

func (f *fakeKMS) ScheduleKeyDeletion(_ context.Context, in *kms.ScheduleKeyDeletionInput, _ ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ScheduleKeyDeletion"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	if k.meta.KeyState == types.KeyStatePendingDeletion {
		return nil, apiError("KMSInvalidStateException")
	}
	k.meta.KeyState = types.KeyStatePendingDeletion
	f.scheduled[aws.ToString(k.meta.KeyId)] = aws.ToInt32(in.PendingWindowInDays)
	return &kms.ScheduleKeyDeletionOutput{}, nil
}

func (f *fakeKMS) CancelKeyDeletion(_ context.Context, in *kms.CancelKeyDeletionInput, _ ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CancelKeyDeletion"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	k.meta.KeyState = types.KeyStateDisabled
	return &kms.CancelKeyDeletionOutput{}, nil
}

func (f *fakeKMS) EnableKey(_ context.Context, in *kms.EnableKeyInput, _ ...func(*kms.Options)) (*kms.EnableKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("EnableKey"); err != nil {
		return nil, err
	}
	k, err := f.key(aws.ToString(in.KeyId))
	if err != nil {
		return nil, err
	}
	if k.meta.KeyState != types.KeyStateDisabled {
		return nil, apiError("KMSInvalidStateException")
	}
	k.meta.KeyState = types.KeyStateEnabled
	return &kms.EnableKeyOutput{}, nil
}

func (f *fakeKMS) ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListKeys"); err != nil {
		return nil, err
	}
	out := &kms.ListKeysOutput{}
	for _, id := range f.order {
		out.Keys = append(out.Keys, types.KeyListEntry{KeyId: aws.String(id), KeyArn: f.keys[id].meta.Arn})
	}
	return out, nil
}

func (f *fakeKMS) ListAliases(context.Context, *kms.ListAliasesInput, ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListAliases"); err != nil {
		return nil, err
	}
	out := &kms.ListAliasesOutput{}
	for name, id := range f.aliases {
		out.Aliases = append(out.Aliases, types.AliasListEntry{AliasName: aws.String(name), TargetKeyId: aws.String(id)})
	}
	return out, nil
}

// writes lists the calls that change something, in order.
func (f *fakeKMS) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Describe") && !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}
