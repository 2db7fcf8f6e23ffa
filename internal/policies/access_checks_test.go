package policies

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// The checks of the access model's proofs. Each takes a backend and the
// documents rendered for it and returns its findings; none calls the
// builders to decide what a document may contain, except "unchanged", which
// compares with the documents of the same backend without the access model.
// What the documents must say is written out here again on purpose: a second
// statement of the rule, not a copy of the code.

type accessCheck struct {
	name  string
	check func(b Backend, docs []document) []string
}

var accessChecks = []accessCheck{
	{"round-trip", checkRendering},
	{"statement-ids", checkStatementIDs},
	{"no-broad-grants", checkNoBroadGrants},
	{"operators", checkOperators},
	{"resources", checkResources},
	{"environments", checkEnvironments},
	{"required-access", checkRequiredAccess},
	{"read-only", checkReadOnly},
	{"boundary", checkBoundary},
	{"key-administration", checkKeyAdministration},
	{"recovery", checkRecovery},
	{"unchanged", checkUnchanged},
}

// runChecks returns every finding of every check, each prefixed "[check]".
func runChecks(b Backend, docs []document) []string {
	var out []string
	for _, c := range accessChecks {
		for _, f := range c.check(b, docs) {
			out = append(out, "["+c.name+"] "+f)
		}
	}
	return out
}

// ---- what the model is made of, written out independently ----

// bucketDataActions are the S3 actions that read, write or list state.
var bucketDataActions = []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:PutObject"}

// keyUse are the cryptographic uses of the key.
var keyUse = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// writeActions change state, locks or ciphertext; an action pattern that
// matches any of them writes.
var writeActions = []string{
	"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject",
	"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
	"kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
}

// allowedActionPatterns are the only Allow actions with a wildcard besides
// the key administration's kms:*.
var allowedActionPatterns = []string{"kms:GenerateDataKey*", "kms:ReEncrypt*"}

// multiValuedKeys must be tested with ForAllValues; every other key is
// single-valued and must not carry a set qualifier.
var multiValuedKeys = []string{"dynamodb:leadingkeys", "aws:principalorgpaths"}

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

func rootOf(b Backend) string      { return "arn:" + b.Partition + ":iam::" + b.AccountID + ":root" }
func bucketARNOf(b Backend) string { return "arn:" + b.Partition + ":s3:::" + b.Bucket }

func accountOf(principal string) string {
	if parts := strings.Split(principal, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

// pathLessRole reports whether p is a role ARN without a path, and its name.
func pathLessRole(p string) (string, bool) {
	_, name, ok := strings.Cut(p, ":role/")
	return name, ok && !strings.Contains(name, "/")
}

// wantPatterns are the aws:PrincipalArn patterns naming the principals: each
// ARN, and for a role without a path the same role under any path.
func wantPatterns(principals ...string) []string {
	var out []string
	for _, p := range principals {
		if p == "" {
			continue
		}
		out = append(out, p)
		if name, ok := pathLessRole(p); ok {
			out = append(out, strings.TrimSuffix(p, name)+"*/"+name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// asCalled lists the ARNs a principal's requests carry: itself, and for a
// role without a path also that role created under a path.
func asCalled(p string) []string {
	if name, ok := pathLessRole(p); ok {
		return []string{p, strings.TrimSuffix(p, name) + "team/" + name}
	}
	return []string{p}
}

// grantIndex answers who is granted what where.
type grantIndex struct {
	envs      []string
	readWrite map[string]map[string]bool // environment → principals
	readOnly  map[string]map[string]bool
}

func indexGrants(b Backend) grantIndex {
	g := grantIndex{readWrite: map[string]map[string]bool{}, readOnly: map[string]map[string]bool{}}
	for _, gr := range b.Grants {
		g.envs = append(g.envs, gr.Environment)
		for _, set := range []struct {
			m  map[string]map[string]bool
			ps []string
		}{{g.readWrite, gr.ReadWrite}, {g.readOnly, gr.ReadOnly}} {
			if set.m[gr.Environment] == nil {
				set.m[gr.Environment] = map[string]bool{}
			}
			for _, p := range set.ps {
				set.m[gr.Environment][p] = true
			}
		}
	}
	return g
}

func (g grantIndex) readOnlyIn(env string) []string { return slices.Sorted(maps.Keys(g.readOnly[env])) }
func (g grantIndex) readWriteIn(env string) []string {
	return slices.Sorted(maps.Keys(g.readWrite[env]))
}
func (g grantIndex) granted(p, env string) bool { return g.readWrite[env][p] || g.readOnly[env][p] }

func (g grantIndex) writesAnywhere(p string) bool {
	for _, env := range g.envs {
		if g.readWrite[env][p] {
			return true
		}
	}
	return false
}

func (g grantIndex) principals() []string {
	set := map[string]bool{}
	for _, env := range g.envs {
		maps.Copy(set, g.readWrite[env])
		maps.Copy(set, g.readOnly[env])
	}
	return slices.Sorted(maps.Keys(set))
}

func (g grantIndex) readers() []string {
	set := map[string]bool{}
	for _, env := range g.envs {
		maps.Copy(set, g.readOnly[env])
	}
	return slices.Sorted(maps.Keys(set))
}

// kmsCall is principal p using the key through S3 (for this bucket, with a
// bucket key) or DynamoDB (for this table).
func kmsCall(b Backend, p, action, via string) request {
	kv := []string{"kms:ViaService", via + "." + b.Region + ".amazonaws.com", "kms:CallerAccount", accountOf(p)}
	if via == "s3" {
		kv = append(kv, "kms:EncryptionContext:aws:s3:arn", bucketARNOf(b))
	} else {
		_, table, _ := strings.Cut(b.TableARN, ":table/")
		kv = append(kv, "kms:EncryptionContext:aws:dynamodb:tableName", table)
	}
	return call(p, action, b.KeyARN, kv...)
}

// stateKey is the state object of an environment; lockKey its lock file.
func stateKey(b Backend, env string) string { return bucketARNOf(b) + "/" + env + "/terraform.tfstate" }
func lockKey(b Backend, env string) string  { return stateKey(b, env) + ".tflock" }
func lockItem(b Backend, env string) string { return b.Bucket + "/" + env + "/terraform.tfstate" }

func isWrite(action string) bool {
	return slices.ContainsFunc(writeActions, func(w string) bool { return globMatch(strings.ToLower(action), strings.ToLower(w)) })
}

func hasWrite(st policydoc.Statement) bool { return slices.ContainsFunc(st.Action, isWrite) }

func isWildcardPrincipal(p policydoc.Principal) bool {
	return slices.Contains(p["*"], "*") || slices.Contains(p["AWS"], "*")
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b))))
}

func one(st policydoc.Statement) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{st}}
}

