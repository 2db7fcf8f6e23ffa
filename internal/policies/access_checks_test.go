package policies

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	pathpkg "path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// The checks of the access model's proofs. Each takes a backend and the
// documents rendered for it and returns its findings. The checks are
// structural: they read the statements (Effect, Principal, Action, Resource
// and Condition, compared with policydoc's Equivalent or as sets) and never
// evaluate a request against them. Issue 13 asks the unit tests to prove the
// statements, with no home-made policy evaluator; what IAM makes of a
// statement is AWS's documented semantics, not something re-implemented here.
// None calls the builders to decide what a document may contain, except
// "unchanged", which compares with the documents of the same backend without
// the access model. What the documents must say is written out here again on
// purpose: a second statement of the rule, not a copy of the code.

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
	{"replication", checkReplication},
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

// bucketDataActions are the S3 actions that read, write or list state, and
// the two that change the bucket policy (so that a principal failing the
// VPC endpoint or tag conditions cannot remove them either).
var bucketDataActions = []string{"s3:DeleteBucketPolicy", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion",
	"s3:ListBucket", "s3:ListBucketVersions", "s3:PutBucketPolicy", "s3:PutObject"}

// keyUse are the cryptographic uses of the key.
var keyUse = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// writeActions change state, locks or ciphertext; an action pattern that
// matches any of them writes.
var writeActions = []string{
	"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject",
	"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
	"kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
}

// keyedItemActions are the DynamoDB actions whose requests carry
// dynamodb:LeadingKeys. A ForAllValues condition on that key holds for a
// request without it (over no value), so only these actions are confined by
// it; any other table action under such a condition is allowed on the whole
// table.
var keyedItemActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
	"dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
}

// allowedActionPatterns are the only Allow actions with a wildcard besides
// the key administration's kms:*.
var allowedActionPatterns = []string{"kms:GenerateDataKey*", "kms:ReEncrypt*"}

// knownOperators are the condition operators the documents may use, without
// the IfExists suffix and the set qualifier: those whose meaning the checks
// rely on (a negated operator holds when its key is absent, and so on).
var knownOperators = []string{"ArnEquals", "ArnLike", "ArnNotLike", "Bool", "Null", "StringEquals", "StringLike", "StringNotEquals", "StringNotLike"}

// multiValuedKeys must be tested with ForAllValues; every other key is
// single-valued and must not carry a set qualifier.
var multiValuedKeys = []string{"dynamodb:leadingkeys", "aws:principalorgpaths"}

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

const (
	s3ContextKey    = "kms:EncryptionContext:aws:s3:arn"
	tableContextKey = "kms:EncryptionContext:aws:dynamodb:tableName"
	// subscriberContextKey is the account owning the table, in DynamoDB's
	// encryption context.
	subscriberContextKey = "kms:EncryptionContext:aws:dynamodb:subscriberId"
)

func rootOf(b Backend) string      { return "arn:" + b.Partition + ":iam::" + b.AccountID + ":root" }
func bucketARNOf(b Backend) string { return "arn:" + b.Partition + ":s3:::" + b.Bucket }
func viaOf(b Backend, service string) string {
	return service + "." + b.Region + ".amazonaws.com"
}

// replicaARNOf is the replica bucket's ARN; "" without replication.
func replicaARNOf(b Backend) string {
	if b.Replica == nil {
		return ""
	}
	return "arn:" + b.Partition + ":s3:::" + b.Replica.Bucket
}

// replicaVia is S3 in the replica's region, the only way the replica key may
// be used.
func replicaVia(b Backend) string { return "s3." + b.Replica.Region + ".amazonaws.com" }

// keyKinds are the documents that are key policies, bucketKinds those that
// are bucket policies.
var (
	keyKinds    = []string{"key", "replica-key"}
	bucketKinds = []string{"bucket", "replica-bucket"}
)

// bucketOfKind is the bucket a bucket policy (or key policy) is about: the
// state bucket's, or the replica's.
func bucketOfKind(b Backend, kind string) string {
	if kind == "replica-bucket" || kind == "replica-key" {
		return replicaARNOf(b)
	}
	return bucketARNOf(b)
}

func tableNameOf(b Backend) string {
	_, name, _ := strings.Cut(b.TableARN, ":table/")
	return name
}

func accountOf(principal string) string {
	if parts := strings.Split(principal, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

// accountsOfAll lists the accounts of the principals, sorted and unique.
func accountsOfAll(principals []string) []string {
	var out []string
	for _, p := range principals {
		out = append(out, accountOf(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// splitOperator cuts "ForAllValues:StringLikeIfExists" into its qualifier
// and base operator, without the IfExists suffix.
func splitOperator(op string) (qualifier, base string) {
	base = op
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, base = q, rest
	}
	return qualifier, strings.TrimSuffix(base, "IfExists")
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

func (g grantIndex) grantedAnywhere(p string) bool {
	return slices.ContainsFunc(g.envs, func(env string) bool { return g.granted(p, env) })
}

func (g grantIndex) writesAnywhere(p string) bool {
	return slices.ContainsFunc(g.envs, func(env string) bool { return g.readWrite[env][p] })
}

// union lists the principals of the sets over every environment.
func (g grantIndex) union(sets ...map[string]map[string]bool) []string {
	all := map[string]bool{}
	for _, env := range g.envs {
		for _, set := range sets {
			maps.Copy(all, set[env])
		}
	}
	return slices.Sorted(maps.Keys(all))
}

func (g grantIndex) principals() []string { return g.union(g.readWrite, g.readOnly) }
func (g grantIndex) writers() []string    { return g.union(g.readWrite) }
func (g grantIndex) readers() []string    { return g.union(g.readOnly) }

// actionMatches reports whether an action pattern of a statement covers the
// action (IAM action names are case-insensitive).
func actionMatches(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// namesAny reports whether any of the statement's action patterns covers any
// of the actions.
func namesAny(patterns, actions []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool {
		return slices.ContainsFunc(actions, func(a string) bool { return actionMatches(p, a) })
	})
}

func isWrite(action string) bool { return namesAny([]string{action}, writeActions) }

func hasWrite(st policydoc.Statement) bool { return slices.ContainsFunc(st.Action, isWrite) }

func isWildcardPrincipal(p policydoc.Principal) bool {
	return slices.Contains(p["*"], "*") || slices.Contains(p["AWS"], "*")
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b))))
}

func lower(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}

// sameActions compares action sets as IAM does, case-insensitively.
func sameActions(a, b []string) bool { return sameSet(lower(a), lower(b)) }

func containsAll(set, want []string) bool {
	return !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(set, w) })
}

