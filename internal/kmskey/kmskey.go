// Package kmskey manages a backend's customer managed KMS key and its alias:
// ensure (create or adopt, then harden), find, drift and delete.
package kmskey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the KMS client this package uses.
type API interface {
	CreateKey(context.Context, *kms.CreateKeyInput, ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	CreateAlias(context.Context, *kms.CreateAliasInput, ...func(*kms.Options)) (*kms.CreateAliasOutput, error)
	UpdateAlias(context.Context, *kms.UpdateAliasInput, ...func(*kms.Options)) (*kms.UpdateAliasOutput, error)
	DeleteAlias(context.Context, *kms.DeleteAliasInput, ...func(*kms.Options)) (*kms.DeleteAliasOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
	PutKeyPolicy(context.Context, *kms.PutKeyPolicyInput, ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error)
	GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	EnableKeyRotation(context.Context, *kms.EnableKeyRotationInput, ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error)
	ListResourceTags(context.Context, *kms.ListResourceTagsInput, ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error)
	TagResource(context.Context, *kms.TagResourceInput, ...func(*kms.Options)) (*kms.TagResourceOutput, error)
	UntagResource(context.Context, *kms.UntagResourceInput, ...func(*kms.Options)) (*kms.UntagResourceOutput, error)
	ScheduleKeyDeletion(context.Context, *kms.ScheduleKeyDeletionInput, ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error)
	CancelKeyDeletion(context.Context, *kms.CancelKeyDeletionInput, ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error)
	EnableKey(context.Context, *kms.EnableKeyInput, ...func(*kms.Options)) (*kms.EnableKeyOutput, error)
	ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error)
	ListAliases(context.Context, *kms.ListAliasesInput, ...func(*kms.Options)) (*kms.ListAliasesOutput, error)
}

// Spec is the key a backend wants.
type Spec struct {
	Backend string
	Alias   string
	// Purpose is "" for the backend's state key; another key of the backend
	// (an environment's OpenTofu encryption key) names its purpose, which
	// goes into the description and the naming.KeyPurposeTagKey tag, so an
	// interrupted create of one key never adopts another key of the backend
	// made at the same time.
	Purpose            string
	Description        string // "" gives the state key's description
	Policy             policydoc.Document
	RotationPeriodDays int32
	Tags               map[string]string
}

// Observed is what exists.
type Observed struct {
	KeyID              string
	ARN                string
	State              types.KeyState
	RotationEnabled    bool
	RotationPeriodDays int32 // 0 when the service does not report it
	Policy             string
	AliasTarget        string // key ID the alias points to; "" without alias
	Tags               map[string]string
	Manager            types.KeyManagerType // CUSTOMER or AWS (aws/s3 and the like)
}

// Controls named in drift reports.
const (
	ControlState    = "kms_key_state"
	ControlRotation = "kms_key_rotation"
	ControlPolicy   = "kms_key_policy"
	ControlAlias    = "kms_alias"
)

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	out := map[string]string{ControlState: stateProblem(o), ControlRotation: rotationProblem(o), ControlPolicy: "", ControlAlias: aliasProblem(o, spec.Alias)}
	if out[ControlRotation] == "" && o.RotationPeriodDays != 0 && o.RotationPeriodDays != spec.RotationPeriodDays {
		out[ControlRotation] = fmt.Sprintf("rotation period is %d days", o.RotationPeriodDays)
	}
	if ok, err := policydoc.Equivalent(o.Policy, spec.Policy.String()); err != nil || !ok {
		out[ControlPolicy] = "key policy differs from the hardened policy"
	}
	return out
}

// stateProblem: "" when the key is enabled. Drift and Posture share it.
func stateProblem(o *Observed) string {
	if o.State != types.KeyStateEnabled {
		return fmt.Sprintf("key is %s", o.State)
	}
	return ""
}

// rotationProblem: "" when automatic rotation is on (Drift also checks the
// period the spec asks for).
func rotationProblem(o *Observed) string {
	if !o.RotationEnabled {
		return "automatic rotation is off"
	}
	return ""
}