// containsEquivalent reports whether d has a statement equivalent to st (its Sid included).
func containsEquivalent(d policydoc.Document, st policydoc.Statement) bool {
	return slices.ContainsFunc(d.Statement, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) })
}

func describe(d document, i int) string {
	return fmt.Sprintf("%s: statement %d (%s)", d.label(), i, d.doc.Statement[i].Sid)
}

// ---- the checks ----

// checkRendering: every document renders to text that parses back to an
// equivalent document, with the version AWS expects.
func checkRendering(_ Backend, docs []document) []string {
	var out []string
	for _, d := range docs {
		back, err := policydoc.Parse(Render(d.doc))
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s: rendered text does not parse: %v", d.label(), err))
		case !back.Equivalent(d.doc) || !d.doc.Equivalent(back):
			out = append(out, d.label()+": rendered text parses to a different document")
		case back.Version != "2012-10-17":
			out = append(out, fmt.Sprintf("%s: version %q", d.label(), back.Version))
		}
	}
	return out
}

// checkStatementIDs: Sids are present, letters and digits only, and unique
// within a document.
func checkStatementIDs(_ Backend, docs []document) []string {
	var out []string
	for _, d := range docs {
		seen := map[string]bool{}
		for i, st := range d.doc.Statement {
			if !sidPattern.MatchString(st.Sid) {
				out = append(out, fmt.Sprintf("%s: Sid %q is not letters and digits only", describe(d, i), st.Sid))
			}
			if seen[st.Sid] {
				out = append(out, fmt.Sprintf("%s: Sid %q repeated", describe(d, i), st.Sid))
			}
			seen[st.Sid] = true
		}
	}
	return out
}

// checkNoBroadGrants: no NotAction, NotResource or NotPrincipal; no Allow of
// "*" or "<service>:*" but the key policy's account administration (root,
// kms:*); no Allow for every principal; identity policies name no principal,
// resource policies always do.
func checkNoBroadGrants(b Backend, docs []document) []string {
	var out []string
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			where := describe(d, i)
			if len(st.NotAction) > 0 || len(st.NotResource) > 0 || len(st.NotPrincipal) > 0 {
				out = append(out, where+": uses NotAction, NotResource or NotPrincipal")
			}
			if st.Effect != "Allow" && st.Effect != "Deny" {
				out = append(out, fmt.Sprintf("%s: effect %q", where, st.Effect))
			}
			if d.resourcePolicy() != (len(st.Principal) > 0) {
				out = append(out, fmt.Sprintf("%s: principal %v in %s", where, st.Principal, map[bool]string{true: "a resource policy", false: "an identity policy"}[d.resourcePolicy()]))
			}
			if st.Effect != "Allow" {
				continue
			}
			if isWildcardPrincipal(st.Principal) {
				out = append(out, where+": allows every principal")
			}
			for _, a := range st.Action {
				admin := d.kind == "key" && st.Sid == SidAccountAdmin && a == "kms:*" && len(st.Principal) == 1 && slices.Equal(st.Principal["AWS"], []string{rootOf(b)})
				switch {
				case admin:
				case a == "*" || strings.HasSuffix(a, ":*"):
					out = append(out, fmt.Sprintf("%s: allows %q to %v", where, a, st.Principal))
				case strings.ContainsAny(a, "*?") && !slices.Contains(allowedActionPatterns, a):
					out = append(out, fmt.Sprintf("%s: allows the action pattern %q", where, a))
				}
			}
		}
	}
	return out
}

