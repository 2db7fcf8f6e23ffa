package replication

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func testSpec() Spec {
	b := policies.Backend{Partition: "aws", Region: "eu-central-1", AccountID: "123456789012", Bucket: "acme-tfstate-123456789012",
		KeyARN: "arn:aws:kms:eu-central-1:123456789012:key/1111"}
	s := Spec{Backend: "acme", Partition: "aws", AccountID: "123456789012", Bucket: b.Bucket, Region: b.Region,
		ReplicaBucket: naming.ReplicaBucket(b.Bucket), ReplicaRegion: "eu-west-1", ReplicaKeyARN: "arn:aws:kms:eu-west-1:123456789012:key/2222",
		RoleName: naming.ReplicationRole("acme"), Metrics: true,
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"}}
	b.Replica = &policies.Replica{Bucket: s.ReplicaBucket, Region: s.ReplicaRegion, KeyARN: s.ReplicaKeyARN, RoleARN: s.RoleARN()}
	s.TrustPolicy, s.RolePolicy = policies.ReplicationTrustPolicy(b), policies.ReplicationRolePolicy(b)
	return s
}

// compliantRole stores the role as EnsureRole leaves it.
func compliantRole(f *fakeIAM, spec Spec) {
	f.addRole(spec.RoleName, naming.PolicyPath, spec.TrustPolicy.String(), spec.RolePolicy.String(), spec.Tags)
}

func findRole(t *testing.T, f *fakeIAM, spec Spec) *Role {
	t.Helper()
	o, err := FindRole(context.Background(), f, spec.RoleName)
	if err != nil {
		t.Fatal(err)
	}
	f.reset()
	return o
}

// findReads are the calls of one FindRole, sorted.
var findReads = []string{"GetRole", "GetRolePolicy", "ListRolePolicies"}

func sortedOps(ops []string) []string { return slices.Sorted(slices.Values(ops)) }

func TestRoleARN(t *testing.T) {
	if got, want := testSpec().RoleARN(), "arn:aws:iam::123456789012:role/securestate/acme-tfstate-replication"; got != want {
		t.Errorf("RoleARN = %s, want %s", got, want)
	}
	s := testSpec()
	s.Partition = "aws-us-gov"
	if got := s.RoleARN(); !strings.HasPrefix(got, "arn:aws-us-gov:iam::123456789012:role/securestate/") {
		t.Errorf("RoleARN in aws-us-gov = %s", got)
	}
	if got := s.ReplicaBucketARN(); got != "arn:aws-us-gov:s3:::acme-tfstate-123456789012-replica" {
		t.Errorf("ReplicaBucketARN = %s", got)
	}
}

// Nothing observed: the role is made under the provider's path with its trust
// policy and every tag in the CreateRole request, then its inline policy is
// put; nothing is read before, one FindRole after.
func TestEnsureRoleCreates(t *testing.T) {
	f := newFakeIAM()
	spec := testSpec()
	o, err := EnsureRole(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); !slices.Equal(got, []string{"CreateRole", "PutRolePolicy"}) {
		t.Errorf("writes %v, want CreateRole then PutRolePolicy", got)
	}
	ops := f.ops()
	if !slices.Equal(sortedOps(ops[2:]), findReads) || ops[0] != "CreateRole" {
		t.Errorf("calls %v, want the writes then one FindRole", ops)
	}
	in := f.created[0]
	if aws.ToString(in.Path) != "/securestate/" || aws.ToString(in.RoleName) != "acme-tfstate-replication" || !maps.Equal(tagMap(in.Tags), spec.Tags) {
		t.Errorf("CreateRole %s under %s with tags %v", aws.ToString(in.RoleName), aws.ToString(in.Path), tagMap(in.Tags))
	}
	if ok, _ := policydoc.Equivalent(aws.ToString(in.AssumeRolePolicyDocument), spec.TrustPolicy.String()); !ok {
		t.Errorf("trust policy sent: %s", aws.ToString(in.AssumeRolePolicyDocument))
	}
	if p := f.policies[0]; aws.ToString(p.PolicyName) != RolePolicyName || aws.ToString(p.PolicyDocument) != spec.RolePolicy.String() {
		t.Errorf("PutRolePolicy %s: %s", aws.ToString(p.PolicyName), aws.ToString(p.PolicyDocument))
	}
	if d := RoleDrift(spec, o); d != "" || o.Tags[naming.OwnerTagKey] != "acme" || o.ARN != spec.RoleARN() {
		t.Errorf("observed %+v, drift %q", o, d)
	}
}

// A compliant role is read once (the final FindRole) and not written.
func TestEnsureRoleCompliantWritesNothing(t *testing.T) {
	f := newFakeIAM()
	spec := testSpec()
	compliantRole(f, spec)
	have := findRole(t, f, spec)
	if d := RoleDrift(spec, have); d != "" {
		t.Fatalf("drift of the compliant role: %s", d)
	}
	if _, err := EnsureRole(context.Background(), f, spec, have, false); err != nil {
		t.Fatal(err)
	}
	if got := sortedOps(f.ops()); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one FindRole and no write", got)
	}
}

