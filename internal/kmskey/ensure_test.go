package kmskey

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

const alias = "alias/acme-tfstate"

func testSpec() Spec {
	return Spec{
		Backend: "acme",
		Alias:   alias,
		Policy: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
			Sid: "Root", Effect: "Allow", Principal: policydoc.Principal{"AWS": {"arn:aws:iam::123456789012:root"}},
			Action: policydoc.StringSet{"kms:*"}, Resource: policydoc.StringSet{"*"},
		}}},
		RotationPeriodDays: 180,
		Tags:               map[string]string{naming.OwnerTagKey: "acme", "team": "platform"},
	}
}

// observeAndEnsure does what the orchestrator does: one Find of the key in
// state (keyID) or, without one, of the key behind the alias, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeKMS, spec Spec, keyID string) (*Observed, error) {
	ref, tracked := keyID, keyID != ""
	if !tracked {
		ref = spec.Alias
	}
	have, err := Find(ctx, f, ref, spec.Alias)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

// hardenedKey stores a key of the backend that already matches testSpec.
func hardenedKey(f *fakeKMS) string {
	spec := testSpec()
	id := f.addKey(time.Now().Add(-time.Hour), spec.Tags)
	f.keys[id].policy = spec.Policy.String()
	f.keys[id].rotation, f.keys[id].period = true, spec.RotationPeriodDays
	f.aliases[alias] = id
	return id
}

func TestEnsureCreatesAHardenedKey(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	spec := testSpec()
	o, err := observeAndEnsure(context.Background(), f, spec, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 1 {
		t.Fatalf("CreateKey called %d times, want once", len(f.created))
	}
	in := f.created[0]
	if in.KeySpec != types.KeySpecSymmetricDefault || in.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
		t.Errorf("CreateKey key spec %q usage %q, want a symmetric encrypt/decrypt key", in.KeySpec, in.KeyUsage)
	}
	if d := aws.ToString(in.Description); !strings.Contains(d, "backend acme") {
		t.Errorf("CreateKey description %q does not name the backend", d)
	}
	if ok, err := policydoc.Equivalent(aws.ToString(in.Policy), spec.Policy.String()); err != nil || !ok {
		t.Errorf("CreateKey policy %s, want the spec's policy", aws.ToString(in.Policy))
	}
	var sent []string
	for _, tg := range in.Tags {
		sent = append(sent, aws.ToString(tg.TagKey)+"="+aws.ToString(tg.TagValue))
	}
	if want := []string{naming.OwnerTagKey + "=acme", "team=platform"}; !slices.Equal(sent, want) {
		t.Errorf("CreateKey tags %v, want %v (sorted, ownership tag included)", sent, want)
	}

	id := f.order[0]
	if f.aliases[alias] != id {
		t.Errorf("alias points to %q, want the new key %s", f.aliases[alias], id)
	}
	// Answered at the first attempt, CreateKey made one key: no duplicates
	// are looked for.
	if n := f.count("ListKeys") + f.count("ListAliases"); n != 0 {
		t.Errorf("%d listing calls after a CreateKey answered at once, want none", n)
	}
	// The policy and tags were right from the start: no second write of them.
	// The alias and the rotation are written concurrently, after CreateKey.
	if w := f.writes(); len(w) != 3 || w[0] != "CreateKey" || !slices.Equal(slices.Sorted(slices.Values(w[1:])), []string{"CreateAlias", "EnableKeyRotation"}) {
		t.Errorf("writes %v, want CreateKey, then CreateAlias and EnableKeyRotation", w)
	}
	if o.KeyID != id || o.ARN != aws.ToString(f.keys[id].meta.Arn) || o.State != types.KeyStateEnabled || o.AliasTarget != id {
		t.Errorf("observed %+v, want the new enabled key %s behind its alias", o, id)
	}
	if !maps.Equal(o.Tags, spec.Tags) {
		t.Errorf("observed tags %v, want %v", o.Tags, spec.Tags)
	}
	drifttest.Compliant(t, "new key", Drift(spec, o))
}