// aliasProblem: "" when alias points to the key.
func aliasProblem(o *Observed, alias string) string {
	switch o.AliasTarget {
	case o.KeyID:
		return ""
	case "":
		return alias + " is missing"
	}
	return alias + " points to another key"
}

// Find reads the key, its rotation, its policy, its tags and the key its
// alias points to ("" for no alias to look up). ref is the key's ID, its ARN,
// an alias name ("alias/...") or an alias ARN. With an ID or ARN the five reads run
// concurrently (one round trip); with an alias name the key is described
// first, and the alias then points to it. A key that does not exist is
// awserr.ErrNotFound; a key pending deletion is returned with its state only
// (whatever the other reads said), so that Ensure can cancel the deletion.
// Every other failure is reported.
func Find(ctx context.Context, api API, ref, alias string) (*Observed, error) {
	o, unreadable, err := Observe(ctx, api, ref, alias)
	if err != nil {
		return nil, err
	}
	if err := awserr.JoinByName(unreadable); err != nil {
		return nil, err
	}
	return o, nil
}

// Observe is Find for an audit: a failed read of the rotation, the policy,
// the tags or the alias (access denied, most often) leaves that setting zero
// and its error in unreadable under the control's name (ReadTags for the
// tags), instead of failing the whole read. A key that does not exist, or
// whose DescribeKey failed, is an error.
func Observe(ctx context.Context, api API, ref, alias string) (*Observed, map[string]error, error) {
	if isAlias(ref) {
		desc, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref})
		if isNotFound(err) {
			return nil, nil, awserr.NotFound("KMS key %s", ref)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kms:DescribeKey %s: %w", ref, err)
		}
		if alias == ref {
			alias = "" // the key is the alias's target: no need to look it up again
		}
		key := aws.ToString(desc.KeyMetadata.KeyId)
		if strings.HasPrefix(ref, "arn:") {
			// An alias ARN may name a key of another account: the reads
			// that follow need the key's ARN there.
			key = aws.ToString(desc.KeyMetadata.Arn)
		}
		o, unreadable, err := read(ctx, api, key, alias, desc)
		if err == nil && alias == "" {
			o.AliasTarget = o.KeyID
		}
		return o, unreadable, err
	}
	return read(ctx, api, ref, alias, nil)
}

// isAlias reports an alias name ("alias/…") or an alias ARN.
func isAlias(ref string) bool {
	if strings.HasPrefix(ref, "alias/") {
		return true
	}
	a, err := arn.Parse(ref)
	return err == nil && a.Service == "kms" && strings.HasPrefix(a.Resource, "alias/")
}

// ReadTags is the key of Observe's unreadable map for the key's tags, which
// are no control.
const ReadTags = "tags"

