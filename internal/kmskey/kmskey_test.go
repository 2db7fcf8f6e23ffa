package kmskey

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// fakeKeys answers the listing calls keysMadeSince makes; any other call panics
// through the nil embedded interface.
type fakeKeys struct {
	API
	keys    map[string]types.KeyMetadata
	tags    map[string]map[string]string
	aliased map[string]bool
}

func (f fakeKeys) ListAliases(context.Context, *kms.ListAliasesInput, ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	out := &kms.ListAliasesOutput{}
	for id := range f.aliased {
		out.Aliases = append(out.Aliases, types.AliasListEntry{AliasName: aws.String("alias/" + id), TargetKeyId: aws.String(id)})
	}
	return out, nil
}

func (f fakeKeys) ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error) {
	out := &kms.ListKeysOutput{}
	for id := range f.keys {
		out.Keys = append(out.Keys, types.KeyListEntry{KeyId: aws.String(id)})
	}
	return out, nil
}

func (f fakeKeys) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	m := f.keys[aws.ToString(in.KeyId)]
	return &kms.DescribeKeyOutput{KeyMetadata: &m}, nil
}

func (f fakeKeys) ListResourceTags(_ context.Context, in *kms.ListResourceTagsInput, _ ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error) {
	out := &kms.ListResourceTagsOutput{}
	for k, v := range f.tags[aws.ToString(in.KeyId)] {
		out.Tags = append(out.Tags, types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)})
	}
	return out, nil
}

func TestKeysMadeSince(t *testing.T) {
	since := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	key := func(created time.Time, state types.KeyState, manager types.KeyManagerType) types.KeyMetadata {
		return types.KeyMetadata{CreationDate: aws.Time(created), KeyState: state, KeyManager: manager}
	}
	f := fakeKeys{
		keys: map[string]types.KeyMetadata{
			"newest":    key(since.Add(2*time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer),
			"newer":     key(since.Add(time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer),
			"older":     key(since.Add(-time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer), // before the call
			"aliased":   key(since.Add(time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer),  // in use
			"pending":   key(since.Add(time.Second), types.KeyStatePendingDeletion, types.KeyManagerTypeCustomer),
			"other":     key(since.Add(time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer), // another backend
			"untagged":  key(since.Add(time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer),
			"aws-owned": key(since.Add(time.Second), types.KeyStateEnabled, types.KeyManagerTypeAws),
			"tofu-dev":  key(since.Add(3*time.Second), types.KeyStateEnabled, types.KeyManagerTypeCustomer), // this backend's, another purpose
		},
		tags:    map[string]map[string]string{},
		aliased: map[string]bool{"aliased": true},
	}
	for id := range f.keys {
		f.tags[id] = map[string]string{naming.OwnerTagKey: "acme"}
	}
	f.tags["other"] = map[string]string{naming.OwnerTagKey: "acme-2"}
	f.tags["untagged"] = nil
	f.tags["tofu-dev"] = map[string]string{naming.OwnerTagKey: "acme", naming.KeyPurposeTagKey: naming.TofuEncryptionKeyPurpose("dev")}

	got, err := keysMadeSince(context.Background(), f, "acme", "", since)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"newest", "newer"}; !slices.Equal(got, want) {
		t.Errorf("keysMadeSince = %v, want %v (newest first; only enabled, unaliased customer keys of this backend made since the call began, "+
			"without a purpose: the state key's create never adopts an encryption key made beside it)", got, want)
	}
	// An environment's encryption key is recognised by its purpose only.
	got, err = keysMadeSince(context.Background(), f, "acme", naming.TofuEncryptionKeyPurpose("dev"), since)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tofu-dev"}; !slices.Equal(got, want) {
		t.Errorf("keysMadeSince(purpose tofu-encryption/dev) = %v, want %v", got, want)
	}
}

// The emulator neither stores a rotation period nor reports a deletion
// window, so both are proven against fakes that record the calls: the drift
// of the period here, that Ensure sends it in TestEnsureSetsTheRotationPeriod
// (ensure_test.go), the deletion window in TestDeleteSchedulesWithTheWindow.
func TestDriftRotationPeriod(t *testing.T) {
	spec := Spec{RotationPeriodDays: 180}
	o := &Observed{RotationEnabled: true, RotationPeriodDays: 365}
	if got := Drift(spec, o)[ControlRotation]; got != "rotation period is 365 days" {
		t.Errorf("rotation drift = %q", got)
	}
	o.RotationPeriodDays = 0 // not reported (the emulator): not drift, Ensure sets it anyway
	if got := Drift(spec, o)[ControlRotation]; got != "" {
		t.Errorf("unreported period: rotation drift = %q", got)
	}
	o.RotationEnabled = false
	if got := Drift(spec, o)[ControlRotation]; got != "automatic rotation is off" {
		t.Errorf("rotation off: drift = %q", got)
	}
}

type recordingKeys struct {
	fakeKeys
	scheduled map[string]int32
	deleted   []string
}

func (f *recordingKeys) DeleteAlias(_ context.Context, in *kms.DeleteAliasInput, _ ...func(*kms.Options)) (*kms.DeleteAliasOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.AliasName))
	return &kms.DeleteAliasOutput{}, nil
}

func (f *recordingKeys) ScheduleKeyDeletion(_ context.Context, in *kms.ScheduleKeyDeletionInput, _ ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error) {
	f.scheduled[aws.ToString(in.KeyId)] = aws.ToInt32(in.PendingWindowInDays)
	return &kms.ScheduleKeyDeletionOutput{}, nil
}

func (f *recordingKeys) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	if aws.ToString(in.KeyId) == "alias/acme-tfstate" {
		return &kms.DescribeKeyOutput{KeyMetadata: &types.KeyMetadata{KeyId: aws.String("k1")}}, nil
	}
	return f.fakeKeys.DescribeKey(context.Background(), in)
}

func TestDeleteSchedulesWithTheWindow(t *testing.T) {
	f := &recordingKeys{scheduled: map[string]int32{}}
	if err := Delete(context.Background(), f, "k1", "alias/acme-tfstate", 21); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.deleted, []string{"alias/acme-tfstate"}) || f.scheduled["k1"] != 21 {
		t.Errorf("deleted aliases %v, scheduled %v; want the alias deleted and k1 scheduled with 21 days", f.deleted, f.scheduled)
	}
	// An alias that points to another key (a replacement) is left alone.
	f = &recordingKeys{scheduled: map[string]int32{}}
	if err := Delete(context.Background(), f, "k0", "alias/acme-tfstate", 7); err != nil {
		t.Fatal(err)
	}
	if len(f.deleted) != 0 || f.scheduled["k0"] != 7 {
		t.Errorf("deleted aliases %v, scheduled %v; want no alias deleted and k0 scheduled with 7 days", f.deleted, f.scheduled)
	}
}
