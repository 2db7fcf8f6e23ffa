package policies

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// The issue-13 access model, proved over a table of combinations: every
// document each combination renders goes through every check of
// access_checks_test.go. The same table feeds scripts/policylint.sh
// (lint_test.go), so the linter sees exactly what these proofs see.

const (
	tAccount  = "123456789012"
	tRegion   = "eu-central-1"
	tBucket   = "acme-tfstate-123456789012"
	tBucketA  = "arn:aws:s3:::" + tBucket
	tKeyARN   = "arn:aws:kms:eu-central-1:123456789012:key/1111"
	tTableARN = "arn:aws:dynamodb:eu-central-1:123456789012:table/acme-tflock"
	tRoot     = "arn:aws:iam::123456789012:root"

	otherCI        = "arn:aws:iam::210987654321:role/ci"
	otherAuditor   = "arn:aws:iam::333333333333:role/readers/auditor"
	otherDeployer  = "arn:aws:iam::444444444444:role/platform/deployer"
	ownDeployer    = "arn:aws:iam::123456789012:role/app-deployer"
	ownReader      = "arn:aws:iam::123456789012:user/dev-reader"
	providerRole   = "arn:aws:iam::123456789012:role/securestate-provider"
	providerUser   = "arn:aws:iam::123456789012:user/automation/securestate"
	breakGlassRole = "arn:aws:iam::123456789012:role/break-glass"
	breakGlassUser = "arn:aws:iam::123456789012:user/emergency/ops"
	keyAdminRole   = "arn:aws:iam::123456789012:role/key-admin"
	keyAdminUser   = "arn:aws:iam::123456789012:user/security/alice"
	outsider       = "arn:aws:iam::555555555555:role/intruder"

	tReplicaBucket = tBucket + "-replica"
	tReplicaRegion = "eu-west-1"
	tReplicaA      = "arn:aws:s3:::" + tReplicaBucket
	tReplicaKeyARN = "arn:aws:kms:eu-west-1:123456789012:key/2222"
	tReplicaRole   = "arn:aws:iam::123456789012:role/securestate/acme-tfstate-replication"

	tOrg   = "o-a1b2c3d4e5"
	tPath1 = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"
	tPath2 = "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/"
	tVPCE1 = "vpce-0a1b2c3d4e5f60001"
	tVPCE2 = "vpce-0a1b2c3d4e5f60002"
)

// statePrincipals are the pre-issue-13 same-account principals (principals).
var statePrincipals = []string{"arn:aws:iam::123456789012:user/ops", "arn:aws:iam::123456789012:role/ci"}

// dimension is one way a backend varies; each value changes a base backend.
type dimension struct {
	name   string
	values []dimensionValue
}

type dimensionValue struct {
	name  string
	apply func(*Backend)
}

