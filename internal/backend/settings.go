package backend

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/compliance"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// settings is a backend's configuration with every derived name resolved. It
// is the single place where component specs come from.
type settings struct {
	Name           string
	Bucket         string
	AccountID      string
	Region         string
	Partition      string
	Environments   []string
	Locking        string
	Principals     []string
	DeletionWindow int32
	RotationPeriod int32
	NoncurrentDays int32
	Table          string // "" when locking is "lockfile"
	TagsAll        map[string]string
	KeyARN         string // known once the key exists

	LogBucket    string // "" without access_logging
	LogPrefix    string
	LogManaged   bool // the backend owns the log bucket
	LogRetention int32
	Trail        bool
	AlarmTopic   string // "" without alarms

	// TofuEncryption: each environment has its own key for OpenTofu's
	// client-side state encryption; TofuKeyARNs holds the ARNs known so far.
	TofuEncryption bool
	TofuKeyARNs    map[string]string

	// Replica is nil without replication.
	Replica *replicaSettings
	// ObjectLock is the state (and replica) buckets' default retention;
	// nil without object_lock.
	ObjectLock *statebucket.ObjectLock

	accessSettings
}

func (s settings) alarmsSpec() alarms.Spec {
	spec := alarms.Spec{Backend: s.Name, Partition: s.Partition, Region: s.Region, AccountID: s.AccountID, StateBucket: s.Bucket,
		TrailARN: s.trailARN(), KeyARN: s.KeyARN, TopicARN: s.AlarmTopic, RetentionDays: s.LogRetention, Tags: s.awsTags()}
	if s.Replica != nil {
		spec.Replication = &alarms.ReplicationAlarm{SourceBucket: s.Bucket, DestinationBucket: s.Replica.Bucket, RuleID: naming.ReplicationRuleID}
	}
	return spec
}

func (s settings) trailName() string { return naming.Trail(s.Name) }

func (s settings) trailARN() string {
	if !s.Trail {
		return ""
	}
	return arn.ARN{Partition: s.Partition, Service: "cloudtrail", Region: s.Region, AccountID: s.AccountID, Resource: "trail/" + s.trailName()}.String()
}

func (s settings) logBucketSpec() statebucket.Spec {
	return statebucket.Spec{Backend: s.Name, Bucket: s.LogBucket, Region: s.Region,
		Policy:         policies.LogBucketPolicy(s.policyBackend(), s.LogBucket, s.LogPrefix),
		NoncurrentDays: logNoncurrentDays, ExpireDays: s.LogRetention, Role: statebucket.RoleAccessLogs, Tags: s.awsTags()}
}

func (s settings) trailSpec() audittrail.Spec {
	spec := audittrail.Spec{Backend: s.Name, Name: s.trailName(), ARN: s.trailARN(), LogBucket: s.LogBucket, KeyARN: s.KeyARN,
		StateBucketARN: s.bucketARN(), TableARN: s.tableARN(), Tags: s.awsTags()}
	if s.AlarmTopic != "" {
		a := s.alarmsSpec()
		spec.LogGroupARN, spec.LogRoleARN = a.LogGroupARN(), a.RoleARN()
	}
	return spec
}

func (s settings) lockfile() bool { return s.Locking != LockingDynamoDB }

func (s settings) tableARN() string {
	if s.Table == "" {
		return ""
	}
	return arn.ARN{Partition: s.Partition, Service: "dynamodb", Region: s.Region, AccountID: s.AccountID, Resource: "table/" + s.Table}.String()
}

// lockTableRef is how backend configurations name the lock table: by name,
// or, with access blocks, by ARN, which DynamoDB accepts wherever it takes a
// name and which reaches the central table from another account.
func (s settings) lockTableRef() string {
	if len(s.Grants) > 0 {
		return s.tableARN()
	}
	return s.Table
}

func (s settings) bucketARN() string {
	return arn.ARN{Partition: s.Partition, Service: "s3", Resource: s.Bucket}.String()
}

func (s settings) alias() string { return naming.KeyAlias(s.Name) }

func (s settings) policyARN(env string) string {
	return accesspolicy.ARN(s.Partition, s.AccountID, naming.AccessPolicy(s.Name, env))
}

