package kmskey

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find by key ID with the alias, sorted.
var findReads = []string{"DescribeKey", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"}

func isRead(op string) bool {
	return strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
}

func observe(t *testing.T, f *fakeKMS, id string) *Observed {
	t.Helper()
	have, err := Find(context.Background(), f, id, alias)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return have
}

// Ensure of a compliant key writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	id := hardenedKey(f)
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f, id), true); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

// Nothing observed: a key is made with every control, without a read before
// the writes, and read once after them.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	o, err := Ensure(context.Background(), f, testSpec(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	if len(w) != 3 || w[0] != "CreateKey" || !slices.Equal(slices.Sorted(slices.Values(w[1:])), []string{"CreateAlias", "EnableKeyRotation"}) {
		t.Errorf("writes %v, want CreateKey, then CreateAlias and EnableKeyRotation", w)
	}
	if !slices.Equal(f.calls[:3], w) || !slices.Equal(slices.Sorted(slices.Values(f.calls[3:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
	drifttest.Compliant(t, "new key", Drift(testSpec(), o))
}

// Ensure takes what was observed: every read comes after the last write.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := newFakeKMS()
	f.reportPeriod = true
	id := hardenedKey(f)
	k := f.keys[id]
	k.policy, k.rotation, k.tags["stale"] = "{}", false, "x"
	f.aliases[alias] = f.addKey(time.Now(), nil)
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f, id), true); err != nil {
		t.Fatal(err)
	}
	want := []string{"EnableKeyRotation", "PutKeyPolicy", "UntagResource", "UpdateAlias"}
	if got := slices.Sorted(slices.Values(f.writes())); !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v in some order", got, want)
	}
	n := len(f.writes())
	if slices.ContainsFunc(f.calls[:n], isRead) || !slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
}

func TestCheckRefusesAForeignKey(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Observed{KeyID: "key-9", AliasTarget: "key-9", Tags: tags}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "did not create") || !strings.Contains(err.Error(), "key-9") {
			t.Errorf("%s: Check = %v, want a refusal naming key-9", name, err)
		}
		f := newFakeKMS()
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
	}
	if err := Check(spec, &Observed{Tags: spec.Tags}); err != nil {
		t.Errorf("own key: Check = %v", err)
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := newFakeKMS()
	id := hardenedKey(f)
	errs := map[string]error{}
	for _, op := range []string{"GetKeyRotationStatus " + id, "GetKeyPolicy " + id, "ListResourceTags " + id, "DescribeKey " + alias} {
		errs[op] = errors.New(op + " denied")
		name, _, _ := strings.Cut(op, " ")
		if name == "DescribeKey" {
			name = op
		}
		f.fail[name] = []error{errs[op]}
	}
	_, err := Find(context.Background(), f, id, alias)
	for op, e := range errs {
		if !errors.Is(err, e) || !strings.Contains(err.Error(), "kms:"+op) {
			t.Errorf("Find = %v, want kms:%s reported", err, op)
		}
	}
}

// By alias: the key behind it is described first, then read; the alias
// points to it without a second lookup.
func TestFindByAlias(t *testing.T) {
	f := newFakeKMS()
	id := hardenedKey(f)
	o, err := Find(context.Background(), f, alias, alias)
	if err != nil || o.KeyID != id || o.AliasTarget != id || o.Tags[naming.OwnerTagKey] != "acme" {
		t.Fatalf("Find by alias = %+v, %v", o, err)
	}
	if f.calls[0] != "DescribeKey" || slices.Index(f.calls[1:], "DescribeKey") >= 0 || len(f.calls) != 4 {
		t.Errorf("calls %v, want DescribeKey of the alias and then the three reads of the key", f.calls)
	}
	if o, err = Find(context.Background(), f, alias, ""); err != nil || o.AliasTarget != id {
		t.Errorf("Find by alias for import = %+v, %v; want the alias's key", o, err)
	}
}

// A key of the same backend with another purpose is not adopted either: the
// state key's spec refuses an OpenTofu encryption key behind its alias, an
// environment's spec refuses the state key and another environment's key.
func TestCheckRefusesAKeyOfAnotherPurpose(t *testing.T) {
	state := testSpec()
	dev := Spec{Backend: state.Backend, Alias: "alias/acme-tfstate-dev-tofu", Purpose: naming.TofuEncryptionKeyPurpose("dev")}
	tagged := func(purpose string) *Observed {
		tags := map[string]string{naming.OwnerTagKey: state.Backend}
		if purpose != "" {
			tags[naming.KeyPurposeTagKey] = purpose
		}
		return &Observed{KeyID: "key-7", Tags: tags}
	}
	for _, c := range []struct {
		name    string
		spec    Spec
		o       *Observed
		refused bool
	}{
		{"state key spec, state key", state, tagged(""), false},
		{"state key spec, dev's encryption key", state, tagged(naming.TofuEncryptionKeyPurpose("dev")), true},
		{"dev's spec, dev's key", dev, tagged(naming.TofuEncryptionKeyPurpose("dev")), false},
		{"dev's spec, the state key", dev, tagged(""), true},
		{"dev's spec, prod's key", dev, tagged(naming.TofuEncryptionKeyPurpose("prod")), true},
	} {
		err := Check(c.spec, c.o)
		if (err != nil) != c.refused || c.refused && !strings.Contains(err.Error(), "key-7") {
			t.Errorf("%s: Check = %v, want refused %v naming key-7", c.name, err, c.refused)
		}
	}
}

// DeleteOwnedByAlias deletes the key behind the alias only when it is the
// spec's: another key behind a moved alias, of another purpose or owner, is
// left alone, and so is a missing alias.
func TestDeleteOwnedByAliasDeletesOnlyItsOwnKey(t *testing.T) {
	ctx := context.Background()
	spec := Spec{Backend: "acme", Alias: "alias/acme-tfstate-dev-tofu", Purpose: naming.TofuEncryptionKeyPurpose("dev")}
	for name, tags := range map[string]map[string]string{
		"own":             {naming.OwnerTagKey: "acme", naming.KeyPurposeTagKey: spec.Purpose},
		"the state key":   {naming.OwnerTagKey: "acme"},
		"another backend": {naming.OwnerTagKey: "acme-2", naming.KeyPurposeTagKey: spec.Purpose},
	} {
		f := newFakeKMS()
		id := f.addKey(time.Now(), tags)
		f.aliases[spec.Alias] = id
		if err := DeleteOwnedByAlias(ctx, f, spec, 7); err != nil {
			t.Fatalf("%s: %s", name, err)
		}
		_, deleted := f.scheduled[id]
		if deleted != (name == "own") {
			t.Errorf("%s: key scheduled for deletion %v, want %v", name, deleted, name == "own")
		}
	}
	if err := DeleteOwnedByAlias(ctx, newFakeKMS(), spec, 7); err != nil {
		t.Errorf("no alias: %s", err)
	}
}