// checkOperators: every condition operator is one the evaluator knows, and
// set qualifiers are used exactly for the multi-valued keys, with
// ForAllValues (ForAnyValue would let one matching value carry others).
func checkOperators(_ Backend, docs []document) []string {
	var out []string
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			for op, keys := range st.Condition {
				qualifier, base, _ := splitOperator(op)
				if !slices.Contains(knownOperators, base) || qualifier != "" && qualifier != "ForAllValues" {
					out = append(out, fmt.Sprintf("%s: operator %q is not one these checks evaluate", describe(d, i), op))
				}
				for key := range keys {
					multi := slices.Contains(multiValuedKeys, strings.ToLower(key))
					if multi != (qualifier != "") {
						out = append(out, fmt.Sprintf("%s: %s tested with %q", describe(d, i), key, op))
					}
				}
			}
		}
	}
	return out
}

// objectEnv is the environment of an object ARN or pattern under the bucket
// ("<bucket>/<env>/..."), "" for any other resource.
func objectEnv(b Backend, r string) (string, bool) {
	rest, ok := strings.CutPrefix(r, bucketARNOf(b)+"/")
	if !ok {
		return "", false
	}
	env, _, _ := strings.Cut(rest, "/")
	return env, true
}

// checkResources: every resource is the backend's: the bucket, its objects
// under a granted environment (the whole bucket's objects only in denies),
// the table, the key; "*" only in the key policy, where it is the key.
func checkResources(b Backend, docs []document) []string {
	var out []string
	envs := indexGrants(b).envs
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			for _, r := range st.Resource {
				env, isObject := objectEnv(b, r)
				var ok bool
				switch d.kind {
				case "key":
					ok = r == "*"
				case "bucket":
					ok = r == bucketARNOf(b) || st.Effect == "Deny" && r == bucketARNOf(b)+"/*" || isObject && st.Effect == "Allow" && slices.Contains(envs, env)
				case "table":
					ok = b.TableARN != "" && r == b.TableARN
				default:
					ok = r == bucketARNOf(b) || isObject && env == d.env || b.TableARN != "" && r == b.TableARN || r == b.KeyARN
				}
				if !ok {
					out = append(out, fmt.Sprintf("%s: resource %q is outside what this document may reach", describe(d, i), r))
				}
			}
		}
	}
	return out
}

// statementEnvs are the environments a statement reaches: from its object
// resources, its s3:prefix values and its dynamodb:LeadingKeys values.
func statementEnvs(b Backend, st policydoc.Statement) map[string]bool {
	envs := map[string]bool{}
	for _, r := range st.Resource {
		if env, ok := objectEnv(b, r); ok {
			envs[env] = true
		}
	}
	for _, keys := range st.Condition {
		for key, vals := range keys {
			for _, v := range vals {
				switch strings.ToLower(key) {
				case "s3:prefix":
					env, _, _ := strings.Cut(v, "/")
					envs[env] = true
				case "dynamodb:leadingkeys":
					rest, ok := strings.CutPrefix(v, b.Bucket+"/")
					if !ok {
						rest = "(" + v + ")"
					}
					env, _, _ := strings.Cut(rest, "/")
					envs[env] = true
				}
			}
		}
	}
	return envs
}

// scoped reports whether a statement that lists the bucket or touches lock
// items says which environment: an s3:prefix or dynamodb:LeadingKeys
// condition.
func scoped(b Backend, st policydoc.Statement) bool {
	lists := slices.Contains(st.Resource, bucketARNOf(b)) && slices.ContainsFunc(st.Action, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "s3:list") })
	items := b.TableARN != "" && slices.Contains(st.Resource, b.TableARN) &&
		slices.ContainsFunc(st.Action, func(a string) bool { return strings.HasSuffix(strings.ToLower(a), "item") })
	switch {
	case lists:
		return len(st.Condition["StringLike"]["s3:prefix"]) > 0
	case items:
		return len(st.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) > 0
	}
	return true
}

// checkEnvironments: every statement of the bucket and table policies that
// names granted principals reaches exactly one environment, one they are
// granted (read-write where it writes); identity policies reach only their
// own environment; in the key policy the granted principals appear only in
// the grant statements, the state principals only in theirs, the root only
// in the account administration.
func checkEnvironments(b Backend, docs []document) []string {
	var out []string
	g := indexGrants(b)
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			if st.Effect != "Allow" {
				continue
			}
			where := describe(d, i)
			envs := slices.Sorted(maps.Keys(statementEnvs(b, st)))
			if !scoped(b, st) {
				out = append(out, where+": lists the bucket or touches lock items without naming an environment")
			}
			switch d.kind {
			case "key":
				for _, p := range st.Principal["AWS"] {
					var ok bool
					switch st.Sid {
					case SidAccountAdmin:
						ok = p == rootOf(b)
					case SidStateUsers:
						ok = slices.Contains(b.Principals, p)
					case SidGrantReadWriteS3, SidGrantReadWriteDynamoDB:
						ok = g.writesAnywhere(p)
					case SidGrantReadOnlyS3:
						ok = slices.Contains(g.readers(), p)
					}
					if !ok {
						out = append(out, fmt.Sprintf("%s: names %s", where, p))
					}
				}
			case "bucket", "table":
				if len(envs) != 1 {
					out = append(out, fmt.Sprintf("%s: reaches environments %q, not exactly one", where, envs))
					continue
				}
				for _, p := range st.Principal["AWS"] {
					switch {
					case !g.granted(p, envs[0]):
						out = append(out, fmt.Sprintf("%s: names %s, which is not granted environment %s", where, p, envs[0]))
					case hasWrite(st) && !g.readWrite[envs[0]][p]:
						out = append(out, fmt.Sprintf("%s: lets %s write environment %s, where it is read-only", where, p, envs[0]))
					}
				}
			default:
				if len(envs) > 1 || len(envs) == 1 && envs[0] != d.env {
					out = append(out, fmt.Sprintf("%s: reaches environments %q", where, envs))
				}
			}
		}
	}
	return out
}

