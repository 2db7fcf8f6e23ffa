package policies

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Grant is what one environment grants to principals of any account, beside
// the same-account managed policy of policy_arns.
type Grant struct {
	Environment string
	// ReadWrite principals read and write the environment's states and take
	// its locks.
	ReadWrite []string
	// ReadOnly principals read the environment's states and their versions.
	ReadOnly []string
}

// Boundary holds the conditions every caller must meet, written as explicit
// denies into the bucket policy and the key policy. The account root, the
// break-glass principals and the principal running the provider are exempt,
// so the backend can never lock out its own administrators.
type Boundary struct {
	OrganizationID string
	OrgPaths       []string
	VPCEndpointIDs []string
	PrincipalTags  map[string]string
	BreakGlass     []string
}

// KeyAdministrators are the only principals, beside the one running the
// provider, that may schedule the key's deletion, disable it or its
// rotation, or change its policy.
type KeyAdministrators struct {
	Principals []string
	RequireMFA bool
}

// Statement IDs of the access model.
const (
	SidGrantReadWriteS3       = "GrantedReadWriteThroughS3"
	SidGrantReadOnlyS3        = "GrantedReadOnlyThroughS3"
	SidGrantReadWriteDynamoDB = "GrantedReadWriteThroughDynamoDB"
	SidGrantReadOnlyDynamoDB  = "GrantedReadOnlyThroughDynamoDB"
	SidDenyOutsideOrg         = "DenyOutsideOrganization"
	SidDenyOutsideOrgPaths    = "DenyOutsideOrganizationPaths"
	SidDenyOutsideVPCE        = "DenyDataAccessOutsideVpcEndpoints"
	SidDenyPrincipalTag       = "DenyWithoutPrincipalTag"
	SidDenyKeyAdminOthers     = "DenyKeyAdministrationToOthers"
	SidDenyKeyAdminNoMFA      = "DenyKeyAdministrationWithoutMFA"
	SidTableGrantReadWrite    = "GrantedLockItems"
	SidTableGrantReadOnly     = "GrantedLockDigestRead"
	SidTableGrantDescribe     = "GrantedDescribeTable"
)

// KeyAdministrationActions are the actions only key administrators may take:
// each can make every state unreadable, or weaken the key for good.
func KeyAdministrationActions() []string {
	return []string{"kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"}
}

// The actions each kind of principal gets on an environment's states and
// lock items: one list each, used by the identity policies and the resource
// policies alike.
var (
	stateReadWriteActions = []string{"s3:GetObject", "s3:PutObject"}
	stateReadOnlyActions  = []string{"s3:GetObject", "s3:GetObjectVersion"}
	listReadOnlyActions   = []string{"s3:ListBucket", "s3:ListBucketVersions"}
	lockItemActions       = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}
)

// keyUseActions are the cryptographic uses of the key a boundary denies.
// kms:DescribeKey is left out: it reveals nothing secret.
var keyUseActions = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// guardedActions are the S3 actions the VPC endpoint and principal tag
// conditions apply to: those that read, write or list state, and those that
// change the bucket policy, so that a principal of the account failing the
// conditions cannot remove them either (the exempt principals still can).
var guardedActions = []string{
	"s3:DeleteBucketPolicy", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion",
	"s3:ListBucket", "s3:ListBucketVersions", "s3:PutBucketPolicy", "s3:PutObject",
}

// CallerPrincipal turns the ARN sts:GetCallerIdentity returns into the IAM
// principal that policies name: a role session becomes its role (without
// path, which the session ARN does not carry; RoleARNPatterns matches any),
// and an STS user ARN (as emulators answer) becomes the IAM user.
func CallerPrincipal(callerARN string) string {
	a, err := arn.Parse(callerARN)
	if err != nil {
		return ""
	}
	if a.Service == "sts" {
		switch kind, rest, _ := strings.Cut(a.Resource, "/"); kind {
		case "assumed-role":
			role, _, _ := strings.Cut(rest, "/")
			return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + role}.String()
		case "user":
			return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "user/" + rest}.String()
		}
	}
	return callerARN
}