// conditionValues returns the values a statement tests key with under op,
// the key matched case-insensitively as IAM does.
func conditionValues(st policydoc.Statement, op, key string) []string {
	var out []string
	for k, vs := range st.Condition[op] {
		if strings.EqualFold(k, key) {
			out = append(out, vs...)
		}
	}
	return out
}

func one(st policydoc.Statement) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{st}}
}

// containsEquivalent reports whether d has a statement equivalent to st (its Sid included).
func containsEquivalent(d policydoc.Document, st policydoc.Statement) bool {
	return slices.ContainsFunc(d.Statement, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) })
}

// sameGrant reports whether two statements grant the same (Sid aside: a grant
// statement's Sid carries its environment's statement ID part, which is the
// builders' business).
func sameGrant(a, b policydoc.Statement) bool {
	a.Sid, b.Sid = "", ""
	return one(a).Equivalent(one(b))
}

func describe(d document, i int) string {
	return fmt.Sprintf("%s: statement %d (%s)", d.label(), i, d.doc.Statement[i].Sid)
}

// byKind indexes documents by label.
func byKind(docs []document) map[string]policydoc.Document {
	out := map[string]policydoc.Document{}
	for _, d := range docs {
		out[d.label()] = d.doc
	}
	return out
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
				admin := slices.Contains(keyKinds, d.kind) && st.Sid == SidAccountAdmin && a == "kms:*" && len(st.Principal) == 1 && slices.Equal(st.Principal["AWS"], []string{rootOf(b)})
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

// checkOperators: every condition operator is one of knownOperators, and set
// qualifiers are used exactly for the multi-valued keys, with ForAllValues
// (ForAnyValue would let one matching value carry others).
func checkOperators(_ Backend, docs []document) []string {
	var out []string
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			for op, keys := range st.Condition {
				qualifier, base := splitOperator(op)
				if !slices.Contains(knownOperators, base) || qualifier != "" && qualifier != "ForAllValues" {
					out = append(out, fmt.Sprintf("%s: operator %q is not one the access model uses", describe(d, i), op))
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

// objectEnvIn is the environment of an object ARN or pattern under bucket
// ("<bucket>/<env>/..."), "" for any other resource.
func objectEnvIn(bucket, r string) (string, bool) {
	if bucket == "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(r, bucket+"/")
	if !ok {
		return "", false
	}
	env, _, _ := strings.Cut(rest, "/")
	return env, true
}

// objectEnv is the environment of an object ARN or pattern under the state
// bucket or the replica.
func objectEnv(b Backend, r string) (string, bool) {
	if env, ok := objectEnvIn(bucketARNOf(b), r); ok {
		return env, true
	}
	return objectEnvIn(replicaARNOf(b), r)
}

// checkResources: every resource is the backend's: the bucket, its objects
// under a granted environment (the whole bucket's objects only in denies),
// the table, the key; "*" only in the key policies, where it is the key; in
// the replica bucket's policy the replica, never the state bucket; in the
// identity policies also the replica, its objects under their own
// environment and the replica key.
func checkResources(b Backend, docs []document) []string {
	var out []string
	envs := indexGrants(b).envs
	for _, d := range docs {
		bucket := bucketOfKind(b, d.kind)
		for i, st := range d.doc.Statement {
			for _, r := range st.Resource {
				var ok bool
				switch d.kind {
				case "key", "replica-key":
					ok = r == "*"
				case "bucket", "replica-bucket":
					env, isObject := objectEnvIn(bucket, r)
					ok = r == bucket || st.Effect == "Deny" && r == bucket+"/*" || isObject && st.Effect == "Allow" && slices.Contains(envs, env)
				case "table":
					ok = b.TableARN != "" && r == b.TableARN
				default:
					env, isObject := objectEnvIn(bucketARNOf(b), r)
					ok = r == bucketARNOf(b) || isObject && env == d.env || b.TableARN != "" && r == b.TableARN || r == b.KeyARN
					if b.Replica != nil && !ok {
						env, isObject := objectEnvIn(replicaARNOf(b), r)
						ok = r == replicaARNOf(b) || isObject && env == d.env || r == b.Replica.KeyARN
					}
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

// listsUnscoped reports whether a statement lists the bucket (or the
// replica) without an s3:prefix condition saying which environment.
func listsUnscoped(b Backend, st policydoc.Statement) bool {
	bucket := slices.Contains(st.Resource, bucketARNOf(b)) || b.Replica != nil && slices.Contains(st.Resource, replicaARNOf(b))
	lists := bucket && slices.ContainsFunc(st.Action, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "s3:list") })
	return lists && len(conditionValues(st, "StringLike", "s3:prefix")) == 0
}

// describesTableOnly reports whether a statement allows dynamodb:DescribeTable
// on the table and nothing else: table metadata, no item, so no environment.
func describesTableOnly(b Backend, st policydoc.Statement) bool {
	return b.TableARN != "" && sameActions(st.Action, []string{"dynamodb:DescribeTable"}) && sameSet(st.Resource, []string{b.TableARN})
}

// tableFindings: an Allow on the lock table either describes the table and
// nothing else, without condition, or allows keyed item actions only, under
// a dynamodb:LeadingKeys condition. DescribeTable carries no LeadingKeys, so
// under such a condition it (like any action that carries none) would be
// allowed on the whole table: the split of issue 13's lock table statements.
func tableFindings(b Backend, where string, st policydoc.Statement) []string {
	if b.TableARN == "" || !slices.Contains(st.Resource, b.TableARN) {
		return nil
	}
	if describesTableOnly(b, st) {
		if len(st.Condition) > 0 {
			return []string{fmt.Sprintf("%s: DescribeTable under a condition %v it does not carry", where, st.Condition)}
		}
		return nil
	}
	var out []string
	for _, a := range st.Action {
		if !slices.Contains(lower(keyedItemActions), strings.ToLower(a)) {
			out = append(out, fmt.Sprintf("%s: allows %s beside lock item actions: it carries no dynamodb:LeadingKeys, so no environment confines it", where, a))
		}
	}
	if len(conditionValues(st, "ForAllValues:StringLike", "dynamodb:LeadingKeys")) == 0 {
		out = append(out, where+": touches lock items without a dynamodb:LeadingKeys condition naming an environment")
	}
	return out
}

// keyContextFindings: the key policy's encryption contexts name its bucket
// (the bucket, its objects, or an environment the statement's principals are
// granted) and this table, tested positively.
func keyContextFindings(b Backend, g grantIndex, where string, st policydoc.Statement, bucket string) []string {
	var out []string
	for op, keys := range st.Condition {
		for key, vals := range keys {
			isS3, isTable := strings.EqualFold(key, s3ContextKey), strings.EqualFold(key, tableContextKey)
			if !isS3 && !isTable {
				continue
			}
			if op != "StringEquals" && op != "StringLike" {
				out = append(out, fmt.Sprintf("%s: tests %s with %q", where, key, op))
			}
			for _, v := range vals {
				env, isObject := objectEnvIn(bucket, v)
				ok := isTable && b.TableARN != "" && v == tableNameOf(b) ||
					isS3 && (v == bucket || v == bucket+"/*" || isObject && env != "*" &&
						!slices.ContainsFunc(st.Principal["AWS"], func(p string) bool { return !g.granted(p, env) }))
				if !ok {
					out = append(out, fmt.Sprintf("%s: encryption context %s %q is not this backend's, or of an environment its principals are not granted", where, key, v))
				}
			}
		}
	}
	return out
}

// checkEnvironments: every Allow of the bucket and table policies reaches
// exactly one environment (through its object resources, s3:prefix or
// dynamodb:LeadingKeys), one every principal it names is granted, except a
// DescribeTable-only statement, which reaches no environment and names only
// principals granted some; identity policies reach only their own
// environment; a statement listing the bucket names a prefix; an Allow on the
// table is DescribeTable alone or keyed item actions under LeadingKeys; in the
// key policy the granted principals appear only in the grant statements (the
// read-only ones only in the read-only grants), the state principals only in
// theirs, the root only in the account administration, and encryption
// contexts name only this bucket and table.
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
			if listsUnscoped(b, st) {
				out = append(out, where+": lists the bucket without naming an environment")
			}
			out = append(out, tableFindings(b, where, st)...)
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
					case SidGrantReadOnlyS3, SidGrantReadOnlyDynamoDB:
						ok = slices.Contains(g.readers(), p)
					}
					if !ok {
						out = append(out, fmt.Sprintf("%s: names %s", where, p))
					}
				}
				out = append(out, keyContextFindings(b, g, where, st, bucketARNOf(b))...)
			case "replica-key":
				// Every granted principal only reads the replica: one grant.
				for _, p := range st.Principal["AWS"] {
					var ok bool
					switch st.Sid {
					case SidAccountAdmin:
						ok = p == rootOf(b)
					case SidReplicaStateUsers:
						ok = slices.Contains(b.Principals, p)
					case SidGrantReadOnlyS3:
						ok = g.grantedAnywhere(p)
					}
					if !ok {
						out = append(out, fmt.Sprintf("%s: names %s", where, p))
					}
				}
				out = append(out, keyContextFindings(b, g, where, st, replicaARNOf(b))...)
			case "bucket", "table", "replica-bucket":
				if len(envs) == 0 && describesTableOnly(b, st) {
					for _, p := range st.Principal["AWS"] {
						if !g.grantedAnywhere(p) {
							out = append(out, fmt.Sprintf("%s: names %s, which is granted no environment", where, p))
						}
					}
					continue
				}
				if len(envs) != 1 {
					out = append(out, fmt.Sprintf("%s: reaches environments %q, not exactly one", where, envs))
					continue
				}
				for _, p := range st.Principal["AWS"] {
					if !g.granted(p, envs[0]) {
						out = append(out, fmt.Sprintf("%s: names %s, which is not granted environment %s", where, p, envs[0]))
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

// want is a statement a document must hold, and what it is for.
type want struct {
	label string // the document's
	what  string
	st    policydoc.Statement
}

// wantAccess are the statements Terraform's S3 backend needs, written out
// from what it does: it lists "<env>/" (and, reading old versions,
// ListBucketVersions), reads and writes "<env>/<key>", takes a lock file
// "<env>/<key>.tflock" (lockfile) or lock items "<bucket>/<env>/<key>" and
// "<bucket>/<env>/<key>-md5" (after DescribeTable), and encrypts and decrypts
// through S3 (bucket key: the bucket's ARN is the encryption context) and
// DynamoDB (the table's name is). In the resource policies for each
// environment's principals, in the identity policies for their holder.
func wantAccess(b Backend) []want {
	g := indexGrants(b)
	bucket := bucketARNOf(b)
	table := []string{b.TableARN}
	hasTable := b.TableARN != ""
	var out []want
	add := func(label, what string, principals, actions, resources []string, cond policydoc.Conditions) {
		st := policydoc.Statement{Effect: "Allow", Action: actions, Resource: resources, Condition: cond}
		if principals != nil {
			st.Principal = policydoc.Principal{"AWS": principals}
		}
		out = append(out, want{label, what, st})
	}
	prefix := func(env string) policydoc.Conditions {
		return policydoc.Conditions{"StringLike": {"s3:prefix": {env + "/*"}}}
	}
	leadingKeys := func(env string) policydoc.Conditions {
		return policydoc.Conditions{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {b.Bucket + "/" + env + "/*"}}}
	}
	objects := func(env string) []string { return []string{bucket + "/" + env + "/*"} }
	lockFiles := func(env string) []string { return []string{bucket + "/" + env + "/*.tflock"} }

	for _, env := range g.envs {
		rw, ro := g.readWriteIn(env), g.readOnlyIn(env)
		if len(rw) > 0 {
			add("bucket", env+" read-write principals list its states", rw, []string{"s3:ListBucket"}, []string{bucket}, prefix(env))
			add("bucket", env+" read-write principals read and write its states", rw, []string{"s3:GetObject", "s3:PutObject"}, objects(env), nil)
			if b.Lockfile {
				add("bucket", env+" read-write principals delete its lock files", rw, []string{"s3:DeleteObject"}, lockFiles(env), nil)
			}
			if hasTable {
				add("table", env+" read-write principals take and release its lock items", rw,
					[]string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, table, leadingKeys(env))
			}
		}
		if len(ro) > 0 {
			add("bucket", env+" read-only principals list its states and versions", ro, []string{"s3:ListBucket", "s3:ListBucketVersions"}, []string{bucket}, prefix(env))
			add("bucket", env+" read-only principals read its states and versions", ro, []string{"s3:GetObject", "s3:GetObjectVersion"}, objects(env), nil)
			if hasTable {
				add("table", env+" read-only principals read its state digests", ro, []string{"dynamodb:GetItem"}, table, leadingKeys(env))
			}
		}
		if all := sortedSet(append(slices.Clone(rw), ro...)); hasTable && len(all) > 0 {
			add("table", env+" principals describe the lock table", all, []string{"dynamodb:DescribeTable"}, table, nil)
		}
	}

	throughIn := func(label, via, what string, principals, actions []string, service, op, key string, values []string) {
		if len(principals) == 0 {
			return
		}
		cond := policydoc.Conditions{"StringEquals": {
			"kms:CallerAccount": accountsOfAll(principals),
			"kms:ViaService":    {via},
		}}
		if cond[op] == nil {
			cond[op] = map[string]policydoc.StringSet{}
		}
		cond[op][key] = values
		if service == "dynamodb" {
			cond["StringEquals"][subscriberContextKey] = []string{b.AccountID}
		}
		add(label, what, principals, actions, []string{"*"}, cond)
	}
	through := func(what string, principals, actions []string, service, op, key string, values []string) {
		throughIn("key", viaOf(b, service), what, principals, actions, service, op, key, values)
	}
	readWriteKey := []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
	bucketContext := []string{bucket, bucket + "/*"}
	through("read-write principals use the key through S3 for the bucket", g.writers(), readWriteKey, "s3", "StringLike", s3ContextKey, bucketContext)
	through("read-only principals decrypt through S3 for the bucket", g.readers(), []string{"kms:Decrypt"}, "s3", "StringLike", s3ContextKey, bucketContext)
	if hasTable {
		through("read-write principals use the key through DynamoDB for the table", g.writers(), readWriteKey, "dynamodb", "StringEquals", tableContextKey, []string{tableNameOf(b)})
		through("read-only principals decrypt through DynamoDB for the table (the digest item)", g.readers(), []string{"kms:Decrypt"}, "dynamodb", "StringEquals", tableContextKey, []string{tableNameOf(b)})
	}

	for _, env := range environments(b) {
		access, ro := "access/"+env, "read-only/"+env
		add(access, "list its states", nil, []string{"s3:ListBucket"}, []string{bucket}, prefix(env))
		add(access, "read and write its states", nil, []string{"s3:GetObject", "s3:PutObject"}, objects(env), nil)
		if b.Lockfile {
			add(access, "manage its lock files", nil, []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, lockFiles(env), nil)
		}
		if hasTable {
			add(access, "describe the lock table", nil, []string{"dynamodb:DescribeTable"}, table, nil)
			add(access, "take and release its lock items", nil, []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, table, leadingKeys(env))
		}
		add(access, "use the key", nil, readWriteKey, []string{b.KeyARN}, nil)
		add(ro, "list its states and versions", nil, []string{"s3:ListBucket", "s3:ListBucketVersions"}, []string{bucket}, prefix(env))
		add(ro, "read its states and versions", nil, []string{"s3:GetObject", "s3:GetObjectVersion"}, objects(env), nil)
		if hasTable {
			add(ro, "describe the lock table", nil, []string{"dynamodb:DescribeTable"}, table, nil)
			add(ro, "read its state digests", nil, []string{"dynamodb:GetItem"}, table, leadingKeys(env))
		}
		add(ro, "decrypt with the key", nil, []string{"kms:Decrypt"}, []string{b.KeyARN}, nil)
	}

	// With replication, the replica is a failover copy that every granted
	// principal, and each environment's policies, only read: list the prefix
	// (with versions), read the states and their versions, decrypt through S3
	// in the replica's region for the replica bucket.
	if b.Replica != nil {
		replica := replicaARNOf(b)
		for _, env := range g.envs {
			all := sortedSet(append(g.readWriteIn(env), g.readOnlyIn(env)...))
			if len(all) == 0 {
				continue
			}
			add("replica-bucket", env+" principals list its replica states and versions", all, []string{"s3:ListBucket", "s3:ListBucketVersions"}, []string{replica}, prefix(env))
			add("replica-bucket", env+" principals read its replica states and versions", all, []string{"s3:GetObject", "s3:GetObjectVersion"}, []string{replica + "/" + env + "/*"}, nil)
		}
		throughIn("replica-key", replicaVia(b), "every granted principal decrypts through S3 for the replica bucket", g.principals(), []string{"kms:Decrypt"},
			"s3", "StringLike", s3ContextKey, []string{replica, replica + "/*"})
		for _, env := range environments(b) {
			for _, label := range []string{"access/" + env, "read-only/" + env} {
				add(label, "list its replica states and versions", nil, []string{"s3:ListBucket", "s3:ListBucketVersions"}, []string{replica}, prefix(env))
				add(label, "read its replica states and versions", nil, []string{"s3:GetObject", "s3:GetObjectVersion"}, []string{replica + "/" + env + "/*"}, nil)
				add(label, "decrypt them through S3 in the replica region", nil, []string{"kms:Decrypt"}, []string{b.Replica.KeyARN},
					policydoc.Conditions{"StringEquals": {"kms:ViaService": {replicaVia(b)}}})
			}
		}
	}
	return out
}

func sortedSet(vs []string) []string {
	out := slices.Sorted(slices.Values(vs))
	return slices.Compact(out)
}

// checkRequiredAccess: every statement of wantAccess is there, exactly
// (Effect, Principal set, Action set, Resource set and Condition, compared
// with policydoc's Equivalent; Sid aside), so every granted principal can do
// what the S3 backend needs in its environment and each environment's
// identity policies allow the same; and nothing else is granted: every Allow
// of the bucket and table policies, every Allow of the key policy naming a
// granted principal and every statement of an identity policy is one of them.
func checkRequiredAccess(b Backend, docs []document) []string {
	var out []string
	kinds := byKind(docs)
	wants := wantAccess(b)
	for _, w := range wants {
		if !slices.ContainsFunc(kinds[w.label].Statement, func(st policydoc.Statement) bool { return sameGrant(st, w.st) }) {
			out = append(out, fmt.Sprintf("%s: no statement lets %s %v: %v on %v if %v", w.label, w.what, w.st.Principal["AWS"], w.st.Action, w.st.Resource, w.st.Condition))
		}
	}
	granted := indexGrants(b).principals()
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			var grant bool
			switch d.kind {
			case "bucket", "table", "replica-bucket":
				grant = st.Effect == "Allow"
			case "key", "replica-key":
				grant = st.Effect == "Allow" && slices.ContainsFunc(st.Principal["AWS"], func(p string) bool { return slices.Contains(granted, p) })
			default:
				grant = true
			}
			if grant && !slices.ContainsFunc(wants, func(w want) bool { return w.label == d.label() && sameGrant(st, w.st) }) {
				out = append(out, describe(d, i)+": grants what the access model does not")
			}
		}
	}
	return out
}

// checkReadOnly: nobody writes where it is only granted reading. No Allow of
// the bucket or table policies lets a principal write an environment unless
// it is a read-write principal of that environment, and none writes without
// naming one; a granted principal that writes nowhere (and is not a state
// principal) is allowed nothing of the key but kms:Decrypt, only through S3
// or DynamoDB in this region, only for an encryption context; the read-only
// identity policies write nothing. The replica is read-only for everyone but
// S3 replication: no Allow of its bucket policy writes, no principal but the
// replication role is allowed anything of its key but kms:Decrypt through S3
// in the replica's region for an encryption context, the role nothing but
// kms:Encrypt there for the replica bucket, and no identity policy statement
// reaching the replica or its key writes.
func checkReadOnly(b Backend, docs []document) []string {
	var out []string
	g := indexGrants(b)
	vias := []string{viaOf(b, "s3"), viaOf(b, "dynamodb")}
	for _, d := range docs {
		for i, st := range d.doc.Statement {
			if st.Effect != "Allow" {
				continue
			}
			where := describe(d, i)
			switch d.kind {
			case "bucket", "table":
				if !hasWrite(st) {
					continue
				}
				envs := slices.Sorted(maps.Keys(statementEnvs(b, st)))
				if len(envs) == 0 {
					out = append(out, fmt.Sprintf("%s: writes (%v) without naming an environment", where, st.Action))
				}
				for _, env := range envs {
					for _, p := range st.Principal["AWS"] {
						if !g.readWrite[env][p] {
							out = append(out, fmt.Sprintf("%s: lets %s write environment %s, where it is not a read-write principal: %v", where, p, env, st.Action))
						}
					}
				}
			case "key":
				for _, p := range st.Principal["AWS"] {
					if !slices.Contains(g.principals(), p) || g.writesAnywhere(p) || slices.Contains(b.Principals, p) {
						continue
					}
					if !sameActions(st.Action, []string{"kms:Decrypt"}) {
						out = append(out, fmt.Sprintf("%s: lets read-only %s %v, not only kms:Decrypt", where, p, st.Action))
					}
					if via := conditionValues(st, "StringEquals", "kms:ViaService"); len(via) == 0 || !containsAll(vias, via) {
						out = append(out, fmt.Sprintf("%s: lets read-only %s use the key other than through S3 or DynamoDB in %s: %v", where, p, b.Region, via))
					}
					if len(conditionValues(st, "StringLike", s3ContextKey)) == 0 && len(conditionValues(st, "StringEquals", tableContextKey)) == 0 {
						out = append(out, fmt.Sprintf("%s: lets read-only %s decrypt for any encryption context", where, p))
					}
				}
			case "read-only":
				if hasWrite(st) {
					out = append(out, fmt.Sprintf("%s: writes: %v", where, st.Action))
				}
			case "replica-bucket":
				if hasWrite(st) {
					out = append(out, fmt.Sprintf("%s: lets %v write the replica: %v", where, st.Principal["AWS"], st.Action))
				}
			case "replica-key":
				out = append(out, replicaKeyUseFindings(b, where, st)...)
			}
			if (d.kind == "access" || d.kind == "read-only") && reachesReplica(b, st) && hasWrite(st) {
				out = append(out, fmt.Sprintf("%s: writes the replica: %v", where, st.Action))
			}
		}
	}
	return out
}

// reachesReplica reports whether a statement names the replica bucket, its
// objects or its key.
func reachesReplica(b Backend, st policydoc.Statement) bool {
	if b.Replica == nil {
		return false
	}
	return slices.ContainsFunc(st.Resource, func(r string) bool {
		_, isObject := objectEnvIn(replicaARNOf(b), r)
		return isObject || r == replicaARNOf(b) || r == b.Replica.KeyARN
	})
}

// replicaKeyUseFindings: in the replica key's policy (the account
// administration aside) anyone may only decrypt, through S3 in the replica's
// region, for an encryption context; the replication role is named by no
// statement (its own policy lets it encrypt, through the root statement; KMS
// refuses a key policy naming a role that does not exist yet, and the role's
// policy names the key).
func replicaKeyUseFindings(b Backend, where string, st policydoc.Statement) []string {
	if st.Sid == SidAccountAdmin {
		return nil
	}
	var out []string
	via := conditionValues(st, "StringEquals", "kms:ViaService")
	if !sameSet(via, []string{replicaVia(b)}) {
		out = append(out, fmt.Sprintf("%s: lets %v use the replica key other than through S3 in %s: %v", where, st.Principal["AWS"], b.Replica.Region, via))
	}
	for _, p := range st.Principal["AWS"] {
		if p == b.Replica.RoleARN {
			out = append(out, where+": names the replication role, which may not exist when the key's policy is written")
		}
		if !sameActions(st.Action, []string{"kms:Decrypt"}) {
			out = append(out, fmt.Sprintf("%s: lets %s %v with the replica key, not only kms:Decrypt", where, p, st.Action))
		}
		if len(conditionValues(st, "StringLike", s3ContextKey)) == 0 {
			out = append(out, fmt.Sprintf("%s: lets %s decrypt with the replica key for any encryption context", where, p))
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

// boundaryExempt are the principals the boundary's denies exempt: the root,
// the break-glass principals, the provider and, with replication, the
// replication role (S3 acting for the backend, with no principal tag and
// through no VPC endpoint).
func boundaryExempt(b Backend) []string {
	exempt := []string{rootOf(b), b.Provider}
	if b.Boundary != nil {
		exempt = append(exempt, b.Boundary.BreakGlass...)
	}
	if b.Replica != nil {
		exempt = append(exempt, b.Replica.RoleARN)
	}
	return wantPatterns(exempt...)
}

// wantBoundaryDenies are the boundary's denies in a bucket or key policy. The
// replica bucket has no VPC endpoint deny: the endpoints are the state
// bucket's region's, and in the replica's region they would refuse every
// failover read.
func wantBoundaryDenies(b Backend, kind string) []policydoc.Statement {
	bd := b.Boundary
	if bd == nil || !slices.Contains(keyKinds, kind) && !slices.Contains(bucketKinds, kind) {
		return nil
	}
	bucket := bucketOfKind(b, kind)
	everything, data, resources := []string{"s3:*"}, bucketDataActions, []string{bucket, bucket + "/*"}
	if slices.Contains(keyKinds, kind) {
		everything, data, resources = keyUse, keyUse, []string{"*"}
	}
	exempt := boundaryExempt(b)
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

// checkBoundary: the boundary's denies are exactly the expected ones, in the
// state's and the replica's bucket and key policies (one per principal tag,
// VPC endpoints only in the state bucket's policy; the organisation
// conditions over every action, the others over the data actions or the uses
// of the key), and each says so on its own: it exempts exactly the root, the
// break-glass principals, the provider and, with replication, the
// replication role (aws:PrincipalArn, a role without a path under any path
// too) and never AWS services acting for the backend, and tests exactly one
// boundary condition with a negated operator, so a caller meeting every
// condition is not denied and a caller failing any one is. The key policies
// never ask for aws:SourceVpce: the requests S3 and DynamoDB make to KMS for
// a caller do not carry it.
func checkBoundary(b Backend, docs []document) []string {
	var out []string
	exemptPatterns := boundaryExempt(b)
	for _, d := range docs {
		var got []policydoc.Statement
		for i, st := range d.doc.Statement {
			if slices.Contains(keyKinds, d.kind) && len(conditionValues(st, "StringNotEquals", "aws:SourceVpce")) > 0 {
				out = append(out, describe(d, i)+": asks for aws:SourceVpce, which KMS requests made for a caller do not carry")
			}
			if !isBoundarySid(st.Sid) {
				continue
			}
			got = append(got, st)
			where := describe(d, i)
			if st.Effect != "Deny" || !isWildcardPrincipal(st.Principal) {
				out = append(out, fmt.Sprintf("%s: a boundary statement that is not a Deny for every principal", where))
			}
			if p := conditionValues(st, "ArnNotLike", "aws:PrincipalArn"); !sameSet(p, exemptPatterns) {
				out = append(out, fmt.Sprintf("%s: exempts %v, not exactly the root, the break-glass principals, the provider and the replication role %v", where, p, exemptPatterns))
			}
			if v := conditionValues(st, "BoolIfExists", "aws:PrincipalIsAWSService"); !sameSet(v, []string{"false"}) {
				out = append(out, fmt.Sprintf("%s: applies to AWS services acting for the backend (aws:PrincipalIsAWSService %v)", where, v))
			}
			tests := 0
			for op, keys := range st.Condition {
				if op == "ArnNotLike" || op == "BoolIfExists" {
					continue
				}
				tests += len(keys)
				if _, base := splitOperator(op); !strings.Contains(base, "Not") {
					out = append(out, fmt.Sprintf("%s: %s denies the callers that meet the condition", where, op))
				}
			}
			if tests != 1 {
				out = append(out, fmt.Sprintf("%s: tests %d boundary conditions, not one", where, tests))
			}
		}
		want := wantBoundaryDenies(b, d.kind)
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
	}
	return out
}

// checkKeyAdministration, in the state key's and the replica key's policies:
// with key administrators, one deny reserves exactly
// KeyAdministrationActions for them and the provider, and with RequireMFA a
// second denies them to administrators without MFA but not to the provider
// (unless it is an administrator);
// every deny of a key administration action exempts the provider and none
// exempts the account root; without key administrators, nothing denies them.
func checkKeyAdministration(b Backend, docs []document) []string {
	var out []string
	for _, kind := range keyKinds {
		if key, ok := byKind(docs)[kind]; ok {
			out = append(out, keyAdministrationFindings(b, kind, key)...)
		}
	}
	if !sameSet(KeyAdministrationActions(), []string{"kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"}) {
		out = append(out, fmt.Sprintf("KeyAdministrationActions() = %v", KeyAdministrationActions()))
	}
	return out
}

// keyAdministrationFindings are checkKeyAdministration's findings in one key
// policy (the state key's or the replica key's, labelled kind).
func keyAdministrationFindings(b Backend, kind string, key policydoc.Document) []string {
	var out []string
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
			if b.Provider != "" && !providerAdministers(b) {
				cond["ArnNotLike"] = map[string]policydoc.StringSet{"aws:PrincipalArn": wantPatterns(b.Provider)}
			}
			want = append(want, policydoc.Statement{Sid: SidDenyKeyAdminNoMFA, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
				Action: KeyAdministrationActions(), Resource: policydoc.StringSet{"*"}, Condition: cond})
		}
	}
	for _, st := range want {
		if !containsEquivalent(key, st) {
			out = append(out, fmt.Sprintf("%s: %s missing or different", kind, st.Sid))
		}
	}
	for i, st := range key.Statement {
		if (st.Sid == SidDenyKeyAdminOthers || st.Sid == SidDenyKeyAdminNoMFA) && !slices.ContainsFunc(want, func(o policydoc.Statement) bool { return one(o).Equivalent(one(st)) }) {
			out = append(out, kind+": unexpected "+st.Sid)
		}
		if st.Effect != "Deny" || !namesAny(st.Action, KeyAdministrationActions()) {
			continue
		}
		where := fmt.Sprintf("%s: statement %d (%s)", kind, i, st.Sid)
		exempt := conditionValues(st, "ArnNotLike", "aws:PrincipalArn")
		if ka == nil {
			out = append(out, where+": denies key administration without key administrators")
		}
		if slices.Contains(exempt, rootOf(b)) {
			out = append(out, where+": exempts the account root from key administration")
		}
		// A provider that is itself a key administrator needs MFA like the others.
		mfaForAdmins := st.Sid == SidDenyKeyAdminNoMFA && providerAdministers(b)
		if b.Provider != "" && !mfaForAdmins && !containsAll(exempt, wantPatterns(b.Provider)) {
			out = append(out, fmt.Sprintf("%s: denies key administration to the provider %s (exempts %v)", where, b.Provider, exempt))
		}
	}
	return out
}

// providerAdministers tells whether the provider's principal is one of the
// key administrators (then the MFA deny applies to it too).
func providerAdministers(b Backend) bool {
	if b.KeyAdmins == nil {
		return false
	}
	p, err := arn.Parse(b.Provider)
	if err != nil {
		return false
	}
	pathless := strings.HasPrefix(p.Resource, "role/") && strings.Count(p.Resource, "/") == 1
	for _, admin := range b.KeyAdmins.Principals {
		a, err := arn.Parse(admin)
		if admin == b.Provider || err == nil && pathless && a.AccountID == p.AccountID &&
			strings.HasPrefix(a.Resource, "role/") && pathpkg.Base(a.Resource) == pathpkg.Base(p.Resource) {
			return true
		}
	}
	return false
}

// recoveryActions keep a key manageable: the account root may always take them.
var recoveryActions = []string{"kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"}

// checkRecovery, for the state key and the replica key: the account root is
// allowed every action of the key (the
// account administration statement, unconditioned), no Deny of the key policy
// names a recovery action without exempting the root by aws:PrincipalArn (so
// failing every boundary condition and without MFA it keeps them), and no
// Deny names kms:DescribeKey in any form (moto denies it on any such
// statement, whatever its conditions).
func checkRecovery(b Backend, docs []document) []string {
	var out []string
	for _, kind := range keyKinds {
		key, ok := byKind(docs)[kind]
		if !ok {
			continue
		}
		admin := policydoc.Statement{Sid: SidAccountAdmin, Effect: "Allow", Principal: policydoc.Principal{"AWS": {rootOf(b)}},
			Action: policydoc.StringSet{"kms:*"}, Resource: policydoc.StringSet{"*"}}
		if !containsEquivalent(key, admin) {
			out = append(out, kind+": the account root is not allowed every action without condition ("+SidAccountAdmin+" missing or different)")
		}
		for i, st := range key.Statement {
			if st.Effect != "Deny" {
				continue
			}
			if namesAny(st.Action, []string{"kms:DescribeKey"}) {
				out = append(out, fmt.Sprintf("%s: statement %d (%s) denies kms:DescribeKey", kind, i, st.Sid))
			}
			if namesAny(st.Action, recoveryActions) && !slices.Contains(conditionValues(st, "ArnNotLike", "aws:PrincipalArn"), rootOf(b)) {
				out = append(out, fmt.Sprintf("%s: statement %d (%s) denies a recovery action %v without exempting the account root", kind, i, st.Sid, st.Action))
			}
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
		b.TableARN != "" && b.TableARN != base.TableARN || len(b.Principals) > 0 && !slices.Equal(b.Principals, statePrincipals) || b.Replica != nil {
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
		return slices.Contains([]string{SidGrantReadWriteS3, SidGrantReadOnlyS3, SidGrantReadWriteDynamoDB, SidGrantReadOnlyDynamoDB, SidDenyKeyAdminOthers, SidDenyKeyAdminNoMFA}, sid)
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

// replicationSids are the statements replication adds to the identity
// policies.
var replicationSids = []string{SidReplicaList, SidReplicaObjects, SidReplicaDecrypt}

// checkReplication: replication changes the state's documents only where it
// must, and the replica's documents carry the state's controls. Without it
// there is no replica document and no replica statement. With it, compared
// with the same backend without replication: the key and bucket policies
// differ only in the boundary's denies exempting the replication role (the
// same statements once the role is taken out of their exemptions); the lock
// table policy is the same; each identity policy keeps every statement and
// gains exactly the replica statements (checkRequiredAccess says what they
// grant). The replica bucket's policy refuses requests without TLS and
// uploads with other encryption than SSE-KMS with the replica key, the
// state bucket's controls written for the replica; the replica key's policy
// lets the state principals decrypt through S3 in the replica region for the
// replica bucket, and names the replication role nowhere.
func checkReplication(b Backend, docs []document) []string {
	var out []string
	if b.Replica == nil {
		for _, d := range docs {
			if strings.HasPrefix(d.kind, "replica-") {
				out = append(out, d.label()+": a replica document without replication")
			}
			for i, st := range d.doc.Statement {
				if slices.Contains(replicationSids, st.Sid) {
					out = append(out, describe(d, i)+": a replica statement without replication")
				}
			}
		}
		return out
	}
	without := b
	without.Replica = nil
	before := byKind(renderDocuments(without))
	role := wantPatterns(b.Replica.RoleARN)
	for _, d := range docs {
		old, had := before[d.label()]
		switch d.kind {
		case "key", "bucket":
			if len(d.doc.Statement) != len(old.Statement) {
				out = append(out, fmt.Sprintf("%s: %d statements with replication, %d without", d.label(), len(d.doc.Statement), len(old.Statement)))
				continue
			}
			for i, st := range d.doc.Statement {
				exempt := conditionValues(st, "ArnNotLike", "aws:PrincipalArn")
				if isBoundarySid(st.Sid) {
					if !containsAll(exempt, role) {
						out = append(out, describe(d, i)+": the boundary deny does not exempt the replication role")
					}
					st.Condition = maps.Clone(st.Condition)
					st.Condition["ArnNotLike"] = map[string]policydoc.StringSet{"aws:PrincipalArn": slices.DeleteFunc(slices.Clone(exempt), func(p string) bool { return slices.Contains(role, p) })}
				}
				if !one(st).Equivalent(one(old.Statement[i])) {
					out = append(out, describe(d, i)+": changed by replication beyond exempting the replication role from the boundary")
				}
			}
		case "table":
			if !d.doc.Equivalent(old) {
				out = append(out, "table: changed by replication")
			}
		case "access", "read-only":
			if !had {
				continue
			}
			for _, st := range old.Statement {
				if !containsEquivalent(d.doc, st) {
					out = append(out, fmt.Sprintf("%s: statement %s lost or changed with replication", d.label(), st.Sid))
				}
			}
			var added []string
			for _, st := range d.doc.Statement {
				if !containsEquivalent(old, st) {
					added = append(added, st.Sid)
				}
			}
			if !sameSet(added, replicationSids) || len(added) != len(replicationSids) {
				out = append(out, fmt.Sprintf("%s: replication adds %v, want exactly %v", d.label(), added, replicationSids))
			}
		case "replica-bucket":
			out = append(out, replicaBucketControlFindings(b, d.doc)...)
		case "replica-key":
			out = append(out, replicaKeyStatementFindings(b, d.doc)...)
		}
	}
	for _, kind := range []string{"replica-key", "replica-bucket"} {
		if _, ok := byKind(docs)[kind]; !ok {
			out = append(out, kind+": missing with replication")
		}
	}
	return out
}

// replicaBucketControlFindings: the state bucket's controls, written out for
// the replica and its key.
func replicaBucketControlFindings(b Backend, d policydoc.Document) []string {
	replica := replicaARNOf(b)
	deny := func(sid string, actions, resources []string, cond policydoc.Conditions) policydoc.Statement {
		return policydoc.Statement{Sid: sid, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: actions, Resource: resources, Condition: cond}
	}
	objects := []string{replica + "/*"}
	var out []string
	for _, st := range []policydoc.Statement{
		deny(SidDenyInsecure, []string{"s3:*"}, []string{replica, replica + "/*"}, policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}}),
		deny(SidDenyOtherSSE, []string{"s3:PutObject"}, objects, policydoc.Conditions{
			"Null": {"s3:x-amz-server-side-encryption": {"false"}}, "StringNotEquals": {"s3:x-amz-server-side-encryption": {"aws:kms"}}}),
		deny(SidDenyUnnamedKey, []string{"s3:PutObject"}, objects, policydoc.Conditions{
			"Null": {"s3:x-amz-server-side-encryption": {"false"}, "s3:x-amz-server-side-encryption-aws-kms-key-id": {"true"}}}),
		deny(SidDenyOtherKey, []string{"s3:PutObject"}, objects, policydoc.Conditions{
			"Null":            {"s3:x-amz-server-side-encryption-aws-kms-key-id": {"false"}},
			"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": {b.Replica.KeyARN}}}),
	} {
		if !containsEquivalent(d, st) {
			out = append(out, "replica-bucket: the state bucket's control "+st.Sid+" is missing or different")
		}
	}
	return out
}

// replicaKeyStatementFindings: the replica key's statement for the state
// principals, exactly; no statement naming the replication role.
func replicaKeyStatementFindings(b Backend, d policydoc.Document) []string {
	replica := replicaARNOf(b)
	var want []policydoc.Statement
	if len(b.Principals) > 0 {
		want = append(want, policydoc.Statement{
			Sid: SidReplicaStateUsers, Effect: "Allow", Principal: policydoc.Principal{"AWS": b.Principals},
			Action: policydoc.StringSet{"kms:Decrypt"}, Resource: policydoc.StringSet{"*"},
			Condition: policydoc.Conditions{
				"StringEquals": {"kms:CallerAccount": {b.AccountID}, "kms:ViaService": {replicaVia(b)}},
				"StringLike":   {s3ContextKey: {replica, replica + "/*"}},
			},
		})
	}
	var out []string
	for _, st := range want {
		if !containsEquivalent(d, st) {
			out = append(out, "replica-key: "+st.Sid+" missing or different")
		}
	}
	for i, st := range d.Statement {
		if st.Sid == SidReplicaStateUsers && !slices.ContainsFunc(want, func(w policydoc.Statement) bool { return one(w).Equivalent(one(st)) }) {
			out = append(out, fmt.Sprintf("replica-key: statement %d (%s) unexpected", i, st.Sid))
		}
		if slices.Contains(st.Principal["AWS"], b.Replica.RoleARN) {
			out = append(out, fmt.Sprintf("replica-key: statement %d (%s) names the replication role", i, st.Sid))
		}
	}
	return out
}