// requirement is one request a principal must be able to make, and the
// document kind that must allow it.
type requirement struct {
	kind string
	r    request
}

// needs are the requests Terraform's S3 backend makes for one environment,
// read-write or read-only, as principal p (principal "" for identity policies).
func needs(b Backend, p, env string, readWrite bool) []requirement {
	state, lock, item := stateKey(b, env), lockKey(b, env), lockItem(b, env)
	var out []requirement
	s3 := func(action, resource string, kv ...string) {
		out = append(out, requirement{"bucket", call(p, action, resource, kv...)})
	}
	ddb := func(action string, kv ...string) {
		out = append(out, requirement{"table", call(p, action, b.TableARN, kv...)})
	}
	kms := func(action, via string) { out = append(out, requirement{"key", kmsCall(b, p, action, via)}) }
	s3("s3:ListBucket", bucketARNOf(b), "s3:prefix", env+"/")
	s3("s3:GetObject", state)
	if b.TableARN != "" {
		ddb("dynamodb:DescribeTable")
		ddb("dynamodb:GetItem", "dynamodb:LeadingKeys", item+"-md5")
	}
	kms("kms:Decrypt", "s3")
	if !readWrite {
		s3("s3:ListBucketVersions", bucketARNOf(b), "s3:prefix", env+"/")
		s3("s3:GetObjectVersion", state)
		return out
	}
	s3("s3:PutObject", state)
	if b.Lockfile {
		s3("s3:GetObject", lock)
		s3("s3:PutObject", lock)
		s3("s3:DeleteObject", lock)
	}
	if b.TableARN != "" {
		for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"} {
			ddb(a, "dynamodb:LeadingKeys", item)
		}
		ddb("dynamodb:PutItem", "dynamodb:LeadingKeys", item+"-md5")
		for _, a := range []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} {
			kms(a, "dynamodb")
		}
	}
	kms("kms:Encrypt", "s3")
	kms("kms:GenerateDataKey", "s3")
	return out
}

// byKind indexes documents by label.
func byKind(docs []document) map[string]policydoc.Document {
	out := map[string]policydoc.Document{}
	for _, d := range docs {
		out[d.label()] = d.doc
	}
	return out
}

// describeRequest names a request in a finding.
func describeRequest(r request) string {
	return fmt.Sprintf("%s on %s %v", r.action, r.resource, r.context)
}

// checkRequiredAccess: every granted principal can do what the S3 backend
// needs in its environment through the bucket, table and key policies, and
// each environment's identity policies allow the same.
func checkRequiredAccess(b Backend, docs []document) []string {
	var out []string
	g := indexGrants(b)
	kinds := byKind(docs)
	for _, env := range g.envs {
		for _, readWrite := range []bool{true, false} {
			principals := g.readOnlyIn(env)
			if readWrite {
				principals = g.readWriteIn(env)
			}
			for _, p := range principals {
				for _, n := range needs(b, p, env, readWrite) {
					if !allows(kinds[n.kind], n.r) {
						out = append(out, fmt.Sprintf("%s does not let %s make %s", n.kind, p, describeRequest(n.r)))
					}
				}
			}
		}
	}
	for _, env := range environments(b) {
		for _, policy := range []string{"access", "read-only"} {
			for _, n := range needs(b, "", env, policy == "access") {
				if !allows(kinds[policy+"/"+env], n.r) {
					out = append(out, fmt.Sprintf("%s/%s does not allow %s", policy, env, describeRequest(n.r)))
				}
			}
		}
	}
	return out
}