// SamePrincipal tells whether principal p (as CallerPrincipal returns it, or
// as configured) is the principal named by ARN a: the same ARN, or a role
// without path and a role of the same name under any path (a role's name is
// unique in its account).
func SamePrincipal(p, a string) bool {
	if p == a {
		return true
	}
	pa, err1 := arn.Parse(p)
	aa, err2 := arn.Parse(a)
	if err1 != nil || err2 != nil || pa.Partition != aa.Partition || pa.AccountID != aa.AccountID || pa.Service != "iam" || aa.Service != "iam" {
		return false
	}
	name, ok1 := strings.CutPrefix(pa.Resource, "role/")
	other, ok2 := strings.CutPrefix(aa.Resource, "role/")
	return ok1 && ok2 && !strings.Contains(name, "/") && strings.HasSuffix(other, "/"+name)
}

// principalPatterns are the aws:PrincipalArn patterns that match principal p.
// A role ARN without a path also matches the role under any path: a role's
// name is unique in its account whatever its path, so the patterns name one
// role, whichever path it was created with.
func principalPatterns(p string) []string {
	a, err := arn.Parse(p)
	if err != nil || a.Service != "iam" {
		return []string{p}
	}
	name, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok || strings.Contains(name, "/") {
		return []string{p}
	}
	anyPath := a
	anyPath.Resource = "role/*/" + name
	return []string{p, anyPath.String()}
}

// patterns joins principalPatterns of every principal, sorted and unique.
func patterns(principals ...[]string) []string {
	var out []string
	for _, ps := range principals {
		for _, p := range ps {
			if p != "" {
				out = append(out, principalPatterns(p)...)
			}
		}
	}
	return sortedUnique(out)
}

// exempt are the principals no boundary applies to: the account root, the
// break-glass principals and the one running the provider; with replication
// also the replication role, which only S3 may assume, for the state bucket
// only, and which its own policy confines to the two buckets and keys (the
// boundary's conditions would refuse it: it has no principal tag and its
// requests come through no VPC endpoint).
func (b Backend) exempt() []string {
	var glass, role []string
	if b.Boundary != nil {
		glass = b.Boundary.BreakGlass
	}
	if b.Replica != nil {
		role = []string{b.Replica.RoleARN}
	}
	return patterns([]string{b.rootARN(), b.Provider}, glass, role)
}

// grantPrincipals lists every principal of the grants, read-write and
// read-only, sorted and unique.
func (b Backend) grantPrincipals(readWrite, readOnly bool) []string {
	var out []string
	for _, g := range b.Grants {
		if readWrite {
			out = append(out, g.ReadWrite...)
		}
		if readOnly {
			out = append(out, g.ReadOnly...)
		}
	}
	return sortedUnique(out)
}

// accountsOf lists the accounts of the principals, sorted and unique.
func accountsOf(principals []string) []string {
	var out []string
	for _, p := range principals {
		if a, err := arn.Parse(p); err == nil {
			out = append(out, a.AccountID)
		}
	}
	return sortedUnique(out)
}

// keyGrantStatements let the granted principals use the key through S3 for
// this bucket only (S3 with a bucket key names the bucket in the encryption
// context) and through DynamoDB for the lock table only (read-only ones
// decrypt there the state digest item).
func keyGrantStatements(b Backend) []policydoc.Statement {
	var out []policydoc.Statement
	bucketContext := policydoc.Conditions{"StringLike": {"kms:EncryptionContext:aws:s3:arn": {b.BucketARN(), b.BucketARN() + "/*"}}}
	readWrite, readOnly := b.grantPrincipals(true, false), b.grantPrincipals(false, true)
	out = appendKeyGrant(out, SidGrantReadWriteS3, readWrite, []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, "s3", b.Region, bucketContext)
	out = appendKeyGrant(out, SidGrantReadOnlyS3, readOnly, []string{"kms:Decrypt"}, "s3", b.Region, bucketContext)
	if b.TableARN != "" {
		// The lock table is encrypted with the key: reading the state digest
		// item decrypts through DynamoDB too. DynamoDB's encryption context
		// names the table and the account that owns it.
		table := policydoc.Conditions{"StringEquals": {
			"kms:EncryptionContext:aws:dynamodb:tableName":    {tableName(b.TableARN)},
			"kms:EncryptionContext:aws:dynamodb:subscriberId": {b.AccountID},
		}}
		out = appendKeyGrant(out, SidGrantReadWriteDynamoDB, readWrite, []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, "dynamodb", b.Region, table)
		out = appendKeyGrant(out, SidGrantReadOnlyDynamoDB, readOnly, []string{"kms:Decrypt"}, "dynamodb", b.Region, table)
	}
	return out
}