// Each drifted control gets its one write: the trust policy, the inline
// policy, the tags (an added one removed, a changed one set).
func TestEnsureRoleRepairsEachControl(t *testing.T) {
	spec := testSpec()
	wider := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	anyone := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	cases := []struct {
		name          string
		trust, policy string
		tags          map[string]string
		writes        []string
	}{
		{"trust", anyone, spec.RolePolicy.String(), spec.Tags, []string{"UpdateAssumeRolePolicy"}},
		{"policy", spec.TrustPolicy.String(), wider, spec.Tags, []string{"PutRolePolicy"}},
		{"policy missing", spec.TrustPolicy.String(), "", spec.Tags, []string{"PutRolePolicy"}},
		{"tags", spec.TrustPolicy.String(), spec.RolePolicy.String(), map[string]string{naming.OwnerTagKey: "acme", "team": "other", "extra": "x"},
			[]string{"TagRole", "UntagRole"}},
		{"everything", anyone, wider, map[string]string{naming.OwnerTagKey: "acme"}, []string{"PutRolePolicy", "TagRole", "UpdateAssumeRolePolicy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIAM()
			f.addRole(spec.RoleName, naming.PolicyPath, c.trust, c.policy, c.tags)
			have := findRole(t, f, spec)
			if RoleDrift(spec, have) == "" && c.name != "tags" {
				t.Errorf("no drift reported for %s", c.name)
			}
			o, err := EnsureRole(context.Background(), f, spec, have, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := sortedOps(f.writes()); !slices.Equal(got, c.writes) {
				t.Errorf("writes %v, want %v", got, c.writes)
			}
			if d := RoleDrift(spec, o); d != "" || !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("after repair: drift %q, tags %v", d, o.Tags)
			}
		})
	}
}

func TestCheckRoleRefusesAForeignRole(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Role{Path: naming.PolicyPath, Trust: spec.TrustPolicy.String(), Policy: spec.RolePolicy.String(), Tags: tags}
		if err := CheckRole(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.RoleName) {
			t.Errorf("%s: CheckRole = %v, want a refusal naming %s", name, err, spec.RoleName)
		}
		f := newFakeIAM()
		f.addRole(spec.RoleName, naming.PolicyPath, spec.TrustPolicy.String(), spec.RolePolicy.String(), tags)
		if _, err := EnsureRole(context.Background(), f, spec, o, false); err == nil || len(f.ops()) != 0 {
			t.Errorf("%s: EnsureRole = %v after calls %v, want a refusal without I/O", name, err, f.ops())
		}
		if _, err := EnsureRole(context.Background(), f, spec, o, true); err != nil || len(f.tagged) != 1 {
			t.Errorf("%s, tracked: EnsureRole = %v, tagged %d times, want the role repaired", name, err, len(f.tagged))
		}
	}
	if err := CheckRole(spec, nil); err != nil {
		t.Errorf("nothing observed: CheckRole = %v", err)
	}
}