// checkReadOnly: nobody writes where it is only granted reading, nobody
// reaches an environment it is not granted, a principal that writes nowhere
// cannot encrypt with the key, and the read-only identity policies write
// nothing.
func checkReadOnly(b Backend, docs []document) []string {
	var out []string
	g := indexGrants(b)
	kinds := byKind(docs)
	envs := append(slices.Clone(g.envs), "staging") // staging: granted to nobody
	forbid := func(kind, who string, r request) {
		if allows(kinds[kind], r) {
			out = append(out, fmt.Sprintf("%s lets %s make %s", kind, who, describeRequest(r)))
		}
	}
	for _, p := range append(g.principals(), outsider) {
		for _, env := range envs {
			if !g.readWrite[env][p] {
				forbid("bucket", p, call(p, "s3:PutObject", stateKey(b, env)))
				forbid("bucket", p, call(p, "s3:DeleteObject", lockKey(b, env)))
				forbid("table", p, call(p, "dynamodb:PutItem", b.TableARN, "dynamodb:LeadingKeys", lockItem(b, env)))
				forbid("table", p, call(p, "dynamodb:DeleteItem", b.TableARN, "dynamodb:LeadingKeys", lockItem(b, env)))
			}
			if !g.granted(p, env) {
				forbid("bucket", p, call(p, "s3:GetObject", stateKey(b, env)))
				forbid("bucket", p, call(p, "s3:ListBucket", bucketARNOf(b), "s3:prefix", env+"/"))
				forbid("table", p, call(p, "dynamodb:GetItem", b.TableARN, "dynamodb:LeadingKeys", lockItem(b, env)))
			}
		}
		if !g.writesAnywhere(p) && !slices.Contains(b.Principals, p) {
			for _, via := range []string{"s3", "dynamodb"} {
				forbid("key", p, kmsCall(b, p, "kms:Encrypt", via))
				forbid("key", p, kmsCall(b, p, "kms:GenerateDataKey", via))
			}
		}
	}
	for i, st := range kinds["key"].Statement {
		for _, p := range st.Principal["AWS"] {
			if st.Effect == "Allow" && hasWrite(st) && slices.Contains(g.principals(), p) && !g.writesAnywhere(p) && !slices.Contains(b.Principals, p) {
				out = append(out, fmt.Sprintf("key: statement %d (%s) lets read-only %s encrypt: %v", i, st.Sid, p, st.Action))
			}
		}
	}
	for _, env := range environments(b) {
		ro := "read-only/" + env
		for i, st := range kinds[ro].Statement {
			if hasWrite(st) {
				out = append(out, fmt.Sprintf("%s: statement %d (%s) writes: %v", ro, i, st.Sid, st.Action))
			}
		}
		forbid(ro, "its holder", call("", "s3:PutObject", stateKey(b, env)))
		forbid(ro, "its holder", call("", "s3:DeleteObject", lockKey(b, env)))
		forbid(ro, "its holder", call("", "dynamodb:PutItem", b.TableARN, "dynamodb:LeadingKeys", lockItem(b, env)))
		forbid(ro, "its holder", call("", "kms:Encrypt", b.KeyARN))
		forbid(ro, "its holder", call("", "kms:GenerateDataKey", b.KeyARN))
		for _, other := range envs {
			if other == env {
				continue
			}
			for _, policy := range []string{"access/" + env, ro} {
				forbid(policy, "its holder", call("", "s3:GetObject", stateKey(b, other)))
				forbid(policy, "its holder", call("", "s3:ListBucket", bucketARNOf(b), "s3:prefix", other+"/"))
				forbid(policy, "its holder", call("", "dynamodb:GetItem", b.TableARN, "dynamodb:LeadingKeys", lockItem(b, other)))
			}
		}
	}
	return out
}

// isBoundarySid reports whether a Sid is one of the boundary's denies.
func isBoundarySid(sid string) bool {
	if n, ok := strings.CutPrefix(sid, SidDenyPrincipalTag); ok {
		return n != "" && strings.Trim(n, "0123456789") == ""
	}
	return sid == SidDenyOutsideOrg || sid == SidDenyOutsideOrgPaths || sid == SidDenyOutsideVPCE
}

// wantBoundaryDenies are the boundary's denies in the bucket or key policy.
func wantBoundaryDenies(b Backend, kind string) []policydoc.Statement {
	bd := b.Boundary
	if bd == nil {
		return nil
	}
	everything, data, resources := []string{"s3:*"}, bucketDataActions, []string{bucketARNOf(b), bucketARNOf(b) + "/*"}
	if kind == "key" {
		everything, data, resources = keyUse, keyUse, []string{"*"}
	}
	exempt := wantPatterns(append([]string{rootOf(b), b.Provider}, bd.BreakGlass...)...)
	deny := func(sid string, actions []string, op, key string, values []string) policydoc.Statement {
		return policydoc.Statement{Sid: sid, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: actions, Resource: resources,
			Condition: policydoc.Conditions{
				op:             {key: values},
				"ArnNotLike":   {"aws:PrincipalArn": exempt},
				"BoolIfExists": {"aws:PrincipalIsAWSService": {"false"}},
			}}
	}
	var out []policydoc.Statement
	if bd.OrganizationID != "" {
		out = append(out, deny(SidDenyOutsideOrg, everything, "StringNotEquals", "aws:PrincipalOrgID", []string{bd.OrganizationID}))
	}
	if len(bd.OrgPaths) > 0 {
		var paths []string
		for _, p := range bd.OrgPaths {
			paths = append(paths, p+"*")
		}
		out = append(out, deny(SidDenyOutsideOrgPaths, everything, "ForAllValues:StringNotLike", "aws:PrincipalOrgPaths", paths))
	}
	if kind == "bucket" && len(bd.VPCEndpointIDs) > 0 {
		out = append(out, deny(SidDenyOutsideVPCE, data, "StringNotEquals", "aws:SourceVpce", bd.VPCEndpointIDs))
	}
	for i, k := range slices.Sorted(maps.Keys(bd.PrincipalTags)) {
		out = append(out, deny(fmt.Sprintf("%s%d", SidDenyPrincipalTag, i+1), data, "StringNotEquals", "aws:PrincipalTag/"+k, []string{bd.PrincipalTags[k]}))
	}
	return out
}