func accessDimensions() []dimension {
	boundary := func(f func(*Boundary)) func(*Backend) {
		return func(b *Backend) {
			b.Boundary = &Boundary{}
			f(b.Boundary)
		}
	}
	grants := func(gs ...Grant) func(*Backend) { return func(b *Backend) { b.Grants = gs } }
	return []dimension{
		{"lock", []dimensionValue{
			{"table+lockfile", func(*Backend) {}},
			{"table", func(b *Backend) { b.Lockfile = false }},
			{"lockfile", func(b *Backend) { b.TableARN = "" }},
		}},
		{"grants", []dimensionValue{
			{"no-grants", func(*Backend) {}},
			// A principal listed twice, principals of two other accounts and the own one.
			{"one-env", grants(Grant{Environment: "dev", ReadWrite: []string{otherCI, ownDeployer, otherCI}, ReadOnly: []string{otherAuditor}})},
			// otherCI writes dev and only reads prod.
			{"two-envs", grants(
				Grant{Environment: "dev", ReadWrite: []string{otherCI}, ReadOnly: []string{otherAuditor, ownReader}},
				Grant{Environment: "prod", ReadWrite: []string{otherDeployer}, ReadOnly: []string{otherCI}})},
			{"read-write-only", grants(Grant{Environment: "prod", ReadWrite: []string{otherDeployer, ownDeployer}})},
			{"read-only-only", grants(Grant{Environment: "prod", ReadOnly: []string{otherAuditor}})},
			{"own-account", grants(Grant{Environment: "dev", ReadWrite: []string{ownDeployer}, ReadOnly: []string{ownReader}})},
			// Environment names whose statement ID parts collide.
			{"colliding-names", grants(
				Grant{Environment: "dev-1", ReadWrite: []string{otherCI}},
				Grant{Environment: "dev1", ReadWrite: []string{ownDeployer}, ReadOnly: []string{otherAuditor}},
				Grant{Environment: "dev_1", ReadOnly: []string{ownReader}},
				Grant{Environment: "dev12", ReadWrite: []string{otherDeployer}})},
		}},
		{"boundary", []dimensionValue{
			{"no-boundary", func(*Backend) {}},
			{"organization", boundary(func(bd *Boundary) { bd.OrganizationID = tOrg })},
			{"org-paths", boundary(func(bd *Boundary) { bd.OrgPaths = []string{tPath2, tPath1} })},
			{"vpc-endpoints", boundary(func(bd *Boundary) { bd.VPCEndpointIDs = []string{tVPCE2, tVPCE1} })},
			{"principal-tag", boundary(func(bd *Boundary) { bd.PrincipalTags = map[string]string{"team": "platform"} })},
			{"principal-tags-2", boundary(func(bd *Boundary) { bd.PrincipalTags = map[string]string{"team": "platform", "data-class": "state"} })},
			{"break-glass", boundary(func(bd *Boundary) {
				bd.OrganizationID = tOrg
				bd.BreakGlass = []string{breakGlassUser, breakGlassRole}
			})},
			{"full-boundary", boundary(func(bd *Boundary) {
				bd.OrganizationID = tOrg
				bd.OrgPaths = []string{tPath1, tPath2}
				bd.VPCEndpointIDs = []string{tVPCE1, tVPCE2}
				bd.PrincipalTags = map[string]string{"team": "platform", "data-class": "state"}
				bd.BreakGlass = []string{breakGlassRole, breakGlassUser}
			})},
		}},
		{"admins", []dimensionValue{
			{"no-admins", func(*Backend) {}},
			{"admins", func(b *Backend) { b.KeyAdmins = &KeyAdministrators{Principals: []string{keyAdminUser, keyAdminRole}} }},
			{"admins-mfa", func(b *Backend) {
				b.KeyAdmins = &KeyAdministrators{Principals: []string{keyAdminRole, keyAdminUser}, RequireMFA: true}
			}},
			// The provider's role is also an administrator: MFA is still not asked of it.
			{"provider-admin-mfa", func(b *Backend) {
				b.KeyAdmins = &KeyAdministrators{Principals: []string{keyAdminRole, providerRole}, RequireMFA: true}
			}},
		}},
		{"provider", []dimensionValue{
			{"no-provider", func(*Backend) {}},
			{"provider-role", func(b *Backend) { b.Provider = providerRole }},
			{"provider-user", func(b *Backend) { b.Provider = providerUser }},
		}},
		{"monitoring", []dimensionValue{
			{"unmonitored", func(*Backend) {}},
			{"monitored", func(b *Backend) {
				b.TrailARN = "arn:aws:cloudtrail:eu-central-1:123456789012:trail/acme-tfstate-audit"
				b.LogGroupARN = "arn:aws:logs:eu-central-1:123456789012:log-group:/securestate/acme/cloudtrail"
			}},
		}},
		{"principals", []dimensionValue{
			{"no-principals", func(*Backend) {}},
			{"principals", func(b *Backend) { b.Principals = slices.Clone(statePrincipals) }},
		}},
		// Cross-region replication (issue 16): the replica bucket and key
		// policies join the documents, and the identity policies read the
		// replica.
		{"replication", []dimensionValue{
			{"no-replica", func(*Backend) {}},
			{"replica", func(b *Backend) { b.Replica = testReplica() }},
		}},
	}
}

func testReplica() *Replica {
	return &Replica{Bucket: tReplicaBucket, Region: tReplicaRegion, KeyARN: tReplicaKeyARN, RoleARN: tReplicaRole}
}

// combination is one row of the table.
type combination struct {
	values []string // one value name per dimension
	b      Backend
}

func (c combination) name() string { return strings.Join(c.values, " ") }

func baseBackend() Backend {
	return Backend{Partition: "aws", Region: tRegion, AccountID: tAccount, Bucket: tBucket, KeyARN: tKeyARN, TableARN: tTableARN, Lockfile: true}
}

func build(dims []dimension, idx []int) combination {
	b := baseBackend()
	c := combination{}
	for d, i := range idx {
		dims[d].values[i].apply(&b)
		c.values = append(c.values, dims[d].values[i].name)
	}
	c.b = b
	return c
}

// tripleDimensions interact (who is exempt from which deny), so every triple
// of their values is covered, not only every pair.
var tripleDimensions = []string{"boundary", "admins", "provider"}

// accessCombinations is the table: a covering array in which every pair of
// values of any two dimensions, and every triple of values of
// tripleDimensions, occurs in at least one row (chosen greedily, so
// deterministic), followed by every row without the access model (grants,
// boundary and key administrators all absent), which is compared with the
// pre-issue-13 documents.
func accessCombinations() []combination { return combinationTable() }

var combinationTable = sync.OnceValue(coveringCombinations)

