package permissions

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
)

// TestCommittedFilesAreGenerated: the committed policies and guide template
// are what the table generates now. `make docs` regenerates them (and
// docs/guides/permissions.md from the template); `make docs-check` fails on
// any difference too.
func TestCommittedFilesAreGenerated(t *testing.T) {
	for path, want := range Files() {
		got, err := os.ReadFile(filepath.Join(repoRoot, path))
		if err != nil {
			t.Errorf("%s: %v (run make docs)", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: it differs from what internal/permissions generates; run make docs and commit the result", path)
		}
	}
}

var (
	actionPattern = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)
	sidPattern    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// TestPoliciesAreValidIAMPolicies: each policy parses as an IAM policy
// document, has well-formed, unique statement IDs and actions, no wildcard
// actions, no S3 or DynamoDB action on "*", resources that are ARNs or "*",
// and fits one managed policy.
func TestPoliciesAreValidIAMPolicies(t *testing.T) {
	sids := map[string]bool{}
	for _, g := range Groups {
		text := string(PolicyJSON(g))
		d, err := policydoc.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", g.File(), err)
		}
		if d.Version != "2012-10-17" || len(d.Statement) == 0 {
			t.Errorf("%s: version %q, %d statements", g.File(), d.Version, len(d.Statement))
		}
		for _, f := range policydoc.Wildcards(d) {
			t.Errorf("%s: %s", g.File(), f)
		}
		for _, st := range d.Statement {
			if !sidPattern.MatchString(st.Sid) || sids[st.Sid] {
				t.Errorf("%s: statement ID %q is not alphanumeric or not unique across the policies", g.File(), st.Sid)
			}
			sids[st.Sid] = true
			if st.Effect != "Allow" || len(st.Action) == 0 || len(st.Resource) == 0 || st.NotAction != nil || st.NotResource != nil || st.Principal != nil {
				t.Errorf("%s: %s: want an Allow statement with Action and Resource only", g.File(), st.Sid)
			}
			for _, a := range st.Action {
				if !actionPattern.MatchString(a) {
					t.Errorf("%s: %s: action %q is not service:Action", g.File(), st.Sid, a)
				}
			}
			for _, r := range st.Resource {
				if r != "*" && !strings.HasPrefix(r, "arn:aws:") {
					t.Errorf("%s: %s: resource %q is neither \"*\" nor an ARN pattern", g.File(), st.Sid, r)
				}
			}
		}
		if n := PolicySize(g); n > MaxPolicySize {
			t.Errorf("%s has %d characters without whitespace; an IAM managed policy holds at most %d: split the group", g.File(), n, MaxPolicySize)
		}
	}
}

// prefixes are the IAM action prefixes of each service.
var prefixes = map[string]string{
	cloudtrail.ServiceID: "cloudtrail", cloudwatch.ServiceID: "cloudwatch", cloudwatchlogs.ServiceID: "logs", dynamodb.ServiceID: "dynamodb",
	eventbridge.ServiceID: "events", iam.ServiceID: "iam", kms.ServiceID: "kms", s3.ServiceID: "s3", sts.ServiceID: "sts",
}

// TestEntriesAreConsistent: an operation's first action is its own
// service's; only operations AWS does not authorise have no action; every
// action of the table reaches a policy, unless granted elsewhere.
func TestEntriesAreConsistent(t *testing.T) {
	inPolicies := map[string]bool{}
	for _, g := range Groups {
		for _, st := range Policy(g).Statement {
			for _, a := range st.Action {
				inPolicies[a] = true
			}
		}
	}
	for _, op := range Operations {
		name := op.Service + " " + op.Name
		if op.Component == nil {
			t.Errorf("%s has no component", name)
			continue
		}
		if len(op.Actions) == 0 {
			if op.Note == "" {
				t.Errorf("%s has no IAM action and no note saying why", name)
			}
			continue
		}
		if p, _, _ := strings.Cut(op.Actions[0].Name, ":"); p != prefixes[op.Service] {
			t.Errorf("%s: first action %s is not a %s action", name, op.Actions[0].Name, prefixes[op.Service])
		}
		if op.AlsoDestroy && op.Group != CreateUpdate {
			t.Errorf("%s: AlsoDestroy is for create/update operations", name)
		}
		for _, a := range op.Actions {
			if a.Scope == nil {
				t.Errorf("%s: %s has no scope", name, a.Name)
				continue
			}
			if !op.Separate && !inPolicies[a.Name] {
				t.Errorf("%s: %s is in no policy", name, a.Name)
			}
		}
	}
	if _, ok := Lookup(s3.ServiceID, "GetBucketEncryption"); !ok {
		t.Error("Lookup does not find S3 GetBucketEncryption")
	}
	if _, ok := Lookup(s3.ServiceID, "PutObject"); ok {
		t.Error("Lookup finds S3 PutObject, which the provider never calls")
	}
}