// The emulator keeps no rotation period, so whether Ensure asks KMS for the
// spec's period is proven here: the fake keeps KMS's default of 365 days when
// EnableKeyRotation names no period.
func TestEnsureSetsTheRotationPeriod(t *testing.T) {
	for name, tc := range map[string]struct {
		setup        func(f *fakeKMS) string // key tracked in state, "" on create
		reportPeriod bool
		wantEnable   bool
	}{
		"new key": {func(*fakeKMS) string { return "" }, true, true},
		"new key, period not reported (emulator)": {func(*fakeKMS) string { return "" }, false, true},
		"rotation turned off": {func(f *fakeKMS) string {
			id := hardenedKey(f)
			f.keys[id].rotation = false
			return id
		}, true, true},
		"period changed to the default": {func(f *fakeKMS) string {
			id := hardenedKey(f)
			f.keys[id].period = 365
			return id
		}, true, true},
		"period right": {hardenedKey, true, false},
		// Without a reported period Ensure cannot tell, so it sets it again.
		"period not reported": {hardenedKey, false, true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeKMS()
			f.reportPeriod = tc.reportPeriod
			o, err := observeAndEnsure(context.Background(), f, testSpec(), tc.setup(f))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantEnable {
				if len(f.rotations) != 0 {
					t.Errorf("EnableKeyRotation called %d times on a compliant key", len(f.rotations))
				}
				return
			}
			if len(f.rotations) != 1 {
				t.Fatalf("EnableKeyRotation called %d times, want once", len(f.rotations))
			}
			in := f.rotations[0]
			if aws.ToString(in.KeyId) != o.KeyID || in.RotationPeriodInDays == nil || *in.RotationPeriodInDays != 180 {
				t.Errorf("EnableKeyRotation(key %s, period %v), want key %s with a period of 180 days", aws.ToString(in.KeyId), in.RotationPeriodInDays, o.KeyID)
			}
			k := f.keys[o.KeyID]
			if !k.rotation || k.period != 180 {
				t.Errorf("key rotation %v every %d days, want on every 180 days", k.rotation, k.period)
			}
			if tc.reportPeriod && o.RotationPeriodDays != 180 {
				t.Errorf("observed rotation period %d, want 180", o.RotationPeriodDays)
			}
		})
	}
}

func TestEnsureAdoptsTheBackendsKey(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	id := hardenedKey(f)
	k := f.keys[id]
	k.policy, k.rotation = `{"Version":"2012-10-17","Statement":[]}`, false
	k.tags = map[string]string{naming.OwnerTagKey: "acme", "stale": "x"}

	o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 0 || o.KeyID != id {
		t.Fatalf("made %d keys and returned %s; want the key behind the alias (%s) adopted", len(f.created), o.KeyID, id)
	}
	if len(f.policies) != 1 || aws.ToString(f.policies[0].KeyId) != id || aws.ToString(f.policies[0].PolicyName) != "default" {
		t.Fatalf("PutKeyPolicy inputs %v, want one for the default policy of %s", f.policies, id)
	}
	if ok, _ := policydoc.Equivalent(aws.ToString(f.policies[0].Policy), testSpec().Policy.String()); !ok {
		t.Errorf("PutKeyPolicy sent %s, want the spec's policy", aws.ToString(f.policies[0].Policy))
	}
	if len(f.untagged) != 1 || !slices.Equal(f.untagged[0].TagKeys, []string{"stale"}) {
		t.Errorf("UntagResource inputs %v, want the stale tag removed", f.untagged)
	}
	if len(f.tagged) != 1 || len(f.tagged[0].Tags) != 1 || aws.ToString(f.tagged[0].Tags[0].TagKey) != "team" {
		t.Errorf("TagResource inputs %v, want only the missing team tag", f.tagged)
	}
	if slices.Contains(f.writes(), "CreateAlias") || slices.Contains(f.writes(), "UpdateAlias") {
		t.Errorf("writes %v: the alias already pointed at the key", f.writes())
	}
	drifttest.Compliant(t, "adopted key", Drift(testSpec(), o))
	if !maps.Equal(o.Tags, testSpec().Tags) {
		t.Errorf("tags %v, want %v", o.Tags, testSpec().Tags)
	}
}