func coveringCombinations() []combination {
	dims := accessDimensions()
	sizes := make([]int, len(dims))
	for i, d := range dims {
		sizes[i] = len(d.values)
	}
	var groups [][]int // the dimension tuples to cover
	for i := range dims {
		for j := i + 1; j < len(dims); j++ {
			groups = append(groups, []int{i, j})
		}
	}
	var triple []int
	for _, name := range tripleDimensions {
		triple = append(triple, slices.IndexFunc(dims, func(d dimension) bool { return d.name == name }))
	}
	groups = append(groups, triple)
	offsets := make([]int, len(groups))
	total := 0
	for g, group := range groups {
		offsets[g] = total
		n := 1
		for _, d := range group {
			n *= sizes[d]
		}
		total += n
	}
	tupleIDs := func(idx []int) []int {
		ids := make([]int, len(groups))
		for g, group := range groups {
			id := 0
			for _, d := range group {
				id = id*sizes[d] + idx[d]
			}
			ids[g] = offsets[g] + id
		}
		return ids
	}
	// Every row of the full product, with the tuples it covers.
	var rows [][]int
	var rowTuples [][]int
	for idx := make([]int, len(dims)); ; {
		rows = append(rows, slices.Clone(idx))
		rowTuples = append(rowTuples, tupleIDs(idx))
		d := len(idx) - 1
		for d >= 0 {
			idx[d]++
			if idx[d] < sizes[d] {
				break
			}
			idx[d] = 0
			d--
		}
		if d < 0 {
			break
		}
	}
	covered := make([]bool, total)
	left := total
	var out []combination
	for left > 0 {
		best, bestGain := -1, 0
		for r, tuples := range rowTuples {
			gain := 0
			for _, id := range tuples {
				if !covered[id] {
					gain++
				}
			}
			if gain > bestGain {
				best, bestGain = r, gain
			}
		}
		for _, id := range rowTuples[best] {
			if !covered[id] {
				covered[id] = true
				left--
			}
		}
		out = append(out, build(dims, rows[best]))
	}
	// Every backend without the access model (and without replication, which
	// came later), for the pre-issue-13 comparison.
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.name()] = true
	}
	for _, idx := range rows {
		c := build(dims, idx)
		if !seen[c.name()] && !hasAccessModel(c.b) && c.b.Provider == "" && c.b.Replica == nil {
			out = append(out, c)
		}
	}
	return out
}

func hasAccessModel(b Backend) bool {
	return len(b.Grants) > 0 || b.Boundary != nil || b.KeyAdmins != nil
}

// document is one rendered policy document of a combination.
type document struct {
	// key, bucket, table, replica-key, replica-bucket (resource policies);
	// access, read-only (identity policies)
	kind string
	env  string // for access and read-only
	doc  policydoc.Document
}

func (d document) label() string {
	if d.env == "" {
		return d.kind
	}
	return d.kind + "/" + d.env
}

func (d document) resourcePolicy() bool { return d.env == "" }

// environments are the grants' environments in order, or "dev" without grants.
func environments(b Backend) []string {
	var envs []string
	for _, g := range b.Grants {
		envs = append(envs, g.Environment)
	}
	if len(envs) == 0 {
		envs = []string{"dev"}
	}
	return envs
}

// renderDocuments builds every document of a backend that the access model
// touches.
func renderDocuments(b Backend) []document {
	docs := []document{{kind: "key", doc: KeyPolicy(b)}, {kind: "bucket", doc: BucketPolicy(b)}, {kind: "table", doc: LockTablePolicy(b)}}
	if b.Replica != nil {
		docs = append(docs, document{kind: "replica-key", doc: ReplicaKeyPolicy(b)}, document{kind: "replica-bucket", doc: ReplicaBucketPolicy(b)})
	}
	for _, env := range environments(b) {
		docs = append(docs, document{kind: "access", env: env, doc: AccessPolicy(b, env)},
			document{kind: "read-only", env: env, doc: ReadOnlyAccessPolicy(b, env)})
	}
	return docs
}

// TestAccessModelCombinations renders every combination and runs every check
// on its documents; a failure names the combination, the check and the
// document.
func TestAccessModelCombinations(t *testing.T) {
	start := time.Now()
	combos := accessCombinations()
	documents := 0
	for _, c := range combos {
		docs := renderDocuments(c.b)
		documents += len(docs)
		for _, f := range runChecks(c.b, docs) {
			t.Errorf("%s: %s", c.name(), f)
		}
	}
	if len(combos) < 96 {
		t.Errorf("only %d combinations: the boundary, key administrator and provider triples alone need 96", len(combos))
	}
	t.Logf("%d combinations, %d documents, %d checks each, in %s", len(combos), documents, len(accessChecks), time.Since(start).Round(time.Millisecond))
}