// appendKeyGrant appends a key policy statement letting the principals (of
// any account) take the actions through service in region, from their own
// accounts, for the encryption context; nothing without principals.
func appendKeyGrant(out []policydoc.Statement, sid string, principals, actions []string, service, region string, context policydoc.Conditions) []policydoc.Statement {
	if len(principals) == 0 {
		return out
	}
	cond := policydoc.Conditions{"StringEquals": {
		"kms:CallerAccount": accountsOf(principals),
		"kms:ViaService":    {fmt.Sprintf("%s.%s.amazonaws.com", service, region)},
	}}
	for op, keys := range context {
		if cond[op] == nil {
			cond[op] = map[string]policydoc.StringSet{}
		}
		maps.Copy(cond[op], keys)
	}
	return append(out, policydoc.Statement{
		Sid: sid, Effect: "Allow", Principal: policydoc.Principal{"AWS": principals},
		Action: actions, Resource: policydoc.StringSet{"*"}, Condition: cond,
	})
}

// tableName is the name part of a table ARN.
func tableName(tableARN string) string {
	_, name, _ := strings.Cut(tableARN, ":table/")
	return name
}

// boundaryDenies are the boundary's explicit denies over resources, for every
// principal but the exempt ones and AWS services acting for the backend: the
// organisation conditions on every action of everything, the principal tag
// (and, with vpce, the VPC endpoint) conditions on the data actions.
func boundaryDenies(b Backend, everything, data, resources []string, vpce bool) []policydoc.Statement {
	bd := b.Boundary
	if bd == nil {
		return nil
	}
	exempt := b.exempt()
	deny := func(sid string, actions []string, cond policydoc.Conditions) policydoc.Statement {
		cond["ArnNotLike"] = map[string]policydoc.StringSet{"aws:PrincipalArn": exempt}
		cond["BoolIfExists"] = map[string]policydoc.StringSet{"aws:PrincipalIsAWSService": {"false"}}
		return policydoc.Statement{
			Sid: sid, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
			Action: actions, Resource: resources, Condition: cond,
		}
	}
	var out []policydoc.Statement
	if bd.OrganizationID != "" {
		out = append(out, deny(SidDenyOutsideOrg, everything,
			policydoc.Conditions{"StringNotEquals": {"aws:PrincipalOrgID": {bd.OrganizationID}}}))
	}
	if len(bd.OrgPaths) > 0 {
		paths := make([]string, len(bd.OrgPaths))
		for i, p := range bd.OrgPaths {
			paths[i] = p + "*"
		}
		slices.Sort(paths)
		out = append(out, deny(SidDenyOutsideOrgPaths, everything,
			policydoc.Conditions{"ForAllValues:StringNotLike": {"aws:PrincipalOrgPaths": paths}}))
	}
	if vpce && len(bd.VPCEndpointIDs) > 0 {
		out = append(out, deny(SidDenyOutsideVPCE, data,
			policydoc.Conditions{"StringNotEquals": {"aws:SourceVpce": slices.Sorted(slices.Values(bd.VPCEndpointIDs))}}))
	}
	for i, k := range slices.Sorted(maps.Keys(bd.PrincipalTags)) {
		out = append(out, deny(fmt.Sprintf("%s%d", SidDenyPrincipalTag, i+1), data,
			policydoc.Conditions{"StringNotEquals": {"aws:PrincipalTag/" + k: {bd.PrincipalTags[k]}}}))
	}
	return out
}