func TestEnsureRefusesAnotherBackendsKey(t *testing.T) {
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		f := newFakeKMS()
		id := hardenedKey(f)
		f.keys[id].tags = tags
		_, err := observeAndEnsure(context.Background(), f, testSpec(), "")
		if err == nil || !strings.Contains(err.Error(), "did not create") || !strings.Contains(err.Error(), id) {
			t.Errorf("%s: error %v, want a refusal naming key %s", name, err, id)
		}
		if w := f.writes(); len(w) != 0 {
			t.Errorf("%s: writes %v, want none", name, w)
		}
	}
}

// A key tracked in state is brought back: deletion cancelled, re-enabled, its
// alias created again or pointed back at it.
func TestEnsureRepairsATrackedKey(t *testing.T) {
	for name, tc := range map[string]struct {
		setup      func(f *fakeKMS, id string)
		wantWrites []string
	}{
		"compliant": {func(*fakeKMS, string) {}, nil},
		"pending deletion": {func(f *fakeKMS, id string) { f.keys[id].meta.KeyState = types.KeyStatePendingDeletion },
			[]string{"CancelKeyDeletion", "EnableKey"}},
		"disabled":      {func(f *fakeKMS, id string) { f.keys[id].meta.KeyState = types.KeyStateDisabled }, []string{"EnableKey"}},
		"alias deleted": {func(f *fakeKMS, _ string) { delete(f.aliases, alias) }, []string{"CreateAlias"}},
		"alias moved": {func(f *fakeKMS, _ string) {
			f.aliases[alias] = f.addKey(time.Now(), nil)
		}, []string{"UpdateAlias"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeKMS()
			f.reportPeriod = true
			id := hardenedKey(f)
			tc.setup(f, id)
			o, err := observeAndEnsure(context.Background(), f, testSpec(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.writes(), tc.wantWrites) {
				t.Errorf("writes %v, want %v", f.writes(), tc.wantWrites)
			}
			if o.KeyID != id || f.aliases[alias] != id || f.keys[id].meta.KeyState != types.KeyStateEnabled {
				t.Errorf("key %s is %s behind alias target %q; want %s enabled behind its alias", o.KeyID, f.keys[id].meta.KeyState, f.aliases[alias], id)
			}
			drifttest.Compliant(t, name, Drift(testSpec(), o))
		})
	}
}

// CreateKey's reply lost: KMS made the key, the call failed. The key made is
// found by its ownership tag and adopted; keys of another backend, aliased
// keys and keys made before the call are left alone.
func TestEnsureAdoptsTheKeyOfALostCreateReply(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	other := f.addKey(time.Now(), map[string]string{naming.OwnerTagKey: "acme-2"})
	old := f.addKey(time.Now().Add(-time.Hour), map[string]string{naming.OwnerTagKey: "acme"})
	f.lost = []error{errors.New("connection reset")}

	o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 1 {
		t.Fatalf("CreateKey called %d times, want once", len(f.created))
	}
	made := f.order[len(f.order)-1]
	if o.KeyID != made || f.aliases[alias] != made {
		t.Errorf("returned %s, alias → %s; want the key the lost call made (%s)", o.KeyID, f.aliases[alias], made)
	}
	if len(f.scheduled) != 0 {
		t.Errorf("scheduled for deletion %v, want nothing (keys %s and %s are not this call's)", f.scheduled, other, old)
	}
	drifttest.Compliant(t, "adopted key", Drift(testSpec(), o))
}

func TestEnsureCreateFailures(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		setup func(f *fakeKMS)
		want  []string // in the error
	}{
		"nothing made": {func(f *fakeKMS) { f.fail["CreateKey"] = []error{boom} }, []string{"kms:CreateKey", "boom"}},
		"nothing made, keys cannot be listed": {func(f *fakeKMS) {
			f.fail["CreateKey"] = []error{boom}
			f.fail["ListAliases"] = []error{errors.New("denied")}
		}, []string{"kms:CreateKey: boom", "kms:ListAliases: denied"}},
		"alias refused":         {func(f *fakeKMS) { f.fail["CreateAlias"] = []error{boom} }, []string{"kms:CreateAlias " + alias, "boom"}},
		"adoption lookup fails": {func(f *fakeKMS) { f.fail["DescribeKey"] = []error{boom} }, []string{"kms:DescribeKey " + alias}},
		"adoption tags unreadable": {func(f *fakeKMS) {
			hardenedKey(f)
			f.fail["ListResourceTags"] = []error{boom}
		}, []string{"kms:ListResourceTags"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeKMS()
			tc.setup(f)
			_, err := observeAndEnsure(context.Background(), f, testSpec(), "")
			if err == nil {
				t.Fatal("Ensure succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// Whatever was made without its alias is scheduled for deletion.
			for id, k := range f.keys {
				if f.aliases[alias] != id && k.meta.KeyState == types.KeyStateEnabled && k.tags[naming.OwnerTagKey] == "acme" && len(f.created) > 0 {
					t.Errorf("key %s was made and left enabled without an alias", id)
				}
			}
		})
	}
}

// A CreateKey retried (here on a principal not yet visible to KMS, whose
// first attempt nonetheless made a key) may leave a duplicate: the key
// behind the alias is the newest, and the duplicate is scheduled for deletion.
func TestEnsureRemovesDuplicatesOfARetriedCreate(t *testing.T) {
	f := newFakeKMS()
	f.lost = []error{apiError("MalformedPolicyDocumentException")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 2 {
		t.Fatalf("CreateKey called %d times, want twice", len(f.created))
	}
	first, second := f.order[0], f.order[1]
	if o.KeyID != second || f.aliases[alias] != second {
		t.Errorf("kept %s behind alias → %s, want the successful call's key %s", o.KeyID, f.aliases[alias], second)
	}
	if want := map[string]int32{first: 7}; !maps.Equal(f.scheduled, want) {
		t.Errorf("scheduled %v, want %v", f.scheduled, want)
	}
}

func TestEnsureRetriedCreateWhoseDuplicatesCannotBeListed(t *testing.T) {
	f := newFakeKMS()
	f.fail["CreateKey"] = []error{apiError("MalformedPolicyDocumentException")}
	f.fail["ListKeys"] = []error{errors.New("denied")}
	_, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err == nil || !strings.Contains(err.Error(), "cannot be listed") || !strings.Contains(err.Error(), "kms:ListKeys: denied") {
		t.Fatalf("error %v, want one saying the duplicates cannot be listed", err)
	}
	// The key is kept behind its alias for the next apply to adopt.
	if len(f.order) != 1 || f.aliases[alias] != f.order[0] || len(f.scheduled) != 0 {
		t.Errorf("keys %v, alias → %q, scheduled %v; want the one key kept behind the alias", f.order, f.aliases[alias], f.scheduled)
	}
}

func TestEnsureDuplicateThatCannotBeDeleted(t *testing.T) {
	f := newFakeKMS()
	f.lost = []error{apiError("MalformedPolicyDocumentException")}
	f.fail["ScheduleKeyDeletion"] = []error{errors.New("denied")}
	_, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err == nil || !strings.Contains(err.Error(), "kms:ScheduleKeyDeletion "+f.order[0]) || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("error %v, want the failed deletion of duplicate %s", err, f.order[0])
	}
}

func TestEnsureWriteFailures(t *testing.T) {
	boom := errors.New("boom")
	for op, setup := range map[string]func(f *fakeKMS, id string){
		"CancelKeyDeletion":    func(f *fakeKMS, id string) { f.keys[id].meta.KeyState = types.KeyStatePendingDeletion },
		"EnableKey":            func(f *fakeKMS, id string) { f.keys[id].meta.KeyState = types.KeyStateDisabled },
		"PutKeyPolicy":         func(f *fakeKMS, id string) { f.keys[id].policy = "{}" },
		"EnableKeyRotation":    func(f *fakeKMS, id string) { f.keys[id].rotation = false },
		"UpdateAlias":          func(f *fakeKMS, _ string) { f.aliases[alias] = f.addKey(time.Now(), nil) },
		"TagResource":          func(f *fakeKMS, id string) { delete(f.keys[id].tags, "team") },
		"UntagResource":        func(f *fakeKMS, id string) { f.keys[id].tags["stale"] = "x" },
		"GetKeyRotationStatus": func(*fakeKMS, string) {},
		"GetKeyPolicy":         func(*fakeKMS, string) {},
	} {
		t.Run(op, func(t *testing.T) {
			f := newFakeKMS()
			f.reportPeriod = true
			id := hardenedKey(f)
			setup(f, id)
			f.fail[op] = []error{boom}
			_, err := observeAndEnsure(context.Background(), f, testSpec(), id)
			if err == nil || !strings.Contains(err.Error(), "kms:"+op) || !errors.Is(err, boom) {
				t.Errorf("error %v, want kms:%s wrapping the failure", err, op)
			}
		})
	}
}

func TestFind(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	id := hardenedKey(f)

	o, err := Find(context.Background(), f, id, alias)
	if err != nil {
		t.Fatal(err)
	}
	want := &Observed{KeyID: id, ARN: "arn:aws:kms:us-east-1:123456789012:key/" + id, State: types.KeyStateEnabled, RotationEnabled: true,
		RotationPeriodDays: 180, Policy: testSpec().Policy.String(), AliasTarget: id, Tags: testSpec().Tags}
	if o.KeyID != want.KeyID || o.ARN != want.ARN || o.State != want.State || o.RotationEnabled != want.RotationEnabled ||
		o.RotationPeriodDays != want.RotationPeriodDays || o.Policy != want.Policy || o.AliasTarget != want.AliasTarget || !maps.Equal(o.Tags, want.Tags) {
		t.Errorf("Find = %+v, want %+v", o, want)
	}

	// By ARN, without alias: nothing is looked up for the alias.
	f.calls = nil
	if o, err = Find(context.Background(), f, want.ARN, ""); err != nil || o.KeyID != id || o.AliasTarget != "" {
		t.Errorf("Find by ARN = %+v, %v", o, err)
	}
	if n := f.count("DescribeKey"); n != 1 {
		t.Errorf("DescribeKey called %d times without an alias, want once", n)
	}

	// An alias that is gone is reported as missing, not as an error.
	delete(f.aliases, alias)
	if o, err = Find(context.Background(), f, id, alias); err != nil || o.AliasTarget != "" {
		t.Errorf("Find without its alias = %+v, %v; want no alias target", o, err)
	}

	// Pending deletion: returned with its state and tags (they tell whose key
	// it is); the other reads, made at the same time, are ignored, failures
	// included (KMS refuses some reads of a key pending deletion).
	f.keys[id].meta.KeyState = types.KeyStatePendingDeletion
	f.fail["GetKeyRotationStatus"] = []error{apiError("KMSInvalidStateException")}
	if o, err = Find(context.Background(), f, id, alias); err != nil || o.State != types.KeyStatePendingDeletion || o.Policy != "" ||
		!maps.Equal(o.Tags, f.keys[id].tags) || o.AliasTarget != "" {
		t.Errorf("Find of a key pending deletion = %+v, %v", o, err)
	}
	f.keys[id].meta.KeyState = types.KeyStatePendingReplicaDeletion
	f.fail["GetKeyPolicy"] = []error{errors.New("denied")}
	if o, err = Find(context.Background(), f, id, alias); err != nil || o.State != types.KeyStatePendingReplicaDeletion || o.Policy != "" {
		t.Errorf("replica pending deletion: %+v, %v; want its state only", o, err)
	}
	f.fail = map[string][]error{}

	if _, err = Find(context.Background(), f, "gone", alias); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing key: %v, want not found", err)
	}
	f.fail["DescribeKey "+id] = []error{errors.New("denied")}
	if _, err = Find(context.Background(), f, id, alias); err == nil || awserr.IsNotFound(err) || !strings.Contains(err.Error(), "kms:DescribeKey "+id) {
		t.Errorf("Find when DescribeKey fails: %v", err)
	}
	f.keys[id].meta.KeyState = types.KeyStateEnabled
	f.fail["DescribeKey "+alias] = []error{errors.New("denied")}
	if _, err = Find(context.Background(), f, id, alias); err == nil || !strings.Contains(err.Error(), "kms:DescribeKey "+alias) {
		t.Errorf("Find when the alias lookup fails: %v", err)
	}
}

func TestDrift(t *testing.T) {
	spec := testSpec()
	compliant := func() *Observed {
		return &Observed{KeyID: "k", State: types.KeyStateEnabled, RotationEnabled: true, RotationPeriodDays: 180, Policy: spec.Policy.String(), AliasTarget: "k"}
	}
	drifttest.Compliant(t, "compliant key", Drift(spec, compliant()))
	for name, tc := range map[string]struct {
		mutate  func(*Observed)
		control string
		want    string
	}{
		"disabled":          {func(o *Observed) { o.State = types.KeyStateDisabled }, ControlState, "key is Disabled"},
		"pending deletion":  {func(o *Observed) { o.State = types.KeyStatePendingDeletion }, ControlState, "PendingDeletion"},
		"policy replaced":   {func(o *Observed) { o.Policy = `{"Version":"2012-10-17","Statement":[]}` }, ControlPolicy, "differs"},
		"policy unreadable": {func(o *Observed) { o.Policy = "{" }, ControlPolicy, "differs"},
		"policy reordered": {func(o *Observed) {
			o.Policy = `{"Statement":[{"Resource":"*","Action":"kms:*","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Effect":"Allow","Sid":"Root"}],"Version":"2012-10-17"}`
		}, ControlPolicy, ""},
		"alias missing":  {func(o *Observed) { o.AliasTarget = "" }, ControlAlias, alias + " is missing"},
		"alias moved":    {func(o *Observed) { o.AliasTarget = "other" }, ControlAlias, alias + " points to another key"},
		"period longer":  {func(o *Observed) { o.RotationPeriodDays = 181 }, ControlRotation, "181 days"},
		"period shorter": {func(o *Observed) { o.RotationPeriodDays = 179 }, ControlRotation, "179 days"},
	} {
		o := compliant()
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
}

func TestDelete(t *testing.T) {
	boom := errors.New("boom")
	aliasKept := map[string]bool{"no key": true, "alias deleted meanwhile": true}
	for name, tc := range map[string]struct {
		setup   func(f *fakeKMS) (keyID string)
		alias   string
		wantErr string
		want    map[string]int32 // scheduled
	}{
		"key and alias": {hardenedKey, alias, "", map[string]int32{"key-1": 14}},
		"by ARN": {func(f *fakeKMS) string {
			return aws.ToString(f.keys[hardenedKey(f)].meta.Arn)
		}, alias, "", map[string]int32{"key-1": 14}},
		"alias already gone": {func(f *fakeKMS) string {
			id := hardenedKey(f)
			delete(f.aliases, alias)
			return id
		}, alias, "", map[string]int32{"key-1": 14}},
		"no alias":         {hardenedKey, "", "", map[string]int32{"key-1": 14}},
		"key already gone": {func(*fakeKMS) string { return "gone" }, alias, "", map[string]int32{}},
		"key already pending deletion": {func(f *fakeKMS) string {
			id := hardenedKey(f)
			f.keys[id].meta.KeyState = types.KeyStatePendingDeletion
			return id
		}, alias, "", map[string]int32{}},
		// No key tracked: an alias pointing to some key is not this backend's.
		"no key": {func(f *fakeKMS) string {
			hardenedKey(f)
			return ""
		}, alias, "", map[string]int32{}},
		"alias unreadable": {func(f *fakeKMS) string {
			f.fail["DescribeKey"] = []error{boom}
			return hardenedKey(f)
		}, alias, "kms:DescribeKey " + alias, map[string]int32{}},
		"alias not deleted": {func(f *fakeKMS) string {
			f.fail["DeleteAlias"] = []error{boom}
			return hardenedKey(f)
		}, alias, "kms:DeleteAlias " + alias, map[string]int32{}},
		"alias deleted meanwhile": {func(f *fakeKMS) string {
			f.fail["DeleteAlias"] = []error{apiError("NotFoundException")}
			return hardenedKey(f)
		}, alias, "", map[string]int32{"key-1": 14}},
		"deletion refused": {func(f *fakeKMS) string {
			f.fail["ScheduleKeyDeletion"] = []error{boom}
			return hardenedKey(f)
		}, alias, "kms:ScheduleKeyDeletion key-1", map[string]int32{}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeKMS()
			keyID := tc.setup(f)
			err := Delete(context.Background(), f, keyID, tc.alias, 14)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Delete: %v, want error %q", err, tc.wantErr)
			}
			if !maps.Equal(f.scheduled, tc.want) {
				t.Errorf("scheduled %v, want %v", f.scheduled, tc.want)
			}
			if kept := f.aliases[alias] != ""; tc.wantErr == "" && tc.alias != "" && kept != aliasKept[name] {
				t.Errorf("alias kept: %v, want %v", kept, aliasKept[name])
			}
		})
	}
}

