package locktable

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// grants is a resource policy as a backend with cross-account grants wants
// it: a role of one account may lock state in the table, another account may
// describe it.
func grants(arn string) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
		{Sid: "Locks", Effect: "Allow", Principal: policydoc.Principal{"AWS": {"arn:aws:iam::111122223333:role/ci"}},
			Action: policydoc.StringSet{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, Resource: policydoc.StringSet{arn}},
		{Sid: "Describe", Effect: "Allow", Principal: policydoc.Principal{"AWS": {"arn:aws:iam::444455556666:root"}},
			Action: policydoc.StringSet{"dynamodb:DescribeTable"}, Resource: policydoc.StringSet{arn}},
	}}
}

// reorderedGrants is grants(tableARN) as another tool may write it: the
// statements and actions in another order, an account as its ID, a single
// value as a list, other whitespace.
const reorderedGrants = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Describe", "Effect": "Allow", "Principal": {"AWS": ["444455556666"]},
     "Action": ["dynamodb:DescribeTable"], "Resource": "` + tableARN + `"},
    {"Sid": "Locks", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/ci"},
     "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], "Resource": ["` + tableARN + `"]}
  ]
}`

// openPolicy is a policy someone attached out of band, granting the table
// to everyone.
const openPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"` + tableARN + `"}]}`

// attach replaces the table's resource policy ("" removes it).
func (t *fakeTable) attach(text string) {
	t.policy, t.revision = text, ""
	if text != "" {
		t.revision = "out-of-band"
	}
}

func TestDriftResourcePolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		want     policydoc.Document
		attached string
		problem  string
	}{
		"none wanted, none attached":       {policydoc.Document{}, "", ""},
		"none wanted, one attached":        {policydoc.Document{}, openPolicy, "a resource policy is attached but the backend grants no one through it"},
		"none wanted, an empty one":        {policydoc.Document{}, `{"Version":"2012-10-17","Statement":[]}`, "attached but the backend grants no one"},
		"wanted, missing":                  {grants(tableARN), "", "resource policy missing"},
		"wanted, equivalent but reordered": {grants(tableARN), reorderedGrants, ""},
		"wanted, the same text":            {grants(tableARN), grants(tableARN).String(), ""},
		"wanted, different":                {grants(tableARN), openPolicy, "resource policy differs from the backend's grants"},
		"wanted, another table":            {grants(tableARN), grants(tableARN + "-2").String(), "differs"},
		"wanted, unreadable":               {grants(tableARN), "{not a policy", "differs"},
	} {
		spec := testSpec()
		spec.Policy = tc.want
		o := &Observed{Billing: types.BillingModePayPerRequest, SSEEnabled: true, SSEKey: spec.KeyARN, PITR: true, DeletionProtection: true, Policy: tc.attached}
		drifttest.Expect(t, name, Drift(spec, o), ControlResourcePolicy, tc.problem)
	}
}

// Every report has every control, the same for every backend, in the set
// ControlNames lists.
func TestDriftReportsEveryControl(t *testing.T) {
	names := ControlNames()
	if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) || !slices.Contains(names, ControlResourcePolicy) {
		t.Fatalf("ControlNames() = %v, want distinct names including %s", names, ControlResourcePolicy)
	}
	for name, spec := range map[string]Spec{"no grants": testSpec(), "grants": {Policy: grants(tableARN)}} {
		got := slices.Sorted(maps.Keys(Drift(spec, &Observed{})))
		if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
			t.Errorf("%s: Drift reports %v, want %v", name, got, want)
		}
	}
}

func TestEnsureRepairsResourcePolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		want     policydoc.Document
		attached string
		writes   []string
	}{
		"none wanted, none attached":       {policydoc.Document{}, "", nil},
		"none wanted, one attached":        {policydoc.Document{}, openPolicy, []string{"DeleteResourcePolicy"}},
		"wanted, missing":                  {grants(tableARN), "", []string{"PutResourcePolicy"}},
		"wanted, different":                {grants(tableARN), openPolicy, []string{"PutResourcePolicy"}},
		"wanted, equivalent but reordered": {grants(tableARN), reorderedGrants, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := testSpec()
			spec.Policy = tc.want
			f.hardened(spec).attach(tc.attached)
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.writes(), tc.writes) {
				t.Errorf("writes %v, want %v", f.writes(), tc.writes)
			}
			for _, in := range f.puts {
				if ok, err := policydoc.Equivalent(aws.ToString(in.Policy), spec.Policy.String()); err != nil || !ok || aws.ToString(in.ResourceArn) != tableARN {
					t.Errorf("PutResourcePolicy(%s, %s), want the backend's grants on %s", aws.ToString(in.ResourceArn), aws.ToString(in.Policy), tableARN)
				}
				if in.ExpectedRevisionId != nil || in.ConfirmRemoveSelfResourceAccess {
					t.Errorf("PutResourcePolicy(revision %q, confirm removal %v), want an unconditional write that keeps the caller's access",
						aws.ToString(in.ExpectedRevisionId), in.ConfirmRemoveSelfResourceAccess)
				}
			}
			for _, in := range f.removals {
				if aws.ToString(in.ResourceArn) != tableARN || in.ExpectedRevisionId != nil {
					t.Errorf("DeleteResourcePolicy(%s, revision %q), want an unconditional removal from %s", aws.ToString(in.ResourceArn), aws.ToString(in.ExpectedRevisionId), tableARN)
				}
			}
			drifttest.Compliant(t, name, Drift(spec, o))
			if spec.wantsPolicy() == (o.Policy == "") {
				t.Errorf("observed policy %q after Ensure, want one exactly when the spec has grants", o.Policy)
			}
		})
	}
}

// A new table gets its grants once it is ACTIVE, beside point-in-time
// recovery, by the ARN CreateTable answers with; CreateTable itself carries
// no policy (the emulator would drop it).
func TestEnsureCreatesATableWithItsResourcePolicy(t *testing.T) {
	f := newFake()
	f.creating = 1
	spec := testSpec()
	spec.ARN = "" // known only from CreateTable's answer
	spec.Policy = grants(tableARN)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a put by the wrong ARN fails fast
	defer cancel()
	o, err := observeAndEnsure(ctx, f, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	if len(w) != 3 || w[0] != "CreateTable" || !slices.Equal(slices.Sorted(slices.Values(w[1:])), []string{"PutResourcePolicy", "UpdateContinuousBackups"}) {
		t.Errorf("writes %v, want CreateTable, then PutResourcePolicy and UpdateContinuousBackups", w)
	}
	if f.created[0].ResourcePolicy != nil {
		t.Errorf("CreateTable carries a resource policy %q, want it put once the table is ACTIVE", aws.ToString(f.created[0].ResourcePolicy))
	}
	if len(f.puts) != 1 || aws.ToString(f.puts[0].ResourceArn) != tableARN {
		t.Errorf("PutResourcePolicy inputs %+v, want one naming %s", f.puts, tableARN)
	}
	drifttest.Compliant(t, "new table", Drift(spec, o))
}

// The policy written to a table made moments ago is written again while
// DynamoDB does not see the table yet, also when CreateTable's reply was
// lost and the table was found in use.
func TestEnsureRetriesThePolicyOfANewTableNotYetVisible(t *testing.T) {
	for name, setup := range map[string]func(*fakeDynamoDB){
		"created":           func(*fakeDynamoDB) {},
		"lost create reply": func(f *fakeDynamoDB) { f.lost = []error{apiError("ResourceInUseException")} },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			setup(f)
			f.fail["PutResourcePolicy"] = []error{apiError("ResourceNotFoundException")}
			spec := testSpec()
			spec.Policy = grants(tableARN)
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count("PutResourcePolicy"); n != 2 {
				t.Errorf("PutResourcePolicy called %d times, want twice (not visible, then done)", n)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
		})
	}
}