// awsTags are the tags every component carries: tags_all plus the ownership tag.
func (s settings) awsTags() map[string]string {
	out := maps.Clone(s.TagsAll)
	if out == nil {
		out = map[string]string{}
	}
	out[naming.OwnerTagKey] = s.Name
	return out
}

func (s settings) policyBackend() policies.Backend {
	b := policies.Backend{
		Partition: s.Partition, Region: s.Region, AccountID: s.AccountID, Bucket: s.Bucket,
		KeyARN: s.KeyARN, TableARN: s.tableARN(), Lockfile: s.lockfile(), Principals: s.Principals, TrailARN: s.trailARN(),
		Grants: s.Grants, Boundary: s.Boundary, KeyAdmins: s.KeyAdmins, Provider: s.Provider,
	}
	if s.TofuEncryption {
		b.TofuKeyARNs = s.TofuKeyARNs
	}
	b.Replica = s.policyReplica()
	if s.AlarmTopic != "" {
		b.LogGroupARN = s.alarmsSpec().GroupARN()
	}
	return b
}

func (s settings) keySpec() kmskey.Spec {
	return kmskey.Spec{Backend: s.Name, Alias: s.alias(), Policy: policies.KeyPolicy(s.policyBackend()), RotationPeriodDays: s.RotationPeriod, Tags: s.awsTags()}
}

// tofuKeySpec is an environment's OpenTofu state encryption key: the state
// key's rotation and tags, its own alias, purpose tag and policy.
func (s settings) tofuKeySpec(env string) kmskey.Spec {
	purpose := naming.TofuEncryptionKeyPurpose(env)
	t := s.awsTags()
	t[naming.KeyPurposeTagKey] = purpose
	return kmskey.Spec{Backend: s.Name, Alias: naming.TofuEncryptionKeyAlias(s.Name, env), Purpose: purpose,
		Description: "Encrypts, client-side, the OpenTofu states and plans of environment " + env + " of backend " + s.Name + " (managed by securestate)",
		Policy:      policies.TofuKeyPolicy(s.policyBackend(), env), RotationPeriodDays: s.RotationPeriod, Tags: t}
}

// tofuKeyAliasARN is the ARN of an environment's encryption key alias: what
// OpenTofu's configuration names (known before the key exists, and usable
// from another account, which an alias name is not).
func (s settings) tofuKeyAliasARN(env string) string {
	return arn.ARN{Partition: s.Partition, Service: "kms", Region: s.Region, AccountID: s.AccountID, Resource: naming.TofuEncryptionKeyAlias(s.Name, env)}.String()
}

// tofuKeysKnown: every environment's OpenTofu encryption key ARN is known
// (always, without tofu_encryption).
func (s settings) tofuKeysKnown() bool {
	if !s.TofuEncryption {
		return true
	}
	for _, env := range s.Environments {
		if s.TofuKeyARNs[env] == "" {
			return false
		}
	}
	return true
}

func (s settings) bucketSpec() statebucket.Spec {
	spec := statebucket.Spec{Backend: s.Name, Bucket: s.Bucket, Region: s.Region, KeyARN: s.KeyARN,
		Policy: policies.BucketPolicy(s.policyBackend()), NoncurrentDays: s.NoncurrentDays, Tags: s.awsTags(),
		ObjectLock: s.ObjectLock, EventBridge: true}
	if s.LogBucket != "" {
		spec.Logging = &statebucket.Logging{TargetBucket: s.LogBucket, TargetPrefix: s.LogPrefix}
	}
	return spec
}

func (s settings) tableSpec() locktable.Spec {
	return locktable.Spec{Backend: s.Name, Table: s.Table, ARN: s.tableARN(), KeyARN: s.KeyARN, Tags: s.awsTags(),
		Policy: policies.LockTablePolicy(s.policyBackend())}
}

func (s settings) policySpec(env string) accesspolicy.Spec {
	return accesspolicy.Spec{Backend: s.Name, Environment: env, Name: naming.AccessPolicy(s.Name, env), ARN: s.policyARN(env),
		Document: policies.AccessPolicy(s.policyBackend(), env), Tags: s.awsTags()}
}