// sample is one request the boundary is tried with.
type sample struct {
	action, resource string
	data             bool // a data action (bucket) or a use of the key (key)
	kv               []string
}

func boundarySamples(b Backend, kind string) []sample {
	if kind == "key" {
		return []sample{{"kms:Decrypt", b.KeyARN, true, nil}, {"kms:Encrypt", b.KeyARN, true, nil}, {"kms:GenerateDataKey", b.KeyARN, true, nil},
			{"kms:ReEncryptFrom", b.KeyARN, true, nil}, {"kms:DescribeKey", b.KeyARN, false, nil}}
	}
	bucket := bucketARNOf(b)
	return []sample{{"s3:GetObject", stateKey(b, "dev"), true, nil}, {"s3:PutObject", stateKey(b, "dev"), true, nil},
		{"s3:DeleteObject", lockKey(b, "dev"), true, nil}, {"s3:GetObjectVersion", stateKey(b, "dev"), true, nil},
		{"s3:ListBucket", bucket, true, []string{"s3:prefix", "dev/"}}, {"s3:ListBucketVersions", bucket, true, []string{"s3:prefix", "dev/"}},
		{"s3:PutBucketPolicy", bucket, false, nil}, {"s3:GetBucketPolicy", bucket, false, nil}, {"s3:DeleteBucket", bucket, false, nil}}
}

// checkBoundary: the boundary's denies are exactly the expected ones (one per
// principal tag, VPC endpoints only in the bucket policy, each exempting the
// root, the break-glass principals and the provider, never AWS services), and
// they behave so: the exempt principals and AWS services are never denied, a
// caller meeting every condition is not denied, and a caller failing any one
// condition is denied what that condition covers.
func checkBoundary(b Backend, docs []document) []string {
	var out []string
	bd := b.Boundary
	for _, d := range docs {
		var got []policydoc.Statement
		for _, st := range d.doc.Statement {
			if isBoundarySid(st.Sid) {
				got = append(got, st)
			}
		}
		want := wantBoundaryDenies(b, d.kind)
		if d.kind != "key" && d.kind != "bucket" {
			want = nil
		}
		for _, st := range want {
			if !slices.ContainsFunc(got, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) }) {
				out = append(out, fmt.Sprintf("%s: boundary deny %s missing or different", d.label(), st.Sid))
			}
		}
		for _, st := range got {
			if !slices.ContainsFunc(want, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) }) {
				out = append(out, fmt.Sprintf("%s: unexpected boundary deny %s", d.label(), st.Sid))
			}
		}
		if d.kind != "key" && d.kind != "bucket" {
			continue
		}
		// Behaviour.
		exempt := []string{rootOf(b)}
		if bd != nil {
			exempt = append(exempt, bd.BreakGlass...)
		}
		if b.Provider != "" {
			exempt = append(exempt, b.Provider)
		}
		// A request meeting every condition. KMS requests S3 makes for the
		// caller carry no aws:SourceVpce: the key policy must not ask for it.
		compliant := []string{"aws:PrincipalOrgID", tOrg, "aws:PrincipalOrgPaths", tPath1}
		if d.kind == "bucket" {
			compliant = append(compliant, "aws:SourceVpce", tVPCE1)
		}
		type violation struct {
			name          string
			key, value    string
			data, control bool // denies data actions / every action
		}
		var violations []violation
		if bd != nil {
			for k, v := range bd.PrincipalTags {
				compliant = append(compliant, "aws:PrincipalTag/"+k, v)
				violations = append(violations, violation{"tag " + k, "aws:PrincipalTag/" + k, "other", true, false})
			}
			if bd.OrganizationID != "" {
				violations = append(violations, violation{"organization", "aws:PrincipalOrgID", "o-other00000", true, true})
			}
			if len(bd.OrgPaths) > 0 {
				violations = append(violations, violation{"org path", "aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-99999999/", true, true})
			}
			if len(bd.VPCEndpointIDs) > 0 && d.kind == "bucket" {
				violations = append(violations, violation{"VPC endpoint", "aws:SourceVpce", "vpce-0ffffffffffffffff", true, false})
			}
		}
		for _, s := range boundarySamples(b, d.kind) {
			for _, p := range exempt {
				for _, arn := range asCalled(p) {
					if sids := denials(d.doc, call(arn, s.action, s.resource, s.kv...)); len(sids) > 0 {
						out = append(out, fmt.Sprintf("%s: exempt %s denied %s by %v", d.label(), arn, s.action, sids))
					}
				}
			}
			if sids := denials(d.doc, serviceCall("cloudtrail.amazonaws.com", s.action, s.resource)); len(sids) > 0 {
				out = append(out, fmt.Sprintf("%s: AWS service denied %s by %v", d.label(), s.action, sids))
			}
			insider := call(ownDeployer, s.action, s.resource, append(slices.Clone(compliant), s.kv...)...)
			if sids := denials(d.doc, insider); len(sids) > 0 {
				out = append(out, fmt.Sprintf("%s: a caller inside the boundary denied %s by %v", d.label(), s.action, sids))
			}
			wantWorst := false
			for _, v := range violations {
				want := s.data && v.data || v.control
				if d.kind == "key" && s.action == "kms:DescribeKey" {
					want = false
				}
				wantWorst = wantWorst || want
				if got := len(denials(d.doc, insider.with(v.key, v.value))) > 0; got != want {
					out = append(out, fmt.Sprintf("%s: a caller failing only the %s condition: %s denied %t, want %t", d.label(), v.name, s.action, got, want))
				}
			}
			worst := call(outsider, s.action, s.resource, s.kv...)
			if got := len(denials(d.doc, worst)) > 0; got != wantWorst {
				out = append(out, fmt.Sprintf("%s: a caller outside every condition: %s denied %t, want %t", d.label(), s.action, got, wantWorst))
			}
		}
	}
	return out
}