// A role made meanwhile by someone else is not adopted by a create; one of
// this backend (a create whose reply was lost) is, and repaired.
func TestEnsureRoleCreateFindsARoleMadeMeanwhile(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	f.addRole(spec.RoleName, naming.PolicyPath, spec.TrustPolicy.String(), "", map[string]string{"team": "other"})
	if _, err := EnsureRole(context.Background(), f, spec, nil, false); err == nil || !strings.Contains(err.Error(), "not created by this backend") {
		t.Errorf("EnsureRole = %v, want a refusal", err)
	}
	if len(f.policies) != 0 {
		t.Errorf("the foreign role was written: %v", f.writes())
	}

	f = newFakeIAM()
	f.lostCreate = apiError("RequestTimeout", "reply lost")
	if _, err := EnsureRole(context.Background(), f, spec, nil, false); err == nil {
		t.Fatal("a lost reply is an error the SDK retries")
	}
	// The SDK's retry of the same create: the role exists, with our tags.
	f.reset()
	o, err := EnsureRole(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if RoleDrift(spec, o) != "" || f.count("PutRolePolicy") != 1 || f.count("CreateRole") != 1 {
		t.Errorf("adopted role drift %q after calls %v", RoleDrift(spec, o), f.ops())
	}
}

// IAM cannot move a role: one under another path is deleted (its inline
// policies first) and made again under /securestate/.
func TestEnsureRoleRemakesARoleUnderAnotherPath(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	f.addRole(spec.RoleName, "/", spec.TrustPolicy.String(), spec.RolePolicy.String(), spec.Tags)
	f.roles[spec.RoleName].policies["extra"] = "{}"
	have := findRole(t, f, spec)
	if d := RoleDrift(spec, have); !strings.Contains(d, "path") {
		t.Errorf("drift %q, want the path", d)
	}
	o, err := EnsureRole(context.Background(), f, spec, have, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DeleteRolePolicy", "DeleteRolePolicy", "DeleteRole", "CreateRole", "PutRolePolicy"}
	if got := f.writes(); !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	if o.Path != naming.PolicyPath || RoleDrift(spec, o) != "" {
		t.Errorf("remade role %+v", o)
	}
}

// The writes after a create are retried while IAM does not see the new role;
// a service that drops tags on create gets them again.
func TestEnsureRoleAfterCreate(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	f.dropCreateTags = true
	f.fail["PutRolePolicy"] = []error{apiError("NoSuchEntity", "not yet"), apiError("NoSuchEntity", "not yet")}
	o, err := EnsureRole(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("PutRolePolicy") != 3 || len(f.tagged) != 1 || !maps.Equal(o.Tags, spec.Tags) {
		t.Errorf("PutRolePolicy %d times, TagRole %d times, tags %v", f.count("PutRolePolicy"), len(f.tagged), o.Tags)
	}
	// A role that existed before is written once: its NoSuchEntity is an error.
	f = newFakeIAM()
	f.addRole(spec.RoleName, naming.PolicyPath, spec.TrustPolicy.String(), "", spec.Tags)
	have := findRole(t, f, spec)
	f.fail["PutRolePolicy"] = []error{apiError("NoSuchEntity", "gone")}
	if _, err := EnsureRole(context.Background(), f, spec, have, false); err == nil || f.count("PutRolePolicy") != 1 {
		t.Errorf("EnsureRole = %v after %d PutRolePolicy", err, f.count("PutRolePolicy"))
	}
}

func TestEnsureRoleReportsEveryFailedWrite(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	f.addRole(spec.RoleName, naming.PolicyPath, "{}", "", map[string]string{naming.OwnerTagKey: "acme"})
	have := findRole(t, f, spec)
	trustErr, policyErr, tagErr := errors.New("trust denied"), errors.New("policy denied"), errors.New("tag denied")
	f.fail["UpdateAssumeRolePolicy"] = []error{trustErr}
	f.fail["PutRolePolicy"] = []error{policyErr}
	f.fail["TagRole"] = []error{tagErr}
	_, err := EnsureRole(context.Background(), f, spec, have, false)
	for _, want := range []error{trustErr, policyErr, tagErr} {
		if !errors.Is(err, want) {
			t.Errorf("EnsureRole = %v, want %v among the errors", err, want)
		}
	}
	f = newFakeIAM()
	createErr := errors.New("create denied")
	f.fail["CreateRole"] = []error{createErr}
	if _, err := EnsureRole(context.Background(), f, spec, nil, false); !errors.Is(err, createErr) || !strings.Contains(err.Error(), "iam:CreateRole "+spec.RoleName) {
		t.Errorf("EnsureRole = %v, want the CreateRole failure", err)
	}
}

func TestFindRole(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	getErr := errors.New("get denied")
	f.fail["GetRolePolicy"] = []error{getErr}
	if _, err := FindRole(context.Background(), f, spec.RoleName); !awserr.IsNotFound(err) {
		t.Errorf("FindRole of a missing role = %v, want not found", err)
	}
	compliantRole(f, spec)
	roleErr := errors.New("role denied")
	f.fail["GetRole"] = []error{roleErr}
	f.fail["GetRolePolicy"] = []error{getErr}
	if _, err := FindRole(context.Background(), f, spec.RoleName); !errors.Is(err, roleErr) || !errors.Is(err, getErr) ||
		!strings.Contains(err.Error(), "iam:GetRole "+spec.RoleName) || !strings.Contains(err.Error(), "iam:GetRolePolicy "+spec.RoleName) {
		t.Errorf("FindRole = %v, want both failures named", err)
	}
	delete(f.roles[spec.RoleName].policies, RolePolicyName)
	o, err := FindRole(context.Background(), f, spec.RoleName)
	if err != nil || o.Policy != "" || !strings.Contains(RoleDrift(spec, o), "missing") {
		t.Errorf("role without its policy: %+v, %v, drift %q", o, err, RoleDrift(spec, o))
	}
}

// Drift compares documents by meaning: IAM's percent-encoded text with the
// statements' lists reordered is compliant; each real difference is named.
func TestRoleDrift(t *testing.T) {
	spec := testSpec()
	reordered := spec.RolePolicy
	reordered.Statement = slices.Clone(reordered.Statement)
	slices.Reverse(reordered.Statement)
	compliant := Role{Path: naming.PolicyPath, Trust: url.QueryEscape(spec.TrustPolicy.String()), Policy: url.QueryEscape(reordered.String())}
	if d := RoleDrift(spec, &compliant); d != "" {
		t.Errorf("compliant role: drift %q", d)
	}
	objectContext := spec.RolePolicy
	objectContext.Statement = slices.Clone(objectContext.Statement)
	for i, st := range objectContext.Statement {
		if st.Sid == policies.SidReplicationDecrypt {
			st.Condition = policydoc.Conditions{"StringLike": {"kms:ViaService": {"s3.eu-central-1.amazonaws.com"}, "kms:EncryptionContext:aws:s3:arn": {"arn:aws:s3:::acme-tfstate-123456789012/*"}}}
			objectContext.Statement[i] = st
		}
	}
	for name, c := range map[string]struct {
		mutate func(*Role)
		want   string
	}{
		"path":                         {func(r *Role) { r.Path = "/" }, "path"},
		"trust":                        {func(r *Role) { r.Trust = `{"Version":"2012-10-17","Statement":[]}` }, "trust policy"},
		"policy missing":               {func(r *Role) { r.Policy = "" }, "missing"},
		"object ARN context (AFT 639)": {func(r *Role) { r.Policy = objectContext.String() }, "permissions differ"},
	} {
		r := compliant
		c.mutate(&r)
		if d := RoleDrift(spec, &r); !strings.Contains(d, c.want) {
			t.Errorf("%s: drift %q, want it to name %q", name, d, c.want)
		}
	}
	if d := RoleDrift(spec, nil); !strings.Contains(d, "missing") {
		t.Errorf("no role: drift %q", d)
	}
}

func TestDeleteRole(t *testing.T) {
	spec := testSpec()
	f := newFakeIAM()
	f.pageSize = 1
	compliantRole(f, spec)
	f.roles[spec.RoleName].policies["added-by-hand"] = "{}"
	if err := DeleteRole(context.Background(), f, spec.RoleName); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.roles[spec.RoleName]; ok || f.count("DeleteRolePolicy") != 2 || f.count("ListRolePolicies") != 2 {
		t.Errorf("after DeleteRole: calls %v", f.ops())
	}
	// Gone is done.
	if err := DeleteRole(context.Background(), f, spec.RoleName); err != nil {
		t.Errorf("DeleteRole of a missing role = %v", err)
	}
	f = newFakeIAM()
	compliantRole(f, spec)
	f.fail["DeleteRole"] = []error{apiError("DeleteConflict", "Cannot delete entity, must detach all policies first.")}
	if err := DeleteRole(context.Background(), f, spec.RoleName); err == nil || !strings.Contains(err.Error(), "detach") {
		t.Errorf("DeleteRole = %v, want the attached policies named", err)
	}
	listErr := errors.New("list denied")
	f.fail["ListRolePolicies"] = []error{listErr}
	if err := DeleteRole(context.Background(), f, spec.RoleName); !errors.Is(err, listErr) {
		t.Errorf("DeleteRole = %v, want the list failure", err)
	}
	f.fail["DeleteRolePolicy"] = []error{apiError("NoSuchEntity", "deleted meanwhile")}
	if err := DeleteRole(context.Background(), f, spec.RoleName); err != nil {
		t.Errorf("DeleteRole with a policy deleted meanwhile = %v", err)
	}
}

// An inline policy someone added to the role (more permissions for a role
// S3 assumes) is drift, and Ensure deletes it, keeping the role's own.
func TestEnsureRoleDeletesOtherInlinePolicies(t *testing.T) {
	f := newFakeIAM()
	spec := testSpec()
	compliantRole(f, spec)
	f.roles[spec.RoleName].policies["escalate"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	have := findRole(t, f, spec)
	if d := RoleDrift(spec, have); !strings.Contains(d, "other inline policies: escalate") {
		t.Fatalf("drift %q, want the extra inline policy named", d)
	}
	o, err := EnsureRole(context.Background(), f, spec, have, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := RoleDrift(spec, o); d != "" || len(f.roles[spec.RoleName].policies) != 1 || f.roles[spec.RoleName].policies[RolePolicyName] == "" {
		t.Errorf("after Ensure: drift %q, policies %v", d, slices.Sorted(maps.Keys(f.roles[spec.RoleName].policies)))
	}
}