// keyAdministration keeps the actions that can destroy every state for the
// key administrators and the provider's principal: everyone else, the account
// root included, is denied them; with RequireMFA administrators need MFA too
// (the provider's principal, which repairs and destroys unattended, does not,
// unless it is one of the administrators).
// The denies match aws:PrincipalArn, so a deleted administrator role recreated
// under the same ARN regains them, and the account root keeps every other
// action (kms:EnableKey, kms:CancelKeyDeletion among them): the key cannot
// become unmanageable.
func keyAdministration(b Backend) []policydoc.Statement {
	ka := b.KeyAdmins
	if ka == nil {
		return nil
	}
	admins := patterns(ka.Principals, []string{b.Provider})
	out := []policydoc.Statement{{
		Sid: SidDenyKeyAdminOthers, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
		Action: KeyAdministrationActions(), Resource: policydoc.StringSet{"*"},
		Condition: policydoc.Conditions{"ArnNotLike": {"aws:PrincipalArn": admins}},
	}}
	if ka.RequireMFA {
		cond := policydoc.Conditions{
			"ArnLike":      {"aws:PrincipalArn": patterns(ka.Principals)},
			"BoolIfExists": {"aws:MultiFactorAuthPresent": {"false"}},
		}
		// The provider's principal, which repairs and destroys unattended,
		// needs no MFA, unless it is itself a listed administrator.
		if b.Provider != "" && !slices.ContainsFunc(ka.Principals, func(a string) bool { return SamePrincipal(b.Provider, a) }) {
			cond["ArnNotLike"] = map[string]policydoc.StringSet{"aws:PrincipalArn": patterns([]string{b.Provider})}
		}
		out = append(out, policydoc.Statement{
			Sid: SidDenyKeyAdminNoMFA, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
			Action: KeyAdministrationActions(), Resource: policydoc.StringSet{"*"}, Condition: cond,
		})
	}
	return out
}