// read is Find's concurrent part: desc is the key's description when it was
// read already, nil to read it now.
func read(ctx context.Context, api API, ref, alias string, desc *kms.DescribeKeyOutput) (*Observed, map[string]error, error) {
	var (
		wg                                        sync.WaitGroup
		rot                                       *kms.GetKeyRotationStatusOutput
		pol                                       *kms.GetKeyPolicyOutput
		aliased                                   *kms.DescribeKeyOutput
		tagged                                    map[string]string
		descErr, rotErr, polErr, tagErr, aliasErr error
	)
	if desc == nil {
		wg.Go(func() { desc, descErr = api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref}) })
	}
	wg.Go(func() {
		if rot, rotErr = api.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &ref}); rotErr != nil {
			rotErr = fmt.Errorf("kms:GetKeyRotationStatus %s: %w", ref, rotErr)
		}
	})
	wg.Go(func() {
		if pol, polErr = api.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &ref, PolicyName: aws.String("default")}); polErr != nil {
			polErr = fmt.Errorf("kms:GetKeyPolicy %s: %w", ref, polErr)
		}
	})
	wg.Go(func() { tagged, tagErr = listTags(ctx, api, ref) })
	if alias != "" {
		wg.Go(func() {
			aliased, aliasErr = api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
			switch {
			case isNotFound(aliasErr):
				aliased, aliasErr = nil, nil // no alias: reported as missing, not as an error
			case aliasErr != nil:
				aliasErr = fmt.Errorf("kms:DescribeKey %s: %w", alias, aliasErr)
			}
		})
	}
	wg.Wait()
	if isNotFound(descErr) {
		return nil, nil, awserr.NotFound("KMS key %s", ref)
	}
	if descErr != nil {
		return nil, nil, errors.Join(fmt.Errorf("kms:DescribeKey %s: %w", ref, descErr), rotErr, polErr, tagErr, aliasErr)
	}
	md := desc.KeyMetadata
	o := &Observed{KeyID: aws.ToString(md.KeyId), ARN: aws.ToString(md.Arn), State: md.KeyState, Manager: md.KeyManager}
	unreadable := map[string]error{}
	for control, err := range map[string]error{ControlRotation: rotErr, ControlPolicy: polErr, ReadTags: tagErr, ControlAlias: aliasErr} {
		if err != nil {
			unreadable[control] = err
		}
	}
	if md.KeyState == types.KeyStatePendingDeletion || md.KeyState == types.KeyStatePendingReplicaDeletion {
		// Its settings are not read, but its tags are: they tell whether the
		// key is the backend's own (to cancel the deletion) or someone else's.
		if tagErr != nil {
			return nil, nil, tagErr
		}
		o.Tags = tagged
		if aliased != nil {
			o.AliasTarget = aws.ToString(aliased.KeyMetadata.KeyId)
		}
		return o, nil, nil
	}
	if rot != nil {
		o.RotationEnabled = rot.KeyRotationEnabled
		o.RotationPeriodDays = aws.ToInt32(rot.RotationPeriodInDays)
	}
	if pol != nil {
		o.Policy = aws.ToString(pol.Policy)
	}
	o.Tags = tagged
	if aliased != nil {
		o.AliasTarget = aws.ToString(aliased.KeyMetadata.KeyId)
	}
	return o, unreadable, nil
}

func isNotFound(err error) bool {
	var nf *types.NotFoundException
	return errors.As(err, &nf)
}

func listTags(ctx context.Context, api API, keyID string) (map[string]string, error) {
	out := map[string]string{}
	p := kms.NewListResourceTagsPaginator(api, &kms.ListResourceTagsInput{KeyId: &keyID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("kms:ListResourceTags %s: %w", keyID, err)
		}
		for _, t := range page.Tags {
			out[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
	}
	return out, nil
}

// Check refuses to adopt a key (found behind the backend's alias) that does
// not carry the backend's ownership tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend && o.Tags[naming.KeyPurposeTagKey] == spec.Purpose {
		return nil
	}
	if o.Tags[naming.OwnerTagKey] == spec.Backend {
		return fmt.Errorf("alias %s points to KMS key %s, which is this backend's %s, not its %s (tag %s): point the alias back at the right key",
			spec.Alias, o.KeyID, keyPurpose(o.Tags[naming.KeyPurposeTagKey]), keyPurpose(spec.Purpose), naming.KeyPurposeTagKey)
	}
	return fmt.Errorf("alias %s already points to KMS key %s, which this backend did not create (no %s=%s tag); import the existing backend with `terraform import` instead, or choose another name",
		spec.Alias, o.KeyID, naming.OwnerTagKey, spec.Backend)
}

func keyPurpose(p string) string {
	if p == "" {
		return "state key"
	}
	return p + " key"
}