// checkKeyAdministration: with key administrators, one deny reserves exactly
// KeyAdministrationActions for them and the provider (the account root is not
// exempt), and with RequireMFA a second denies them to administrators
// without MFA but not to the provider; without, nothing denies them.
func checkKeyAdministration(b Backend, docs []document) []string {
	var out []string
	key := byKind(docs)["key"]
	ka := b.KeyAdmins
	var want []policydoc.Statement
	if ka != nil {
		want = append(want, policydoc.Statement{Sid: SidDenyKeyAdminOthers, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
			Action: KeyAdministrationActions(), Resource: policydoc.StringSet{"*"},
			Condition: policydoc.Conditions{"ArnNotLike": {"aws:PrincipalArn": wantPatterns(append(slices.Clone(ka.Principals), b.Provider)...)}}})
		if ka.RequireMFA {
			cond := policydoc.Conditions{
				"ArnLike":      {"aws:PrincipalArn": wantPatterns(ka.Principals...)},
				"BoolIfExists": {"aws:MultiFactorAuthPresent": {"false"}},
			}
			if b.Provider != "" {
				cond["ArnNotLike"] = map[string]policydoc.StringSet{"aws:PrincipalArn": wantPatterns(b.Provider)}
			}
			want = append(want, policydoc.Statement{Sid: SidDenyKeyAdminNoMFA, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
				Action: KeyAdministrationActions(), Resource: policydoc.StringSet{"*"}, Condition: cond})
		}
	}
	for _, st := range want {
		if !containsEquivalent(key, st) {
			out = append(out, fmt.Sprintf("key: %s missing or different", st.Sid))
		}
	}
	for _, st := range key.Statement {
		if (st.Sid == SidDenyKeyAdminOthers || st.Sid == SidDenyKeyAdminNoMFA) && !slices.ContainsFunc(want, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) }) {
			out = append(out, "key: unexpected "+st.Sid)
		}
		if st.Effect == "Deny" && slices.Contains(st.Condition["ArnNotLike"]["aws:PrincipalArn"], rootOf(b)) && slices.ContainsFunc(st.Action, func(a string) bool {
			return slices.ContainsFunc(KeyAdministrationActions(), func(k string) bool { return globMatch(strings.ToLower(a), strings.ToLower(k)) })
		}) {
			out = append(out, fmt.Sprintf("key: %s exempts the account root from key administration", st.Sid))
		}
	}
	if !sameSet(KeyAdministrationActions(), []string{"kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"}) {
		out = append(out, fmt.Sprintf("KeyAdministrationActions() = %v", KeyAdministrationActions()))
	}
	// Behaviour.
	others := []string{rootOf(b), outsider, ownDeployer, breakGlassRole}
	var admins []string
	if ka != nil {
		for _, p := range ka.Principals {
			admins = append(admins, asCalled(p)...)
		}
	}
	for _, a := range KeyAdministrationActions() {
		for _, p := range others {
			if slices.Contains(admins, p) || slices.Contains(asCalled(b.Provider), p) {
				continue
			}
			if got := len(denials(key, call(p, a, b.KeyARN))) > 0; got != (ka != nil) {
				out = append(out, fmt.Sprintf("key: %s denied %s: %t, want %t", p, a, got, ka != nil))
			}
		}
		for _, p := range admins {
			if got := len(denials(key, call(p, a, b.KeyARN))) > 0; got != ka.RequireMFA && !slices.Contains(asCalled(b.Provider), p) {
				out = append(out, fmt.Sprintf("key: administrator %s without MFA denied %s: %t, want %t", p, a, got, ka.RequireMFA))
			}
			if sids := denials(key, call(p, a, b.KeyARN, "aws:MultiFactorAuthPresent", "true")); len(sids) > 0 {
				out = append(out, fmt.Sprintf("key: administrator %s with MFA denied %s by %v", p, a, sids))
			}
		}
		if b.Provider != "" {
			for _, p := range asCalled(b.Provider) {
				if sids := denials(key, call(p, a, b.KeyARN)); len(sids) > 0 {
					out = append(out, fmt.Sprintf("key: provider %s without MFA denied %s by %v", p, a, sids))
				}
			}
		}
	}
	return out
}

// recoveryActions keep a key manageable: the account root may always take them.
var recoveryActions = []string{"kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"}