// TestScopesCoverTheBackendsObjects: each resource pattern matches the ARNs
// of the objects a backend named by the default rules has, built the way the
// component packages build them, and not those of unrelated objects; a
// scope too narrow would break the provider, one too wide would grant more
// than it needs.
func TestScopesCoverTheBackendsObjects(t *testing.T) {
	const (
		name          = "acme"
		account       = "123456789012"
		region        = "eu-central-1"
		replicaRegion = "us-west-2"
	)
	bucket := naming.StateBucket(name, account)
	replica := naming.ReplicaBucket(bucket)
	spec := alarms.Spec{Backend: name, Partition: "aws", Region: region, AccountID: account}
	repl := replication.Spec{Backend: name, Partition: "aws", AccountID: account, Bucket: bucket, Region: region,
		ReplicaBucket: replica, ReplicaRegion: replicaRegion, RoleName: naming.ReplicationRole(name)}
	regional := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + account + ":" + resource
	}
	// The replica key and bucket are in the replica's region.
	inReplicaRegion := func(service, resource string) string {
		return "arn:aws:" + service + ":" + replicaRegion + ":" + account + ":" + resource
	}
	cases := []struct {
		scope       *Scope
		match, miss []string
	}{
		{keys, []string{regional("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"), inReplicaRegion("kms", "key/0987abcd-12ab-34cd-56ef-1234567890ab")},
			[]string{regional("kms", naming.KeyAlias(name))}},
		{aliasAndKeys, []string{regional("kms", naming.KeyAlias(name)), regional("kms", naming.TofuEncryptionKeyAlias(name, "dev")), regional("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
			inReplicaRegion("kms", naming.ReplicaKeyAlias(name)), inReplicaRegion("kms", "key/0987abcd-12ab-34cd-56ef-1234567890ab")},
			[]string{regional("kms", "alias/other"), inReplicaRegion("kms", "alias/other-replica")}},
		{keyGrants, []string{regional("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")}, nil},
		{buckets, []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + naming.LogBucket(bucket), repl.ReplicaBucketARN(), "arn:aws:s3:::" + name + "-tfstate-" + account + "-replica"},
			[]string{"arn:aws:s3:::other-bucket", "arn:aws:s3:::other-replica"}},
		{objects, []string{"arn:aws:s3:::" + bucket + "/dev/terraform.tfstate", "arn:aws:s3:::" + naming.LogBucket(bucket) + "/cloudtrail/x.json.gz", repl.ReplicaBucketARN() + "/dev/terraform.tfstate"},
			[]string{"arn:aws:s3:::" + bucket, repl.ReplicaBucketARN()}},
		{tables, []string{regional("dynamodb", "table/"+naming.LockTable(name))}, []string{regional("dynamodb", "table/other")}},
		{accessPolicies, []string{accesspolicy.ARN("aws", account, naming.AccessPolicy(name, "dev"))}, []string{"arn:aws:iam::" + account + ":policy/" + naming.AccessPolicy(name, "dev")}},
		{trailRole, []string{spec.RoleARN()}, []string{"arn:aws:iam::" + account + ":role/admin", repl.RoleARN()}},
		{passTrailRole, []string{spec.RoleARN()}, nil},
		// Each role's scope is its own: neither covers the other role.
		{replicationRole, []string{repl.RoleARN()}, []string{spec.RoleARN(), "arn:aws:iam::" + account + ":role/admin"}},
		{passReplicationRole, []string{repl.RoleARN()}, []string{spec.RoleARN()}},
		{eventRules, []string{regional("events", "rule/"+naming.StateEventsRule(name))}, []string{regional("events", "rule/other")}},
		{logGroup, []string{spec.GroupARN(), spec.LogGroupARN()}, []string{regional("logs", "log-group:/aws/lambda/x")}},
		{logGroups, []string{spec.GroupARN()}, nil},
		{alarmsScope, []string{regional("cloudwatch", "alarm:"+naming.StateDeletedAlarm(name)), regional("cloudwatch", "alarm:"+naming.AccessDeniedAlarm(name)),
			regional("cloudwatch", "alarm:"+naming.ReplicationFailedAlarm(name))}, []string{regional("cloudwatch", "alarm:other")}},
		{trails, []string{regional("cloudtrail", "trail/"+naming.Trail(name))}, []string{regional("cloudtrail", "trail/management-events")}},
	}
	// Described in words, like assumedRole: the scan reads what it is given.
	covered := map[*Scope]bool{anyResource: true, assumedRole: true, scannedBucket: true, scannedObjects: true}
	for _, c := range cases {
		covered[c.scope] = true
		for _, a := range c.match {
			if !matchesAny(c.scope.Resources, a) {
				t.Errorf("%v does not match %s, which the provider needs", c.scope.Resources, a)
			}
		}
		for _, a := range c.miss {
			if matchesAny(c.scope.Resources, a) {
				t.Errorf("%v matches %s, which is not the backend's", c.scope.Resources, a)
			}
		}
	}
	for _, op := range Operations {
		for _, a := range op.Actions {
			if !covered[a.Scope] {
				t.Errorf("the scope of %s (%v) has no case here", a.Name, a.Scope.Resources)
			}
		}
	}
}

// matchesAny matches an ARN against IAM resource patterns, where "*" is any
// run of characters and "?" any one character.
func matchesAny(patterns []string, arn string) bool {
	for _, p := range patterns {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
		if regexp.MustCompile(re).MatchString(arn) {
			return true
		}
	}
	return false
}