// Ensure makes the key match the spec, starting from have, what Find
// observed (nil: no key, one is created and the alias pointed at it). Without
// tracked (the key is not in state yet: found behind the alias) a key without
// the ownership tag is refused. A key pending deletion is brought back and
// read again (its settings could not be read before); then the policy,
// rotation, alias and tags that differ are written concurrently, and the
// result is one Find.
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	if have == nil {
		id, err := create(ctx, api, spec)
		if err != nil {
			return nil, err
		}
		o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, id, spec.Alias) })
		if err != nil || !tags.Differ(o.Tags, spec.Tags) {
			return o, err
		}
		// CreateKey carried the tags; a service that dropped them (an
		// emulator) gets them again.
		if err := syncTags(ctx, api, id, o.Tags, spec.Tags, true); err != nil {
			return nil, err
		}
		return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, id, spec.Alias) })
	}
	if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	o := have
	pending := o.State == types.KeyStatePendingDeletion
	if pending {
		if _, err := api.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: &o.KeyID}); err != nil {
			return nil, fmt.Errorf("kms:CancelKeyDeletion %s: %w", o.KeyID, err)
		}
	}
	// A key must be enabled before its rotation can be.
	if pending || o.State == types.KeyStateDisabled {
		if _, err := api.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &o.KeyID}); err != nil {
			return nil, fmt.Errorf("kms:EnableKey %s: %w", o.KeyID, err)
		}
	}
	if pending {
		var err error
		if o, err = Find(ctx, api, o.KeyID, spec.Alias); err != nil {
			return nil, err
		}
	}
	var (
		wg   sync.WaitGroup
		errs [4]error
	)
	drift := Drift(spec, o)
	if drift[ControlPolicy] != "" {
		wg.Go(func() { errs[0] = putPolicy(ctx, api, o.KeyID, spec.Policy) })
	}
	// Without a reported period (the emulator) Ensure cannot tell: it sets it again.
	if drift[ControlRotation] != "" || o.RotationPeriodDays == 0 {
		wg.Go(func() { errs[1] = enableRotation(ctx, api, o.KeyID, spec.RotationPeriodDays) })
	}
	if drift[ControlAlias] != "" {
		wg.Go(func() { errs[2] = pointAlias(ctx, api, spec.Alias, o.KeyID, o.AliasTarget == "") })
	}
	wg.Go(func() { errs[3] = syncTags(ctx, api, o.KeyID, o.Tags, spec.Tags, false) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, o.KeyID, spec.Alias) })
}

func putPolicy(ctx context.Context, api API, keyID string, policy policydoc.Document) error {
	err := retry.OnCodes(ctx, retry.PropagationTimeout, retry.PrincipalPropagation, func() error {
		_, err := api.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default"), Policy: aws.String(policy.String())})
		return err
	})
	if err != nil {
		return fmt.Errorf("kms:PutKeyPolicy %s: %w", keyID, err)
	}
	return nil
}

func enableRotation(ctx context.Context, api API, keyID string, days int32) error {
	if _, err := api.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &keyID, RotationPeriodInDays: aws.Int32(days)}); err != nil {
		return fmt.Errorf("kms:EnableKeyRotation %s: %w", keyID, err)
	}
	return nil
}