// sidPart turns an environment name into statement ID characters (letters and
// digits only, as IAM requires): "dev-eu_1" becomes "DevEu1".
func sidPart(env string) string {
	var sb strings.Builder
	upper := true
	for _, r := range env {
		if r == '-' || r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// envSids gives each environment of the grants a distinct statement ID part,
// in the grants' order; names that collide ("dev-1", "dev1") get an index.
func envSids(grants []Grant) []string {
	out := make([]string, len(grants))
	seen := map[string]bool{}
	for i, g := range grants {
		s := sidPart(g.Environment)
		for n := 2; seen[s]; n++ {
			s = fmt.Sprintf("%s%d", sidPart(g.Environment), n)
		}
		seen[s] = true
		out[i] = s
	}
	return out
}

// bucketGrantStatements grant each environment's principals its prefix in
// bucket: read-write principals what AccessPolicy allows on S3, read-only
// ones ReadOnlyAccessPolicy's. With readOnly (the replica, a failover copy)
// every principal, read-write ones included, gets the read-only grant.
func bucketGrantStatements(b Backend, bucket string, readOnly bool) []policydoc.Statement {
	var out []policydoc.Statement
	for i, sid := range envSids(b.Grants) {
		g := b.Grants[i]
		prefix := g.Environment + "/"
		list := policydoc.Conditions{"StringLike": {"s3:prefix": {prefix + "*"}}}
		readers := g.ReadOnly
		if readOnly {
			readers = append(slices.Clone(g.ReadWrite), g.ReadOnly...)
		} else if rw := sortedUnique(g.ReadWrite); len(rw) > 0 {
			who := policydoc.Principal{"AWS": rw}
			out = append(out,
				policydoc.Statement{Sid: sid + "ReadWriteList", Effect: "Allow", Principal: who,
					Action: policydoc.StringSet{"s3:ListBucket"}, Resource: policydoc.StringSet{bucket}, Condition: list},
				policydoc.Statement{Sid: sid + "ReadWriteObjects", Effect: "Allow", Principal: who,
					Action: stateReadWriteActions, Resource: policydoc.StringSet{bucket + "/" + prefix + "*"}})
			if b.Lockfile {
				out = append(out, policydoc.Statement{Sid: sid + "LockFiles", Effect: "Allow", Principal: who,
					Action: policydoc.StringSet{"s3:DeleteObject"}, Resource: policydoc.StringSet{bucket + "/" + prefix + "*.tflock"}})
			}
		}
		if ro := sortedUnique(readers); len(ro) > 0 {
			who := policydoc.Principal{"AWS": ro}
			out = append(out,
				policydoc.Statement{Sid: sid + "ReadOnlyList", Effect: "Allow", Principal: who,
					Action: listReadOnlyActions, Resource: policydoc.StringSet{bucket}, Condition: list},
				policydoc.Statement{Sid: sid + "ReadOnlyObjects", Effect: "Allow", Principal: who,
					Action: stateReadOnlyActions, Resource: policydoc.StringSet{bucket + "/" + prefix + "*"}})
		}
	}
	return out
}

func sortedUnique(vs []string) []string {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

// LockTablePolicy is the lock table's resource-based policy: it lets each
// environment's read-write principals take and release that environment's
// lock items, and its read-only ones read the state digest item, which is
// what a caller in another account needs beside its identity policy. A
// backend without grants gets a document without statements: the table must
// have no resource policy.
func LockTablePolicy(b Backend) policydoc.Document {
	doc := policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{}}
	if b.TableARN == "" {
		return doc
	}
	for i, sid := range envSids(b.Grants) {
		g := b.Grants[i]
		keys := policydoc.Conditions{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {b.Bucket + "/" + g.Environment + "/*"}}}
		rw, ro := sortedUnique(g.ReadWrite), sortedUnique(g.ReadOnly)
		if len(rw) > 0 {
			doc.Statement = append(doc.Statement, policydoc.Statement{
				Sid: sid + SidTableGrantReadWrite, Effect: "Allow", Principal: policydoc.Principal{"AWS": rw},
				Action:   lockItemActions,
				Resource: policydoc.StringSet{b.TableARN}, Condition: keys,
			})
		}
		if len(ro) > 0 {
			doc.Statement = append(doc.Statement, policydoc.Statement{
				Sid: sid + SidTableGrantReadOnly, Effect: "Allow", Principal: policydoc.Principal{"AWS": ro},
				Action:   policydoc.StringSet{"dynamodb:GetItem"},
				Resource: policydoc.StringSet{b.TableARN}, Condition: keys,
			})
		}
		if all := sortedUnique(append(slices.Clone(rw), ro...)); len(all) > 0 {
			doc.Statement = append(doc.Statement, policydoc.Statement{
				Sid: sid + SidTableGrantDescribe, Effect: "Allow", Principal: policydoc.Principal{"AWS": all},
				Action: policydoc.StringSet{"dynamodb:DescribeTable"}, Resource: policydoc.StringSet{b.TableARN},
			})
		}
	}
	return doc
}

// ReadOnlyAccessPolicy is the identity policy of one environment's read-only
// principals: list and read its states and their versions (a plan with
// -lock=false), read the state digest from the lock table, decrypt with the
// key; nothing else.
func ReadOnlyAccessPolicy(b Backend, environment string) policydoc.Document {
	bucket := b.BucketARN()
	prefix := environment + "/"
	doc := policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
		{
			Sid: SidListPrefix, Effect: "Allow",
			Action:    listReadOnlyActions,
			Resource:  policydoc.StringSet{bucket},
			Condition: policydoc.Conditions{"StringLike": {"s3:prefix": {prefix + "*"}}},
		},
		{
			Sid: "ReadStateObjects", Effect: "Allow",
			Action:   stateReadOnlyActions,
			Resource: policydoc.StringSet{bucket + "/" + prefix + "*"},
		},
	}}
	if b.TableARN != "" {
		doc.Statement = append(doc.Statement,
			policydoc.Statement{
				Sid: SidLockTableLookup, Effect: "Allow",
				Action:   policydoc.StringSet{"dynamodb:DescribeTable"},
				Resource: policydoc.StringSet{b.TableARN},
			},
			policydoc.Statement{
				Sid: "ReadStateDigest", Effect: "Allow",
				Action:    policydoc.StringSet{"dynamodb:GetItem"},
				Resource:  policydoc.StringSet{b.TableARN},
				Condition: policydoc.Conditions{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {b.Bucket + "/" + prefix + "*"}}},
			})
	}
	doc.Statement = append(doc.Statement, policydoc.Statement{
		Sid: "DecryptState", Effect: "Allow",
		Action:   policydoc.StringSet{"kms:Decrypt"},
		Resource: policydoc.StringSet{b.KeyARN},
	})
	doc.Statement = append(doc.Statement, tofuStatement(b, environment, true)...)
	doc.Statement = append(doc.Statement, replicaReadStatements(b, environment)...)
	return doc
}