// The table covers what it says it covers: every pair of dimension values,
// and every boundary × key administrators × provider triple.
func TestAccessCombinationsCoverEveryPair(t *testing.T) {
	dims := accessDimensions()
	seen := map[string]bool{}
	for _, c := range accessCombinations() {
		for i := range c.values {
			for j := i + 1; j < len(c.values); j++ {
				seen[c.values[i]+"|"+c.values[j]] = true
			}
		}
		seen[c.values[2]+"|"+c.values[3]+"|"+c.values[4]] = true
	}
	for i := range dims {
		for j := i + 1; j < len(dims); j++ {
			for _, a := range dims[i].values {
				for _, b := range dims[j].values {
					if !seen[a.name+"|"+b.name] {
						t.Errorf("no combination has both %s and %s", a.name, b.name)
					}
				}
			}
		}
	}
	if dims[2].name != "boundary" || dims[3].name != "admins" || dims[4].name != "provider" {
		t.Fatalf("dimension order changed: %s %s %s", dims[2].name, dims[3].name, dims[4].name)
	}
	for _, a := range dims[2].values {
		for _, b := range dims[3].values {
			for _, c := range dims[4].values {
				if !seen[a.name+"|"+b.name+"|"+c.name] {
					t.Errorf("no combination has %s, %s and %s", a.name, b.name, c.name)
				}
			}
		}
	}
}

func TestCallerPrincipal(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/deployer/session-1": "arn:aws:iam::123456789012:role/deployer",
		"arn:aws-cn:sts::123456789012:assumed-role/deployer/i-0abc": "arn:aws-cn:iam::123456789012:role/deployer",
		"arn:aws:sts::123456789012:user/ops":                        "arn:aws:iam::123456789012:user/ops",
		"arn:aws:iam::123456789012:user/ops":                        "arn:aws:iam::123456789012:user/ops",
		"arn:aws:iam::123456789012:user/team/ops":                   "arn:aws:iam::123456789012:user/team/ops",
		"arn:aws:iam::123456789012:root":                            "arn:aws:iam::123456789012:root",
		"arn:aws:iam::123456789012:role/path/deployer":              "arn:aws:iam::123456789012:role/path/deployer",
		"arn:aws:sts::123456789012:federated-user/bob":              "arn:aws:sts::123456789012:federated-user/bob",
		"garbage":                   "",
		"":                          "",
		"arn:aws:sts::123456789012": "",
		"arn:aws-us-gov:sts::123456789012:assumed-role/a-b_c+d=e@f/s.1": "arn:aws-us-gov:iam::123456789012:role/a-b_c+d=e@f",
	} {
		if got := CallerPrincipal(in); got != want {
			t.Errorf("CallerPrincipal(%q) = %q, want %q", in, got, want)
		}
	}
}

// find returns the document with the label; the test fails without one.
func find(t *testing.T, docs []document, label string) *policydoc.Document {
	t.Helper()
	for i := range docs {
		if docs[i].label() == label {
			return &docs[i].doc
		}
	}
	t.Fatalf("no %s document", label)
	return nil
}

// statement returns the statement with the Sid; the test fails without one.
func statement(t *testing.T, d *policydoc.Document, sid string) *policydoc.Statement {
	t.Helper()
	for i := range d.Statement {
		if d.Statement[i].Sid == sid {
			return &d.Statement[i]
		}
	}
	t.Fatalf("no statement %s", sid)
	return nil
}