// create makes a new key, tagged in the CreateKey request itself (an
// organisation may deny creating an untagged key), and points the alias at it.
//
// CreateKey is not idempotent: when its reply is lost, KMS may have made the
// key and the SDK's retry makes another, and a failed call may still have
// made one. So after a CreateKey that failed, or that succeeded only after
// retries, the keys this call made are looked up (this backend's ownership
// tag, no alias, created since the call began): a failed call adopts the
// newest, and every other one is scheduled for deletion, so none is left
// behind unseen.
func create(ctx context.Context, api API, spec Spec) (string, error) {
	var (
		out      *kms.CreateKeyOutput
		attempts int
	)
	began := time.Now()
	// A principal created moments ago may not be visible to KMS yet.
	err := retry.OnCodes(ctx, retry.PropagationTimeout, retry.PrincipalPropagation, func() (err error) {
		out, err = api.CreateKey(ctx, &kms.CreateKeyInput{
			Description: aws.String(description(spec)),
			KeySpec:     types.KeySpecSymmetricDefault,
			KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
			Policy:      aws.String(spec.Policy.String()),
			Tags:        kmsTags(spec.Tags),
		})
		attempts++
		if out != nil {
			if r, ok := awsretry.GetAttemptResults(out.ResultMetadata); ok {
				attempts += len(r.Results) - 1
			}
		}
		return err
	})
	id := ""
	if err == nil {
		id = aws.ToString(out.KeyMetadata.KeyId)
	}
	var (
		unlisted   error    // set when duplicates may exist but cannot be listed
		duplicates []string // keys made by retries besides id
	)
	if err != nil || attempts > 1 {
		made, serr := keysMadeSince(ctx, api, spec.Backend, spec.Purpose, began.Add(-clockSkew))
		switch {
		case serr != nil && err != nil:
			return "", fmt.Errorf("kms:CreateKey: %w; listing the keys it may have made anyway: %w", err, serr)
		case serr != nil:
			unlisted = serr
		case err != nil && len(made) == 0:
			return "", fmt.Errorf("kms:CreateKey: %w", err)
		case err != nil:
			id = made[0] // the call failed but made this key: adopt it
		}
		for _, k := range made {
			if k != id {
				duplicates = append(duplicates, k)
			}
		}
	}
	// The alias right after CreateKey; rotation meanwhile. Both write to a
	// key made moments ago: a NotFoundException while KMS does not see it
	// yet is retried, within the propagation bound, and does not count as a
	// failed alias.
	var (
		wg                 sync.WaitGroup
		aliasErr, rotation error
	)
	wg.Go(func() {
		aliasErr = retry.AfterCreate(ctx, true, func() error { return pointAlias(ctx, api, spec.Alias, id, true) })
	})
	wg.Go(func() {
		rotation = retry.AfterCreate(ctx, true, func() error { return enableRotation(ctx, api, id, spec.RotationPeriodDays) })
	})
	wg.Wait()
	if aliasErr != nil {
		// Without its alias the new key could not be found again: remove it
		// (scheduled deletion) so a failed apply leaves nothing untracked.
		duplicates = append(duplicates, id)
		for _, k := range duplicates {
			_ = scheduleNewKeyDeletion(ctx, api, k)
		}
		return "", aliasErr
	}
	// The alias first: a key behind it is found again by the next apply.
	for _, k := range duplicates {
		if err := scheduleNewKeyDeletion(ctx, api, k); err != nil {
			return "", fmt.Errorf("kms:ScheduleKeyDeletion %s (a duplicate made by a retried CreateKey): %w", k, err)
		}
	}
	if rotation != nil {
		// The key stays behind its alias: the next apply adopts it and turns
		// rotation on.
		return "", rotation
	}
	if unlisted != nil {
		// The key is kept behind its alias, so the next apply adopts it.
		return "", fmt.Errorf("kms:CreateKey succeeded only after retries, and the duplicate keys a retry may have made (tag %s=%s, no alias) cannot be listed: %w",
			naming.OwnerTagKey, spec.Backend, unlisted)
	}
	return id, nil
}

// scheduleNewKeyDeletion schedules the deletion of a key this create made
// moments ago (retried while KMS does not see it yet), after the shortest
// window.
func scheduleNewKeyDeletion(ctx context.Context, api API, keyID string) error {
	return retry.AfterCreate(ctx, true, func() error {
		_, err := api.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyID), PendingWindowInDays: aws.Int32(7)})
		return err
	})
}

// clockSkew is how far the local clock may be ahead of KMS's when keys made
// by a call are recognised by their creation date.
const clockSkew = 5 * time.Minute

// description is what CreateKey records about the key.
func description(spec Spec) string {
	if spec.Description != "" {
		return spec.Description
	}
	return "Encrypts the Terraform state of backend " + spec.Backend + " (managed by securestate)"
}

// keysMadeSince lists the enabled keys carrying the backend's ownership tag
// and the purpose's tag (none for the state key), with no alias, created at
// or after since: what an interrupted create leaves. Newest first.
func keysMadeSince(ctx context.Context, api API, backend, purpose string, since time.Time) ([]string, error) {
	aliased := map[string]bool{}
	ap := kms.NewListAliasesPaginator(api, &kms.ListAliasesInput{})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("kms:ListAliases: %w", err)
		}
		for _, a := range page.Aliases {
			aliased[aws.ToString(a.TargetKeyId)] = true
		}
	}
	type made struct {
		id      string
		created time.Time
	}
	var found []made
	kp := kms.NewListKeysPaginator(api, &kms.ListKeysInput{})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("kms:ListKeys: %w", err)
		}
		for _, k := range page.Keys {
			id := aws.ToString(k.KeyId)
			if aliased[id] {
				continue
			}
			d, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
			if err != nil {
				return nil, fmt.Errorf("kms:DescribeKey %s: %w", id, err)
			}
			m := d.KeyMetadata
			if m.KeyManager != types.KeyManagerTypeCustomer || m.KeyState != types.KeyStateEnabled || aws.ToTime(m.CreationDate).Before(since) {
				continue
			}
			t, err := listTags(ctx, api, id)
			if err != nil {
				return nil, err
			}
			if t[naming.OwnerTagKey] == backend && t[naming.KeyPurposeTagKey] == purpose {
				found = append(found, made{id, aws.ToTime(m.CreationDate)})
			}
		}
	}
	slices.SortStableFunc(found, func(a, b made) int { return b.created.Compare(a.created) })
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.id
	}
	return out, nil
}