// checkRecovery: the account root is allowed and never denied the recovery
// actions, even failing every boundary condition and without MFA; and no
// Deny of the key policy names kms:DescribeKey in any form (moto denies it on
// any such statement, whatever its conditions).
func checkRecovery(b Backend, docs []document) []string {
	var out []string
	key := byKind(docs)["key"]
	for _, a := range recoveryActions {
		r := call(rootOf(b), a, b.KeyARN)
		if sids := denials(key, r); len(sids) > 0 {
			out = append(out, fmt.Sprintf("key: the account root is denied %s by %v", a, sids))
		}
		if !allows(key, r) {
			out = append(out, "key: the account root is not allowed "+a)
		}
	}
	for i, st := range key.Statement {
		if st.Effect == "Deny" && slices.ContainsFunc(st.Action, func(a string) bool { return globMatch(strings.ToLower(a), "kms:describekey") }) {
			out = append(out, fmt.Sprintf("key: statement %d (%s) denies kms:DescribeKey", i, st.Sid))
		}
	}
	return out
}

var (
	goldenOnce sync.Once
	golden     map[string]map[string]string
	goldenErr  error
)

func loadPreIssue13() (map[string]map[string]string, error) {
	goldenOnce.Do(func() {
		var text []byte
		if text, goldenErr = os.ReadFile("testdata/pre-issue-13.json"); goldenErr == nil {
			goldenErr = json.Unmarshal(text, &golden)
		}
	})
	return golden, goldenErr
}

func preIssue13(t *testing.T) map[string]map[string]string {
	t.Helper()
	g, err := loadPreIssue13()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// goldenKey names a backend of the golden file; "" when the backend is not
// built from the fixtures the golden file was rendered with.
func goldenKey(b Backend) string {
	base := baseBackend()
	if b.Partition != base.Partition || b.Region != base.Region || b.AccountID != base.AccountID || b.Bucket != base.Bucket || b.KeyARN != base.KeyARN ||
		b.TableARN != "" && b.TableARN != base.TableARN || len(b.Principals) > 0 && !slices.Equal(b.Principals, statePrincipals) {
		return ""
	}
	lock := map[[2]bool]string{{true, true}: "table+lockfile", {true, false}: "table", {false, true}: "lockfile"}[[2]bool{b.TableARN != "", b.Lockfile}]
	return fmt.Sprintf("lock=%s principals=%t monitored=%t", lock, len(b.Principals) > 0, b.TrailARN != "")
}

// accessModelSid reports whether a statement of the key or bucket policy
// belongs to the access model.
func accessModelSid(kind, sid string) bool {
	if isBoundarySid(sid) {
		return true
	}
	if kind == "key" {
		return slices.Contains([]string{SidGrantReadWriteS3, SidGrantReadOnlyS3, SidGrantReadWriteDynamoDB, SidDenyKeyAdminOthers, SidDenyKeyAdminNoMFA}, sid)
	}
	return slices.ContainsFunc([]string{"ReadWriteList", "ReadWriteObjects", "LockFiles", "ReadOnlyList", "ReadOnlyObjects"}, func(s string) bool {
		return strings.HasSuffix(sid, s) && len(sid) > len(s)
	})
}

// checkUnchanged: the access model only adds statements of its own to the
// key and bucket policies and changes no access policy; without it, the
// documents are those of commit 1e4f5ac, text for text, and the lock table
// policy (also without a table) has no statement.
func checkUnchanged(b Backend, docs []document) []string {
	var out []string
	base := b
	base.Grants, base.Boundary, base.KeyAdmins, base.Provider = nil, nil, nil, ""
	gold, err := loadPreIssue13()
	if err != nil {
		return []string{err.Error()}
	}
	old := gold[goldenKey(b)]
	for _, d := range docs {
		var before policydoc.Document
		switch d.kind {
		case "key":
			before = KeyPolicy(base)
		case "bucket":
			before = BucketPolicy(base)
		case "access":
			before = AccessPolicy(base, d.env)
		case "table":
			if (len(b.Grants) == 0 || b.TableARN == "") && len(d.doc.Statement) > 0 {
				out = append(out, fmt.Sprintf("table: %d statements without grants or without a table", len(d.doc.Statement)))
			}
			continue
		default:
			continue
		}
		if d.kind == "access" || !hasAccessModel(b) {
			if !d.doc.Equivalent(before) {
				out = append(out, d.label()+": differs from the document without the access model")
			}
			if text, ok := old[d.label()]; ok && !hasAccessModel(b) && Render(d.doc) != text {
				out = append(out, d.label()+": differs from the pre-issue-13 document")
			}
			continue
		}
		for _, st := range before.Statement {
			if !containsEquivalent(d.doc, st) {
				out = append(out, fmt.Sprintf("%s: pre-issue-13 statement %s missing or changed", d.label(), st.Sid))
			}
		}
		for _, st := range d.doc.Statement {
			if !containsEquivalent(before, st) && !accessModelSid(d.kind, st.Sid) {
				out = append(out, fmt.Sprintf("%s: statement %s is neither pre-issue-13 nor the access model's", d.label(), st.Sid))
			}
		}
	}
	return out
}