// settingsFrom resolves a model (plan or state) with the provider's identity.
// Unknown values make ok false: the caller leaves derived values unknown.
func settingsFrom(ctx context.Context, m model, c *awsclient.Client, diags *diag.Diagnostics) (s settings, ok bool) {
	if m.Name.IsUnknown() || m.Environments.IsUnknown() || m.Locking.IsUnknown() || m.Principals.IsUnknown() || m.Tags.IsUnknown() {
		return s, false
	}
	s = settings{
		Name:           m.Name.ValueString(),
		AccountID:      c.AccountID,
		Region:         c.Region,
		Partition:      c.Partition,
		Locking:        m.Locking.ValueString(),
		DeletionWindow: int32(m.KMSDeletionWindowDays.ValueInt64()),
		RotationPeriod: int32(m.KMSRotationPeriodDays.ValueInt64()),
		NoncurrentDays: int32(m.NoncurrentVersionExpirationDays.ValueInt64()),
		KeyARN:         m.KMSKeyARN.ValueString(),
		TofuEncryption: m.TofuEncryption.ValueBool(),
	}
	if m.TofuEncryption.IsUnknown() {
		return s, false
	}
	if s.TofuEncryption && !m.TofuEncryptionKeyARNs.IsNull() && !m.TofuEncryptionKeyARNs.IsUnknown() {
		diags.Append(m.TofuEncryptionKeyARNs.ElementsAs(ctx, &s.TofuKeyARNs, false)...)
	}
	if v := m.AccountID.ValueString(); v != "" {
		s.AccountID = v
	}
	if v := m.Region.ValueString(); v != "" {
		s.Region = v
	}
	if s.Locking == "" {
		s.Locking = LockingBoth
	}
	diags.Append(m.Environments.ElementsAs(ctx, &s.Environments, false)...)
	diags.Append(m.Principals.ElementsAs(ctx, &s.Principals, false)...)
	sort.Strings(s.Environments)
	sort.Strings(s.Principals)
	s.TagsAll = maps.Clone(c.DefaultTags)
	if s.TagsAll == nil {
		s.TagsAll = map[string]string{}
	}
	var own map[string]string
	diags.Append(m.Tags.ElementsAs(ctx, &own, false)...)
	maps.Copy(s.TagsAll, own)

	switch {
	case m.Bucket.IsUnknown():
		return s, false
	case !m.Bucket.IsNull():
		s.Bucket = m.Bucket.ValueString()
	case s.AccountID == "":
		return s, false
	default:
		s.Bucket = naming.StateBucket(s.Name, s.AccountID)
	}
	if l := m.AccessLogging; l != nil {
		if l.TargetPrefix.IsUnknown() || l.TargetBucket.IsUnknown() || l.RetentionDays.IsUnknown() {
			return s, false
		}
		s.LogPrefix = l.TargetPrefix.ValueString()
		if s.LogPrefix == "" {
			s.LogPrefix = DefaultLogPrefix
		}
		s.LogRetention = int32(l.RetentionDays.ValueInt64())
		if s.LogRetention == 0 {
			s.LogRetention = DefaultLogRetentionDays
		}
		s.LogBucket, s.LogManaged = l.TargetBucket.ValueString(), l.TargetBucket.IsNull()
		if s.LogManaged {
			s.LogBucket = naming.LogBucket(s.Bucket)
		}
	}
	s.Trail = m.CloudTrail != nil
	if s.Trail && m.CloudTrail.Alarms != nil {
		if m.CloudTrail.Alarms.SNSTopicARN.IsUnknown() {
			return s, false
		}
		s.AlarmTopic = m.CloudTrail.Alarms.SNSTopicARN.ValueString()
	}
	var known bool
	if s.Replica, known = replicaFrom(m, s.Bucket); !known {
		return s, false
	}
	if s.ObjectLock, known = objectLockFrom(m); !known {
		return s, false
	}
	access, known := accessFrom(ctx, m, diags)
	if !known {
		return s, false
	}
	s.accessSettings = access
	if s.Locking != LockingLockfile {
		s.Table = naming.LockTable(s.Name)
		if v := m.LockTableName.ValueString(); v != "" && !m.LockTableName.IsUnknown() {
			s.Table = v
		}
	}
	return s, !diags.HasError()
}

// stateKey is where an environment's default-workspace state lives.
func stateKey(env string) string { return env + "/terraform.tfstate" }