func pointAlias(ctx context.Context, api API, alias, keyID string, create bool) error {
	if create {
		_, err := api.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &keyID})
		var exists *types.AlreadyExistsException
		if errors.As(err, &exists) {
			// The SDK's retry of a CreateAlias whose reply was lost meets the
			// alias the first attempt made: done, if it points to this key.
			// The alias exists, so a read that does not find it yet is retried.
			a, derr := retry.Visible(ctx, func() (*kms.DescribeKeyOutput, error) {
				return api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
			})
			if derr == nil && aws.ToString(a.KeyMetadata.KeyId) == keyID {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("kms:CreateAlias %s: %w", alias, err)
		}
		return nil
	}
	if _, err := api.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: &alias, TargetKeyId: &keyID}); err != nil {
		return fmt.Errorf("kms:UpdateAlias %s: %w", alias, err)
	}
	return nil
}

func kmsTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, types.Tag{TagKey: aws.String(k), TagValue: aws.String(m[k])})
	}
	return out
}

// syncTags turns the key's tags from have into want; created says the key
// was made moments ago by this Ensure, so that each call is retried while KMS
// does not see it yet.
func syncTags(ctx context.Context, api API, keyID string, have, want map[string]string, created bool) error {
	return tags.Apply(have, want, func(keys []string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UntagResource(ctx, &kms.UntagResourceInput{KeyId: &keyID, TagKeys: keys})
			return err
		}); err != nil {
			return fmt.Errorf("kms:UntagResource %s: %w", keyID, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.TagResource(ctx, &kms.TagResourceInput{KeyId: &keyID, Tags: kmsTags(set)})
			return err
		}); err != nil {
			return fmt.Errorf("kms:TagResource %s: %w", keyID, err)
		}
		return nil
	})
}

// Delete removes the alias (when it still points to this key) and schedules
// the key's deletion after the window. A key already gone or pending deletion,
// or an alias already gone, counts as deleted; any other error is returned so
// that the next destroy finishes the job.
func Delete(ctx context.Context, api API, keyID, alias string, windowDays int32) error {
	if alias != "" {
		a, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
		switch {
		case isNotFound(err):
		case err != nil:
			return fmt.Errorf("kms:DescribeKey %s: %w", alias, err)
		case aws.ToString(a.KeyMetadata.KeyId) == keyID || aws.ToString(a.KeyMetadata.Arn) == keyID:
			if _, err := api.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: &alias}); err != nil && !isNotFound(err) {
				return fmt.Errorf("kms:DeleteAlias %s: %w", alias, err)
			}
		}
	}
	if keyID == "" {
		return nil
	}
	_, err := api.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &keyID, PendingWindowInDays: aws.Int32(windowDays)})
	var invalidState *types.KMSInvalidStateException
	if err != nil && !isNotFound(err) && !errors.As(err, &invalidState) {
		return fmt.Errorf("kms:ScheduleKeyDeletion %s: %w", keyID, err)
	}
	return nil
}

// DeleteOwnedByAlias deletes the alias and schedules the deletion of the key
// behind it, after windowDays, if that key is the spec's (Check: the
// backend's ownership tag and the spec's purpose): for a key never tracked
// by its ID. No alias, or another's key behind it, deletes nothing.
func DeleteOwnedByAlias(ctx context.Context, api API, spec Spec, windowDays int32) error {
	o, err := Find(ctx, api, spec.Alias, spec.Alias)
	if awserr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	// Another's key behind the alias is not this backend's to delete.
	owned := Check(spec, o) == nil
	if !owned || o.State == types.KeyStatePendingDeletion {
		return nil
	}
	return Delete(ctx, api, o.KeyID, spec.Alias, windowDays)
}