// The SDK's retry of a CreateAlias whose reply was lost meets the alias the
// first attempt made: the new key is kept, not scheduled for deletion.
func TestEnsureKeepsTheKeyOfALostCreateAliasReply(t *testing.T) {
	f := newFakeKMS()
	f.lostAlias = true
	o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 1 || len(f.scheduled) != 0 || f.aliases[alias] != o.KeyID {
		t.Fatalf("created %d keys, scheduled %v, alias → %s, key %s; want one key behind the alias and none scheduled",
			len(f.created), f.scheduled, f.aliases[alias], o.KeyID)
	}
}

// The backend's own key, scheduled for deletion behind its alias (what a
// create that failed after CreateKey may leave), is recognised by its tags
// and brought back, not refused as someone else's.
func TestEnsureAdoptsItsKeyPendingDeletion(t *testing.T) {
	f := newFakeKMS()
	id := hardenedKey(f)
	f.keys[id].meta.KeyState = types.KeyStatePendingDeletion
	o, err := observeAndEnsure(context.Background(), f, testSpec(), "")
	if err != nil {
		t.Fatal(err)
	}
	if o.KeyID != id || o.State != types.KeyStateEnabled || len(f.created) != 0 {
		t.Fatalf("key %s in state %s, %d created; want %s adopted and enabled", o.KeyID, o.State, len(f.created), id)
	}
	// Someone else's key pending deletion stays refused.
	f = newFakeKMS()
	id = hardenedKey(f)
	f.keys[id].meta.KeyState = types.KeyStatePendingDeletion
	f.keys[id].tags = map[string]string{"team": "platform"}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), ""); err == nil || !strings.Contains(err.Error(), "did not create") {
		t.Fatalf("error %v, want a refusal", err)
	}
}