// workspacePrefix keeps workspace states under the environment's prefix too.
func workspacePrefix(env string) string { return env + "/workspaces" }

// setDerived writes every value derived from the settings into the model.
// With keyKnown false, values that need the key ARN stay unknown. While
// planning, values that need an OpenTofu encryption key not made yet are
// unknown too; in state (after apply or refresh) they hold what exists.
func setDerived(m *model, s settings, keyKnown, planning bool) {
	m.AccountID = types.StringValue(s.AccountID)
	m.Region = types.StringValue(s.Region)
	m.Bucket = types.StringValue(s.Bucket)
	m.ID = types.StringValue(s.Bucket)
	m.BucketARN = types.StringValue(s.bucketARN())
	m.KMSAliasName = types.StringValue(s.alias())
	if s.Table == "" {
		m.LockTableName = types.StringNull()
		m.LockTableARN = types.StringNull()
	} else {
		m.LockTableName = types.StringValue(s.Table)
		m.LockTableARN = types.StringValue(s.tableARN())
	}
	arns := map[string]attr.Value{}
	for _, env := range s.Environments {
		arns[env] = types.StringValue(s.policyARN(env))
	}
	m.PolicyARNs = types.MapValueMust(types.StringType, arns)
	m.TagsAll = stringMap(s.TagsAll)
	m.Compliance = complianceMap(s.controlNames())
	m.LogBucket, m.TrailARN = types.StringNull(), types.StringNull()
	if s.LogBucket != "" {
		m.LogBucket = types.StringValue(s.LogBucket)
	}
	if s.Trail {
		m.TrailARN = types.StringValue(s.trailARN())
		if m.CloudTrail != nil {
			m.CloudTrail.Name = types.StringValue(s.trailName())
		}
	}

	setTofuDerived(m, s, planning)
	setReplicaDerived(m, s, planning)

	if !keyKnown {
		m.BackendConfig = types.MapUnknown(backendConfigType)
		m.BackendHCL = types.MapUnknown(types.StringType)
		m.AccessPolicyDocuments = types.MapUnknown(accessDocumentsType)
		return
	}
	m.AccessPolicyDocuments = accessDocuments(s)
	if planning && (!s.tofuKeysKnown() || s.Replica != nil && s.Replica.KeyARN == "") {
		// They grant the environments' OpenTofu encryption keys, and the
		// replica key, by ARN.
		m.AccessPolicyDocuments = types.MapUnknown(accessDocumentsType)
	}
	configs := map[string]attr.Value{}
	hcl := map[string]attr.Value{}
	for _, env := range s.Environments {
		b := s.backendBlock(env)
		configs[env], hcl[env] = b.object(), types.StringValue(b.hcl(""))
	}
	m.BackendConfig = types.MapValueMust(backendConfigType, configs)
	m.BackendHCL = types.MapValueMust(types.StringType, hcl)
}

// backendBlock is one environment's arguments of Terraform's S3 backend:
// what backend_config holds and backend_hcl renders (and their replica_
// counterparts). Arguments a locking mode does not use are null (and left
// out of the block), so that a Terraform older than 1.10, which has no
// use_lockfile, accepts the "dynamodb" mode's configuration.
type backendBlock struct {
	Bucket, Key, Region, KMSKeyID, WorkspacePrefix string
	Table                                          string // "": no dynamodb_table
	Lockfile                                       bool   // false: no use_lockfile
}

// backendBlock is an environment's block on the state bucket.
func (s settings) backendBlock(env string) backendBlock {
	b := backendBlock{Bucket: s.Bucket, Key: stateKey(env), Region: s.Region, KMSKeyID: s.KeyARN, WorkspacePrefix: workspacePrefix(env),
		Lockfile: s.lockfile()}
	if s.Locking != LockingLockfile {
		b.Table = s.lockTableRef()
	}
	return b
}

// object is the block as a backendConfigType value.
func (b backendBlock) object() attr.Value {
	table, lockfile := types.StringNull(), types.BoolNull()
	if b.Table != "" {
		table = types.StringValue(b.Table)
	}
	if b.Lockfile {
		lockfile = types.BoolValue(true)
	}
	return types.ObjectValueMust(backendConfigType.AttrTypes, map[string]attr.Value{
		"bucket":               types.StringValue(b.Bucket),
		"dynamodb_table":       table,
		"encrypt":              types.BoolValue(true),
		"key":                  types.StringValue(b.Key),
		"kms_key_id":           types.StringValue(b.KMSKeyID),
		"region":               types.StringValue(b.Region),
		"use_lockfile":         lockfile,
		"workspace_key_prefix": types.StringValue(b.WorkspacePrefix),
	})
}

