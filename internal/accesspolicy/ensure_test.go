package accesspolicy

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

const (
	wanted = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadWriteStateObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/dev/*"]}]}`
	wider  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
)

func testSpec() Spec {
	return Spec{
		Backend: "acme", Environment: "dev", Name: "acme-tfstate-dev", ARN: ARN("aws", "123456789012", "acme-tfstate-dev"),
		Document: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
			{Sid: "ReadWriteStateObjects", Effect: "Allow", Action: policydoc.StringSet{"s3:GetObject", "s3:PutObject"}, Resource: policydoc.StringSet{"arn:aws:s3:::b/dev/*"}},
		}},
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"},
	}
}

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeIAM, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f, spec.ARN)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

func TestARN(t *testing.T) {
	if got, want := ARN("aws-cn", "123456789012", "acme-tfstate-dev"), "arn:aws-cn:iam::123456789012:policy/securestate/acme-tfstate-dev"; got != want {
		t.Errorf("ARN = %s, want %s", got, want)
	}
	if got := Control("prod"); got != "access_policy_prod" {
		t.Errorf("Control(prod) = %s", got)
	}
}

func TestEnsureCreatesThePolicy(t *testing.T) {
	for name, lost := range map[string][]error{
		"reply received": nil,
		// The SDK's retry of a create whose reply was lost finds the policy.
		"reply lost": {apiError("EntityAlreadyExists")},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.lost = lost
			spec := testSpec()
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.created) != 1 {
				t.Fatalf("CreatePolicy called %d times, want once", len(f.created))
			}
			in := f.created[0]
			if aws.ToString(in.PolicyName) != spec.Name || aws.ToString(in.Path) != naming.PolicyPath {
				t.Errorf("CreatePolicy(name %s, path %s), want %s under %s", aws.ToString(in.PolicyName), aws.ToString(in.Path), spec.Name, naming.PolicyPath)
			}
			if d := aws.ToString(in.Description); !strings.Contains(d, "environment dev") || !strings.Contains(d, "backend acme") {
				t.Errorf("CreatePolicy description %q, want the environment and backend named", d)
			}
			if ok, err := policydoc.Equivalent(aws.ToString(in.PolicyDocument), wanted); err != nil || !ok {
				t.Errorf("CreatePolicy document %s, want %s", aws.ToString(in.PolicyDocument), wanted)
			}
			var sent []string
			for _, tg := range in.Tags {
				sent = append(sent, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			if want := []string{naming.OwnerTagKey + "=acme", "team=platform"}; !slices.Equal(sent, want) {
				t.Errorf("CreatePolicy tags %v, want %v", sent, want)
			}
			if !slices.Equal(f.writes(), []string{"CreatePolicy"}) {
				t.Errorf("writes %v, want CreatePolicy only", f.writes())
			}
			if o.ARN != spec.ARN || o.DefaultVersion != "v1" || Drift(spec, o) != "" || !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("observed %+v, want the new policy at v1 with the spec's tags", o)
			}
		})
	}
}

func TestEnsureUpdatesThePolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		documents   []string // stored versions, the last is the default
		tracked     bool
		tags        map[string]string
		wantWrites  []string
		wantDeleted []string // versions pruned
	}{
		"compliant": {[]string{wanted}, false, testSpec().Tags, nil, nil},
		"widened":   {[]string{wanted, wider}, false, testSpec().Tags, []string{"CreatePolicyVersion"}, nil},
		"four versions": {[]string{wider, wider, wider, wider}, false, testSpec().Tags,
			[]string{"CreatePolicyVersion"}, nil},
		// IAM keeps five versions: the oldest non-default one goes first.
		"five versions": {[]string{wider, wider, wider, wider, wider}, false, testSpec().Tags,
			[]string{"DeletePolicyVersion", "CreatePolicyVersion"}, []string{"v1"}},
		"tags changed": {[]string{wanted}, false, map[string]string{naming.OwnerTagKey: "acme", "team": "x", "stale": "y"},
			[]string{"UntagPolicy", "TagPolicy"}, nil},
		"tracked without ownership tag": {[]string{wanted}, true, map[string]string{},
			[]string{"TagPolicy"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := testSpec()
			arn := f.add(spec.Name, tc.tags, tc.documents...)
			o, err := observeAndEnsure(context.Background(), f, spec, tc.tracked)
			if err != nil {
				t.Fatal(err)
			}
			// The tag calls run concurrently (with each other and with the
			// new version); only pruning comes before the new version.
			w := f.writes()
			if !slices.Equal(slices.Sorted(slices.Values(w)), slices.Sorted(slices.Values(tc.wantWrites))) {
				t.Errorf("writes %v, want %v in some order", w, tc.wantWrites)
			}
			if d, c := slices.Index(w, "DeletePolicyVersion"), slices.Index(w, "CreatePolicyVersion"); d >= 0 && d > c {
				t.Errorf("writes %v, want the oldest version deleted before the new one", w)
			}
			var pruned []string
			for _, d := range f.deletedVersion {
				pruned = append(pruned, strings.TrimPrefix(d, arn+" "))
			}
			if !slices.Equal(pruned, tc.wantDeleted) {
				t.Errorf("deleted versions %v, want %v", pruned, tc.wantDeleted)
			}
			for _, in := range f.newVersions {
				if aws.ToString(in.PolicyArn) != arn || !in.SetAsDefault {
					t.Errorf("CreatePolicyVersion(%s, default %v), want a new default version of %s", aws.ToString(in.PolicyArn), in.SetAsDefault, arn)
				}
				if ok, _ := policydoc.Equivalent(aws.ToString(in.PolicyDocument), wanted); !ok {
					t.Errorf("CreatePolicyVersion document %s, want %s", aws.ToString(in.PolicyDocument), wanted)
				}
			}
			for _, in := range f.untagged {
				if aws.ToString(in.PolicyArn) != arn || !slices.Equal(in.TagKeys, []string{"stale"}) {
					t.Errorf("UntagPolicy(%s, %v), want the stale tag removed", aws.ToString(in.PolicyArn), in.TagKeys)
				}
			}
			if d := Drift(spec, o); d != "" {
				t.Errorf("drift after Ensure: %s", d)
			}
			if !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("tags %v, want %v", o.Tags, spec.Tags)
			}
		})
	}
}

func TestEnsureRefusesAnotherBackendsPolicy(t *testing.T) {
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		f := newFake()
		f.add(testSpec().Name, tags, wider)
		_, err := observeAndEnsure(context.Background(), f, testSpec(), false)
		if err == nil || !strings.Contains(err.Error(), "not created by this backend") {
			t.Errorf("%s: error %v, want a refusal", name, err)
		}
		if len(f.writes()) != 0 {
			t.Errorf("%s: writes %v, want none", name, f.writes())
		}
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	five := []string{wider, wider, wider, wider, wider}
	for name, tc := range map[string]struct {
		documents []string // stored versions; none: no policy
		tags      map[string]string
		op        string // fails
		want      string
	}{
		"create":        {nil, nil, "CreatePolicy", "iam:CreatePolicy acme-tfstate-dev"},
		"read":          {[]string{wanted}, nil, "GetPolicy", "iam:GetPolicy"},
		"read version":  {[]string{wanted}, nil, "GetPolicyVersion", "iam:GetPolicyVersion"},
		"read tags":     {[]string{wanted}, nil, "ListPolicyTags", "iam:ListPolicyTags"},
		"list versions": {five, nil, "ListPolicyVersions", "iam:ListPolicyVersions"},
		"prune":         {five, nil, "DeletePolicyVersion", "iam:DeletePolicyVersion"},
		"new version":   {[]string{wider}, nil, "CreatePolicyVersion", "iam:CreatePolicyVersion"},
		"tag":           {[]string{wanted}, map[string]string{}, "TagPolicy", "iam:TagPolicy"},
		"untag":         {[]string{wanted}, map[string]string{"stale": "x"}, "UntagPolicy", "iam:UntagPolicy"},
		// No policy: the first GetPolicyVersion is the read after CreatePolicy.
		"read after write": {nil, nil, "GetPolicyVersion", "iam:GetPolicyVersion"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			if tc.documents != nil {
				tags := tc.tags
				if tags == nil {
					tags = testSpec().Tags
				}
				f.add(testSpec().Name, tags, tc.documents...)
			}
			f.fail[tc.op] = []error{boom}
			_, err := observeAndEnsure(context.Background(), f, testSpec(), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
}

// Only the oldest version that is not the default is pruned, whatever the
// order IAM lists them in.
func TestPruneVersionsOldestNonDefault(t *testing.T) {
	f := newFake()
	arn := f.add("p", nil, wider, wider, wider, wider, wider)
	p := f.policies[arn]
	p.setDefault("v1") // the oldest is the default: v2 goes
	slices.Reverse(p.versions)
	if err := pruneVersions(context.Background(), f, arn); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.deletedVersion, []string{arn + " v2"}) {
		t.Errorf("deleted %v, want v2", f.deletedVersion)
	}
	// Fewer than five: nothing to prune.
	f.deletedVersion = nil
	if err := pruneVersions(context.Background(), f, arn); err != nil || len(f.deletedVersion) != 0 {
		t.Errorf("four versions: deleted %v, %v", f.deletedVersion, err)
	}
	// Five versions listed over several pages are all counted.
	f.pageSize = 2
	p.addVersion(wider, p.versions[0].CreateDate.AddDate(0, 0, 30))
	if err := pruneVersions(context.Background(), f, arn); err != nil || len(f.deletedVersion) != 1 {
		t.Errorf("five versions in pages: deleted %v, %v", f.deletedVersion, err)
	}
	// Only a default version (IAM never lists five of those, but an
	// emulator might): nothing to prune.
	f.deletedVersion = nil
	for i := range p.versions {
		p.versions[i].IsDefaultVersion = true
	}
	if err := pruneVersions(context.Background(), f, arn); err != nil || len(f.deletedVersion) != 0 {
		t.Errorf("only default versions: deleted %v, %v", f.deletedVersion, err)
	}
}

func TestFindMissing(t *testing.T) {
	if _, err := Find(context.Background(), newFake(), testSpec().ARN); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing policy: %v, want not found", err)
	}
}

func TestDelete(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		documents []string
		fail      map[string][]error
		wantErr   string
		gone      bool
	}{
		"one version":         {[]string{wanted}, nil, "", true},
		"several versions":    {[]string{wider, wider, wanted}, nil, "", true},
		"already gone":        {nil, nil, "", true},
		"gone meanwhile":      {[]string{wanted}, map[string][]error{"DeletePolicy": {apiError("NoSuchEntity")}}, "", false},
		"version gone":        {[]string{wider, wanted}, nil, "", true},
		"version not deleted": {[]string{wider, wanted}, map[string][]error{"DeletePolicyVersion": {boom}}, "iam:DeletePolicyVersion", false},
		"versions unreadable": {[]string{wanted}, map[string][]error{"ListPolicyVersions": {boom}}, "iam:ListPolicyVersions", false},
		"attached":            {[]string{wanted}, map[string][]error{"DeletePolicy": {apiError("DeleteConflict")}}, "still attached", false},
		"refused":             {[]string{wanted}, map[string][]error{"DeletePolicy": {boom}}, "iam:DeletePolicy", false},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			arn := testSpec().ARN
			if tc.documents != nil {
				f.add(testSpec().Name, nil, tc.documents...)
			}
			if tc.fail != nil {
				f.fail = tc.fail
			}
			if name == "version gone" { // listed, but deleted meanwhile
				p := f.policies[arn]
				p.deleted, p.versions = p.versions[:1], p.versions[1:]
			}
			err := Delete(context.Background(), f, arn)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Delete: %v, want error %q", err, tc.wantErr)
			}
			if _, exists := f.policies[arn]; tc.gone && exists {
				t.Errorf("policy still exists with versions %v", f.policies[arn].versionIDs())
			}
		})
	}
}

func TestListEnvironments(t *testing.T) {
	f := newFake()
	f.pageSize = 2
	for _, name := range []string{"acme-tfstate-prod", "acme-tfstate-dev", "acme-tfstate-x-tfstate-y", "other-tfstate-dev", "acme-tfstate-staging"} {
		f.add(name, nil, wanted)
	}
	// A policy of the same name outside the provider's path is not listed.
	f.policies["arn:aws:iam::123456789012:policy/elsewhere/acme-tfstate-qa"] = &fakePolicy{name: "acme-tfstate-qa", path: "/elsewhere/"}
	got, err := ListEnvironments(context.Background(), f, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dev", "prod", "staging"}; !slices.Equal(got, want) {
		t.Errorf("ListEnvironments = %v, want %v", got, want)
	}
	if in := f.listed[0]; aws.ToString(in.PathPrefix) != naming.PolicyPath || in.Scope != types.PolicyScopeTypeLocal {
		t.Errorf("ListPolicies(path %s, scope %s), want %s, Local", aws.ToString(in.PathPrefix), in.Scope, naming.PolicyPath)
	}
	f.fail["ListPolicies"] = []error{boom()}
	if _, err := ListEnvironments(context.Background(), f, "acme"); err == nil || !strings.Contains(err.Error(), "iam:ListPolicies") {
		t.Errorf("ListEnvironments when listing fails: %v", err)
	}
}

func boom() error { return errors.New("boom") }