// The policy of a table that existed before this Ensure is written once, and
// a failure names the call.
func TestEnsurePolicyWriteFailures(t *testing.T) {
	boom := errors.New("boom")
	withGrants := testSpec()
	withGrants.Policy = grants(tableARN)
	for name, tc := range map[string]struct {
		spec     Spec
		attached string
		op       string
		err      error
	}{
		"put, not visible": {withGrants, "", "PutResourcePolicy", apiError("ResourceNotFoundException")},
		"put":              {withGrants, openPolicy, "PutResourcePolicy", boom},
		"delete":           {testSpec(), openPolicy, "DeleteResourcePolicy", boom},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.hardened(testSpec()).attach(tc.attached)
			f.fail[tc.op] = []error{tc.err}
			_, err := observeAndEnsure(context.Background(), f, tc.spec, false)
			if err == nil || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), "dynamodb:"+tc.op+" acme-tflock") {
				t.Errorf("Ensure = %v, want dynamodb:%s acme-tflock wrapping %v", err, tc.op, tc.err)
			}
			if n := f.count(tc.op); n != 1 {
				t.Errorf("%s called %d times, want once", tc.op, n)
			}
		})
	}
}

// A policy removed between the read and the removal counts as removed,
// whether the service answers that with PolicyNotFoundException or, as the
// emulator (moto 5.2.5) does for a table without a policy,
// ResourceNotFoundException.
func TestEnsurePolicyRemovedMeanwhile(t *testing.T) {
	for name, code := range map[string]string{
		"policy not found":  "PolicyNotFoundException",
		"emulator's answer": "ResourceNotFoundException",
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.hardened(testSpec()).attach(openPolicy)
			have := observe(t, f)
			f.table.attach("")
			f.fail["DeleteResourcePolicy"] = []error{apiError(code)}
			o, err := Ensure(context.Background(), f, testSpec(), have, false)
			if err != nil {
				t.Fatalf("Ensure = %v, want the policy removed meanwhile taken as removed", err)
			}
			drifttest.Compliant(t, name, Drift(testSpec(), o))
		})
	}
}

// The policy writes ask the SDK's retryer to retry ResourceInUseException:
// DynamoDB answers it while another change to the table is in progress.
func TestPolicyWritesRetryResourceInUse(t *testing.T) {
	f := newFake()
	spec := testSpec()
	spec.Policy = grants(tableARN)
	f.hardened(testSpec()).attach(openPolicy)
	if _, err := observeAndEnsure(context.Background(), f, spec, false); err != nil {
		t.Fatal(err)
	}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"PutResourcePolicy", "DeleteResourcePolicy"} {
		if got, called := f.inUseRetried[op]; !called || !got {
			t.Errorf("%s (called: %v) retries ResourceInUseException: %v, want true", op, called, got)
		}
	}
}

// Find reports a table without a policy as Policy "", and a failed policy
// read as an error, not as no policy.
func TestFindResourcePolicy(t *testing.T) {
	f := newFake()
	f.hardened(testSpec())
	o, err := Find(context.Background(), f, "acme-tflock", tableARN)
	if err != nil || o.Policy != "" {
		t.Fatalf("Find of a table without a policy = %+v, %v; want Policy \"\"", o, err)
	}
	f.table.attach(openPolicy)
	if o, err = Find(context.Background(), f, "acme-tflock", tableARN); err != nil || o.Policy != openPolicy {
		t.Fatalf("Find = %+v, %v; want the attached policy", o, err)
	}
	f.fail["GetResourcePolicy"] = []error{apiError("AccessDeniedException")}
	if _, err := Find(context.Background(), f, "acme-tflock", tableARN); !awserr.HasCode(err, "AccessDeniedException") || !strings.Contains(err.Error(), "dynamodb:GetResourcePolicy acme-tflock") {
		t.Errorf("Find with the policy read denied = %v, want the denial", err)
	}
}