// hcl renders the block as a terraform { backend "s3" { ... } } block,
// after the comment lines in header ("" for none).
func (b backendBlock) hcl(header string) string {
	var out strings.Builder
	out.WriteString(header)
	line := func(k, v string) { fmt.Fprintf(&out, "    %-20s = %s\n", k, v) }
	out.WriteString("terraform {\n  backend \"s3\" {\n")
	line("bucket", fmt.Sprintf("%q", b.Bucket))
	line("key", fmt.Sprintf("%q", b.Key))
	line("region", fmt.Sprintf("%q", b.Region))
	line("encrypt", "true")
	line("kms_key_id", fmt.Sprintf("%q", b.KMSKeyID))
	if b.Table != "" {
		line("dynamodb_table", fmt.Sprintf("%q", b.Table))
	}
	if b.Lockfile {
		line("use_lockfile", "true")
	}
	line("workspace_key_prefix", fmt.Sprintf("%q", b.WorkspacePrefix))
	out.WriteString("  }\n}\n")
	return out.String()
}

// renderHCL is an environment's backend_hcl.
func renderHCL(s settings, env string) string { return s.backendBlock(env).hcl("") }

func stringMap(m map[string]string) types.Map {
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}

// complianceMap is the value of compliance: each control's compliance IDs.
func complianceMap(controls []string) types.Map {
	vals := make(map[string]attr.Value, len(controls))
	for _, c := range controls {
		ids := make([]attr.Value, 0)
		for _, id := range compliance.IDs(c) {
			ids = append(ids, types.StringValue(id))
		}
		vals[c] = types.ListValueMust(types.StringType, ids)
	}
	return types.MapValueMust(types.ListType{ElemType: types.StringType}, vals)
}

// compliantControls is the planned value of controls: every control compliant.
func compliantControls(s settings) types.Map {
	m := map[string]string{}
	for _, n := range s.controlNames() {
		m[n] = Compliant
	}
	return stringMap(m)
}

// setTofuDerived writes tofu_encryption_hcl and tofu_encryption_key_arns:
// null without tofu_encryption; the configuration is known at plan (it names
// each key by its alias ARN), the key ARNs once every key exists.
func setTofuDerived(m *model, s settings, planning bool) {
	if !s.TofuEncryption {
		m.TofuEncryptionHCL = types.MapNull(types.StringType)
		m.TofuEncryptionKeyARNs = types.MapNull(types.StringType)
		return
	}
	hcl := map[string]string{}
	arns := map[string]string{}
	for _, env := range s.Environments {
		hcl[env] = renderTofuEncryption(s, env)
		if arn := s.TofuKeyARNs[env]; arn != "" {
			arns[env] = arn
		}
	}
	m.TofuEncryptionHCL = stringMap(hcl)
	m.TofuEncryptionKeyARNs = stringMap(arns)
	if planning && !s.tofuKeysKnown() {
		m.TofuEncryptionKeyARNs = types.MapUnknown(types.StringType)
	}
}

// renderTofuEncryption is an environment's OpenTofu encryption block: the
// aws_kms key provider on the environment's key (by alias ARN), AES-GCM, and
// both the state and the plan enforced, so OpenTofu refuses to write either
// unencrypted. It goes beside the backend block (a terraform block may be
// split over several files).
func renderTofuEncryption(s settings, env string) string {
	return fmt.Sprintf(`terraform {
  encryption {
    key_provider "aws_kms" "securestate" {
      kms_key_id = %q
      region     = %q
      key_spec   = "AES_256"
    }
    method "aes_gcm" "securestate" {
      keys = key_provider.aws_kms.securestate
    }
    state {
      method   = method.aes_gcm.securestate
      enforced = true
    }
    plan {
      method   = method.aes_gcm.securestate
      enforced = true
    }
  }
}
`, s.tofuKeyAliasARN(env), s.Region)
}