// backendOf builds the backend with the named dimension values (the base
// backend's value for any dimension not named).
func backendOf(t *testing.T, names ...string) Backend {
	t.Helper()
	b := baseBackend()
	for _, name := range names {
		found := false
		for _, d := range accessDimensions() {
			for _, v := range d.values {
				if v.name == name {
					v.apply(&b)
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("no dimension value %q", name)
		}
	}
	return b
}

// richBackend has every part of the access model; plainBackend none.
func richBackend(t *testing.T) Backend {
	return backendOf(t, "table+lockfile", "two-envs", "full-boundary", "admins-mfa", "provider-role", "monitored", "principals", "replica")
}

func plainBackend(t *testing.T) Backend {
	return backendOf(t, "table+lockfile", "monitored", "principals")
}

// Every check can fail: each case breaks one document the way a faulty
// policies.go could, and the named check must report it.
func TestAccessChecksCatchMutations(t *testing.T) {
	for _, b := range []Backend{richBackend(t), plainBackend(t)} {
		if f := runChecks(b, renderDocuments(b)); len(f) > 0 {
			t.Fatalf("the unmutated documents already fail: %v", f)
		}
	}
	allow := func(principal string, action, resource string) policydoc.Statement {
		return policydoc.Statement{Sid: "Extra", Effect: "Allow", Principal: policydoc.Principal{"AWS": {principal}},
			Action: policydoc.StringSet{action}, Resource: policydoc.StringSet{resource}}
	}
	cases := []struct {
		name, check string
		plain       bool
		mutate      func(t *testing.T, docs []document)
	}{
		{"s3:* allowed", "no-broad-grants", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "bucket")
			d.Statement = append(d.Statement, allow(otherCI, "s3:*", tBucketA+"/dev/*"))
		}},
		{"kms:* to a granted principal", "no-broad-grants", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadWriteS3).Action = policydoc.StringSet{"kms:*"}
		}},
		{"everyone allowed", "no-broad-grants", false, func(t *testing.T, docs []document) {
			find(t, docs, "table").Statement[0].Principal = policydoc.Principal{"*": {"*"}}
		}},
		{"NotResource", "no-broad-grants", false, func(t *testing.T, docs []document) {
			find(t, docs, "access/dev").Statement[0].NotResource = policydoc.StringSet{tBucketA + "/prod/*"}
		}},
		{"action pattern", "no-broad-grants", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "read-only/dev"), "ReadStateObjects").Action = policydoc.StringSet{"s3:Get*"}
		}},
		{"identity policy with a principal", "no-broad-grants", false, func(t *testing.T, docs []document) {
			find(t, docs, "access/prod").Statement[0].Principal = policydoc.Principal{"AWS": {otherCI}}
		}},
		{"another bucket", "resources", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "access/dev"), SidStateObjects).Resource = policydoc.StringSet{"arn:aws:s3:::other-bucket/dev/*"}
		}},
		{"another key", "resources", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadOnlyS3).Resource = policydoc.StringSet{"arn:aws:kms:eu-central-1:123456789012:key/2222"}
		}},
		{"every object", "resources", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "bucket"), "DevReadOnlyObjects").Resource = policydoc.StringSet{tBucketA + "/*"}
		}},
		{"principal of another environment", "environments", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "bucket"), "DevReadWriteObjects")
			st.Principal = policydoc.Principal{"AWS": append(slices.Clone(st.Principal["AWS"]), otherDeployer)}
		}},
		{"listing without a prefix", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "bucket"), "DevReadOnlyList").Condition = nil
		}},
		{"lock items of every environment", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "table"), "ProdGrantedLockItems").Condition = policydoc.Conditions{
				"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {tBucket + "/*"}}}
		}},
		{"DescribeTable back under LeadingKeys", "environments", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "table"), "DevGrantedLockItems")
			st.Action = append(st.Action, "dynamodb:DescribeTable")
		}},
		{"DescribeTable statement also scans", "environments", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "table"), "DevGrantedDescribeTable")
			st.Action = append(st.Action, "dynamodb:Scan")
		}},
		{"DescribeTable to an outsider", "environments", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "table"), "ProdGrantedDescribeTable")
			st.Principal = policydoc.Principal{"AWS": append(slices.Clone(st.Principal["AWS"]), outsider)}
		}},
		{"read-only policy reads another environment's digest", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "read-only/dev"), "ReadStateDigest").Condition = policydoc.Conditions{
				"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {tBucket + "/prod/*"}}}
		}},
		{"key grant for another bucket's context", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadOnlyS3).Condition["StringLike"][s3ContextKey] = policydoc.StringSet{"arn:aws:s3:::other-bucket/*"}
		}},
		{"key grant for another table's context", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadOnlyDynamoDB).Condition["StringEquals"][tableContextKey] = policydoc.StringSet{"other-table"}
		}},
		{"ForAnyValue", "operators", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "table"), "DevGrantedLockItems")
			st.Condition = policydoc.Conditions{"ForAnyValue:StringLike": st.Condition["ForAllValues:StringLike"]}
		}},
		{"unknown operator", "operators", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadOnlyS3).Condition["NumericLessThan"] = map[string]policydoc.StringSet{"kms:x": {"1"}}
		}},
		{"read-only principal writes", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "bucket"), "ProdReadOnlyObjects")
			st.Action = append(st.Action, "s3:PutObject")
		}},
		{"read-only policy deletes", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "read-only/prod"), "ReadStateObjects")
			st.Action = append(st.Action, "s3:DeleteObject")
		}},
		{"read-only principal encrypts", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidGrantReadWriteS3)
			st.Principal = policydoc.Principal{"AWS": append(slices.Clone(st.Principal["AWS"]), otherAuditor)}
			st.Condition["StringEquals"]["kms:CallerAccount"] = append(slices.Clone(st.Condition["StringEquals"]["kms:CallerAccount"]), "333333333333")
		}},
		{"read-only decrypt through DynamoDB encrypts too", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidGrantReadOnlyDynamoDB)
			st.Action = append(st.Action, "kms:GenerateDataKey")
		}},
		{"read-only decrypt through DynamoDB for any table", "read-only", false, func(t *testing.T, docs []document) {
			delete(statement(t, find(t, docs, "key"), SidGrantReadOnlyDynamoDB).Condition["StringEquals"], tableContextKey)
		}},
		{"read-only decrypt through any service", "read-only", false, func(t *testing.T, docs []document) {
			delete(statement(t, find(t, docs, "key"), SidGrantReadOnlyS3).Condition["StringEquals"], "kms:ViaService")
		}},
		{"DescribeTable statement writes", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "table"), "DevGrantedDescribeTable")
			st.Action = append(st.Action, "dynamodb:PutItem")
		}},
		{"read-only decrypt through DynamoDB dropped", "required-access", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "key")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidGrantReadOnlyDynamoDB })
		}},
		{"DescribeTable dropped from the read-only policy", "required-access", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "read-only/prod")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidLockTableLookup })
		}},
		{"read-write grant widened", "required-access", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "bucket"), "DevReadWriteObjects")
			st.Action = append(st.Action, "s3:GetObjectVersion")
		}},
		{"read-write principal dropped", "required-access", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "bucket"), "DevReadWriteObjects").Principal = policydoc.Principal{"AWS": {otherDeployer}}
		}},
		{"lock table grant dropped", "required-access", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "table")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == "ProdGrantedLockItems" })
		}},
		{"tag denies merged", "boundary", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "bucket")
			first := statement(t, d, SidDenyPrincipalTag+"1")
			second := statement(t, d, SidDenyPrincipalTag+"2")
			for k, v := range second.Condition["StringNotEquals"] {
				first.Condition["StringNotEquals"][k] = v
			}
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidDenyPrincipalTag+"2" })
		}},
		{"break-glass not exempt", "boundary", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidDenyOutsideOrg)
			st.Condition["ArnNotLike"]["aws:PrincipalArn"] = policydoc.StringSet{tRoot, providerRole, "arn:aws:iam::123456789012:role/*/securestate-provider"}
		}},
		{"services not excluded", "boundary", false, func(t *testing.T, docs []document) {
			delete(statement(t, find(t, docs, "bucket"), SidDenyOutsideOrgPaths).Condition, "BoolIfExists")
		}},
		{"VPC endpoints in the key policy", "boundary", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "key")
			st := *statement(t, find(t, docs, "bucket"), SidDenyOutsideVPCE)
			st.Action, st.Resource = policydoc.StringSet{"kms:Decrypt"}, policydoc.StringSet{"*"}
			d.Statement = append(d.Statement, st)
		}},
		{"boundary deny of compliant callers", "boundary", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "bucket"), SidDenyOutsideOrg)
			st.Condition["StringEquals"] = st.Condition["StringNotEquals"]
			delete(st.Condition, "StringNotEquals")
		}},
		{"provider denied key administration", "key-administration", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidDenyKeyAdminOthers).Condition["ArnNotLike"]["aws:PrincipalArn"] = wantPatterns(keyAdminRole, keyAdminUser)
		}},
		{"root exempt from key administration", "key-administration", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidDenyKeyAdminOthers)
			st.Condition["ArnNotLike"]["aws:PrincipalArn"] = append(slices.Clone(st.Condition["ArnNotLike"]["aws:PrincipalArn"]), tRoot)
		}},
		{"MFA asked of the provider", "key-administration", false, func(t *testing.T, docs []document) {
			delete(statement(t, find(t, docs, "key"), SidDenyKeyAdminNoMFA).Condition, "ArnNotLike")
		}},
		{"key deletion not reserved", "key-administration", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidDenyKeyAdminOthers).Action = policydoc.StringSet{"kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy"}
		}},
		{"DescribeKey denied", "recovery", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidDenyOutsideOrg)
			st.Action = append(st.Action, "kms:DescribeKey")
		}},
		{"EnableKey denied to the root", "recovery", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "key"), SidDenyKeyAdminOthers)
			st.Action = append(st.Action, "kms:EnableKey")
		}},
		{"repeated Sid", "statement-ids", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "bucket")
			d.Statement[1].Sid = d.Statement[0].Sid
		}},
		{"Sid with a hyphen", "statement-ids", false, func(t *testing.T, docs []document) {
			find(t, docs, "table").Statement[0].Sid = "Dev-1GrantedLockItems"
		}},
		{"text that does not round-trip", "round-trip", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "access/dev"), SidUseKey).Resource = policydoc.StringSet{tKeyARN + "\xff"}
		}},
		{"key policy grows without the access model", "unchanged", true, func(t *testing.T, docs []document) {
			d := find(t, docs, "key")
			d.Statement = append(d.Statement, allow(tRoot, "kms:Decrypt", "*"))
		}},
		{"lock table policy without grants", "unchanged", true, func(t *testing.T, docs []document) {
			d := find(t, docs, "table")
			d.Statement = append(d.Statement, allow(ownDeployer, "dynamodb:GetItem", tTableARN))
		}},
		{"access policy changed", "unchanged", true, func(t *testing.T, docs []document) {
			d := find(t, docs, "access/dev")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidLockFiles })
		}},
		{"key grant under a foreign Sid", "unchanged", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "key"), SidGrantReadOnlyDynamoDB).Sid = "ReadOnlyDigestDecrypt"
		}},
		{"pre-issue-13 bucket statement changed", "unchanged", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "bucket"), SidDenyInsecure).Condition = nil
		}},
		// Replication (issue 16).
		{"replica written by a read-write principal", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "replica-bucket"), "DevReadOnlyObjects")
			st.Action = append(st.Action, "s3:PutObject")
		}},
		{"replica key encrypts for a reader", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "replica-key"), SidGrantReadOnlyS3)
			st.Action = append(st.Action, "kms:Encrypt")
		}},
		{"replication role named in the replica key", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "replica-key"), SidGrantReadOnlyS3)
			st.Principal = policydoc.Principal{"AWS": append(slices.Clone(st.Principal["AWS"]), tReplicaRole)}
		}},
		{"replica key used through the state region", "read-only", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-key"), SidGrantReadOnlyS3).Condition["StringEquals"]["kms:ViaService"] = policydoc.StringSet{"s3." + tRegion + ".amazonaws.com"}
		}},
		{"identity policy deletes replicas", "read-only", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "access/dev"), SidReplicaObjects)
			st.Action = append(st.Action, "s3:DeleteObject")
		}},
		{"replica decrypted through any service", "required-access", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "read-only/prod"), SidReplicaDecrypt).Condition = nil
		}},
		{"replica grant of a read-write principal dropped", "required-access", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-bucket"), "ProdReadOnlyObjects").Principal = policydoc.Principal{"AWS": {otherCI}}
		}},
		{"replica prefix of another environment", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "access/dev"), SidReplicaObjects).Resource = policydoc.StringSet{tReplicaA + "/prod/*"}
		}},
		{"replica key grant for the state bucket's context", "environments", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-key"), SidGrantReadOnlyS3).Condition["StringLike"][s3ContextKey] = policydoc.StringSet{tBucketA, tBucketA + "/*"}
		}},
		{"replica bucket policy grants the state bucket", "resources", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-bucket"), "DevReadOnlyObjects").Resource = policydoc.StringSet{tBucketA + "/dev/*"}
		}},
		{"replication role not exempt from the boundary", "boundary", false, func(t *testing.T, docs []document) {
			st := statement(t, find(t, docs, "replica-bucket"), SidDenyOutsideOrg)
			st.Condition["ArnNotLike"]["aws:PrincipalArn"] = slices.DeleteFunc(slices.Clone(st.Condition["ArnNotLike"]["aws:PrincipalArn"]), func(p string) bool { return p == tReplicaRole })
		}},
		{"VPC endpoints required on the replica", "boundary", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "replica-bucket")
			st := *statement(t, find(t, docs, "bucket"), SidDenyOutsideVPCE)
			st.Resource = policydoc.StringSet{tReplicaA, tReplicaA + "/*"}
			d.Statement = append(d.Statement, st)
		}},
		{"replica key administration not reserved", "key-administration", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "replica-key")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidDenyKeyAdminOthers })
		}},
		{"replica key root administration dropped", "recovery", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-key"), SidAccountAdmin).Condition = policydoc.Conditions{"Bool": {"aws:MultiFactorAuthPresent": {"true"}}}
		}},
		{"replica TLS deny dropped", "replication", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "replica-bucket")
			d.Statement = slices.DeleteFunc(d.Statement, func(st policydoc.Statement) bool { return st.Sid == SidDenyInsecure })
		}},
		{"replica uploads allowed with the state key", "replication", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "replica-bucket"), SidDenyOtherKey).Condition["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] = policydoc.StringSet{tKeyARN}
		}},
		{"state key policy grows with replication", "replication", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "key")
			d.Statement = append(d.Statement, allow(tReplicaRole, "kms:Decrypt", "*"))
		}},
		{"state bucket control loosened with replication", "replication", false, func(t *testing.T, docs []document) {
			statement(t, find(t, docs, "bucket"), SidDenyOtherSSE).Condition = nil
		}},
		{"replication role granted by the replica key", "replication", false, func(t *testing.T, docs []document) {
			d := find(t, docs, "replica-key")
			d.Statement = append(d.Statement, policydoc.Statement{Sid: "ReplicationRoleEncryptsReplicas", Effect: "Allow", Principal: policydoc.Principal{"AWS": {tReplicaRole}},
				Action: policydoc.StringSet{"kms:Encrypt"}, Resource: policydoc.StringSet{"*"}})
		}},
		{"replica statement without replication", "replication", true, func(t *testing.T, docs []document) {
			d := find(t, docs, "read-only/dev")
			d.Statement = append(d.Statement, policydoc.Statement{Sid: SidReplicaObjects, Effect: "Allow",
				Action: policydoc.StringSet{"s3:GetObject"}, Resource: policydoc.StringSet{tReplicaA + "/dev/*"}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := richBackend(t)
			if c.plain {
				b = plainBackend(t)
			}
			docs := renderDocuments(b)
			c.mutate(t, docs)
			i := slices.IndexFunc(accessChecks, func(a accessCheck) bool { return a.name == c.check })
			if i < 0 {
				t.Fatalf("no check %s", c.check)
			}
			if findings := accessChecks[i].check(b, docs); len(findings) == 0 {
				t.Errorf("check %s did not notice; all checks found: %v", c.check, runChecks(b, docs))
			} else {
				t.Logf("%s: %s", c.check, findings[0])
			}
		})
	}
	if len(cases) < len(accessChecks) {
		t.Errorf("%d mutation cases for %d checks", len(cases), len(accessChecks))
	}
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.check] = true
	}
	for _, c := range accessChecks {
		if !tested[c.name] {
			t.Errorf("no mutation proves that check %s can fail", c.name)
		}
	}
}

// Read-only principals are granted the state digest item of the lock table
// (LockTablePolicy, ReadOnlyAccessPolicy), but the table is encrypted with the
// backend key and DynamoDB decrypts items with the caller's permission
// (kms:ViaService dynamodb): the key policy must let every read-only principal
// decrypt through DynamoDB for this table, and nothing more. Whenever there
// are a table and read-only principals, GrantedReadOnlyThroughDynamoDB is
// exactly: Allow kms:Decrypt to the read-only principals, through
// dynamodb.<region>.amazonaws.com, from their accounts, for the table's
// encryption context; otherwise there is no such statement. (checkRequiredAccess
// proves the table side: the GetItem grant on the environment's digest items.)
func TestReadOnlyGrantsCanDecryptTheLockDigest(t *testing.T) {
	granted := 0
	for _, c := range accessCombinations() {
		readers := indexGrants(c.b).readers()
		var want []policydoc.Statement
		if c.b.TableARN != "" && len(readers) > 0 {
			want = append(want, policydoc.Statement{
				Sid: SidGrantReadOnlyDynamoDB, Effect: "Allow", Principal: policydoc.Principal{"AWS": readers},
				Action: policydoc.StringSet{"kms:Decrypt"}, Resource: policydoc.StringSet{"*"},
				Condition: policydoc.Conditions{"StringEquals": {
					"kms:CallerAccount": accountsOfAll(readers),
					"kms:ViaService":    {"dynamodb." + tRegion + ".amazonaws.com"},
					"kms:EncryptionContext:aws:dynamodb:tableName":    {"acme-tflock"},
					"kms:EncryptionContext:aws:dynamodb:subscriberId": {tAccount},
				}},
			})
		}
		got := slices.DeleteFunc(slices.Clone(KeyPolicy(c.b).Statement), func(st policydoc.Statement) bool { return st.Sid != SidGrantReadOnlyDynamoDB })
		gotDoc := policydoc.Document{Version: "2012-10-17", Statement: got}
		if !gotDoc.Equivalent(policydoc.Document{Version: "2012-10-17", Statement: want}) {
			t.Errorf("%s: %s is %s, want %s", c.name(), SidGrantReadOnlyDynamoDB, Render(gotDoc), Render(policydoc.Document{Version: "2012-10-17", Statement: want}))
		}
		granted += len(want)
	}
	if granted == 0 {
		t.Fatal("no combination has a lock table and read-only principals")
	}
}

// Without the access model each document is what it was before issue 13:
// testdata/pre-issue-13.json holds the key, bucket and dev access policies
// that commit 1e4f5ac (the last before the access model) rendered for every
// lock mode, with and without principals and monitoring; checkUnchanged
// compares with them, and every one of them is compared.
func TestPreIssue13GoldenIsComplete(t *testing.T) {
	golden := preIssue13(t)
	compared := map[string]bool{}
	for _, c := range accessCombinations() {
		if k := goldenKey(c.b); !hasAccessModel(c.b) && k != "" {
			compared[k] = true
		}
	}
	for k, docs := range golden {
		if !compared[k] {
			t.Errorf("no combination is compared with the pre-issue-13 documents of %q", k)
		}
		if len(docs) != 3 {
			t.Errorf("%q: %d documents, want key, bucket and access/dev", k, len(docs))
		}
	}
	if len(golden) != 12 || len(compared) != 12 {
		t.Errorf("%d golden backends, %d compared, want 12", len(golden), len(compared))
	}
}
