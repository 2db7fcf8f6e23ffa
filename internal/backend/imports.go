package backend

import (
	"context"
	"fmt"
	"maps"
	"regexp"
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
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

var (
	accountID   = regexp.MustCompile(`^[0-9]{12}$`)
	keyResource = regexp.MustCompile(`^key/[A-Za-z0-9-]+$`)
	tableName   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
)

func validateImportName(id string) error {
	if err := naming.Backend(id); err != nil {
		return fmt.Errorf("import ID %w; give the backend name, or bucket=<bucket>,table=<table>,key=<key ARN> for a backend not made by this provider", err)
	}
	return nil
}

func stateBucketName(name, accountID string) string { return naming.StateBucket(name, accountID) }

// parseImportID reads "bucket=<b>,table=<t>,key=<arn>" (table optional for
// lock-file backends, name optional).
func parseImportID(id string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(id, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("%q is not key=value; use bucket=<bucket>,table=<table>,key=<key ARN>", part)
		}
		switch k {
		case "bucket", "table", "key", "name":
		default:
			return nil, fmt.Errorf("unknown import field %q; use bucket=<bucket>,table=<table>,key=<key ARN> (and optionally name=<name>)", k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("import field %q is given twice", k)
		}
		out[k] = v
	}
	if err := naming.Bucket(out["bucket"]); err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	if a, err := arn.Parse(out["key"]); err != nil || a.Service != "kms" || a.Partition == "" || a.Region == "" ||
		!accountID.MatchString(a.AccountID) || !keyResource.MatchString(a.Resource) {
		return nil, fmt.Errorf("key must be the ARN of the KMS key, such as arn:aws:kms:us-east-1:123456789012:key/<id>")
	}
	if t, ok := out["table"]; ok && !tableName.MatchString(t) {
		return nil, fmt.Errorf("table %q is not a DynamoDB table name (3-255 letters, digits, _ . -)", t)
	}
	if n := out["name"]; n != "" {
		if err := naming.Backend(n); err != nil {
			return nil, fmt.Errorf("name: %w", err)
		}
	}
	return out, nil
}

// completeImport infers the arguments an import cannot carry from what exists:
// environments from the access policies, locking from the table and policies,
// principals from the key policy, retention from the lifecycle rule.
func completeImport(ctx context.Context, c *awsclient.Client, m *model) diag.Diagnostics {
	var diags diag.Diagnostics
	name := m.Name.ValueString()
	if name == "" {
		if n, ok := naming.NameFromBucket(m.Bucket.ValueString(), c.AccountID); ok {
			name = n
			m.Name = types.StringValue(n)
		}
	}

	// Key: by ARN from the import ID, else behind the backend's alias.
	keyRef := m.KMSKeyARN.ValueString()
	if keyRef == "" && name != "" {
		keyRef = naming.KeyAlias(name)
	}
	var key *kmskey.Observed
	if keyRef != "" {
		k, err := kmskey.Find(ctx, c.KMS, keyRef, "")
		switch {
		case awserr.IsNotFound(err):
		case err != nil:
			diags.AddError("Cannot import backend", err.Error())
			return diags
		default:
			key = k
			m.KMSKeyARN = types.StringValue(k.ARN)
			m.KMSKeyID = types.StringValue(k.KeyID)
		}
	}
	if key == nil {
		diags.AddError("Cannot import backend", fmt.Sprintf("No KMS key found at %q. Give the key with key=<key ARN> in the import ID.", keyRef))
		return diags
	}

	envs, err := accesspolicy.ListEnvironments(ctx, c.IAM, name)
	if err != nil || name == "" {
		envs = nil
	}
	if len(envs) == 0 {
		envs = []string{DefaultEnvironment}
	}
	m.Environments = stringSet(envs)
	m.TofuEncryption = types.BoolValue(false)
	if name != "" {
		// The environments' OpenTofu encryption keys, if the backend has
		// them: tofu_encryption, with the keys tracked from here on.
		arns := map[string]string{}
		for _, env := range envs {
			spec := kmskey.Spec{Backend: name, Alias: naming.TofuEncryptionKeyAlias(name, env), Purpose: naming.TofuEncryptionKeyPurpose(env)}
			k, err := kmskey.Find(ctx, c.KMS, spec.Alias, spec.Alias)
			switch {
			case awserr.IsNotFound(err):
			case err != nil:
				diags.AddError("Cannot import backend", fmt.Sprintf("Reading the OpenTofu encryption key of environment %s (%s): %s", env, spec.Alias, err))
				return diags
			case kmskey.Check(spec, k) == nil:
				arns[env] = k.ARN
			}
		}
		if len(arns) > 0 {
			m.TofuEncryption = types.BoolValue(true)
			m.TofuEncryptionKeyARNs = stringMap(arns)
		}
	}

	table := m.LockTableName.ValueString()
	if table == "" && name != "" {
		table = naming.LockTable(name)
	}
	hasTable := false
	if table != "" {
		_, err := locktable.Find(ctx, c.DynamoDB, table, "")
		switch {
		case err == nil:
			hasTable = true
		case !awserr.IsNotFound(err):
			diags.AddError("Cannot import backend", err.Error())
			return diags
		}
	}
	lockfile := !hasTable
	if hasTable && name != "" {
		// Our own policies tell whether lock files were in use.
		lockfile = true
		if p, err := accesspolicy.Find(ctx, c.IAM, accesspolicy.ARN(c.Partition, c.AccountID, naming.AccessPolicy(name, envs[0]))); err == nil {
			if doc, err := policydoc.Parse(p.Document); err == nil {
				lockfile = hasSid(doc, policies.SidLockFiles)
			}
		}
	}
	switch {
	case !hasTable:
		m.Locking = types.StringValue(LockingLockfile)
		m.LockTableName = types.StringNull()
	case lockfile:
		m.Locking = types.StringValue(LockingBoth)
		m.LockTableName = types.StringValue(table)
	default:
		m.Locking = types.StringValue(LockingDynamoDB)
		m.LockTableName = types.StringValue(table)
	}

	m.Principals = types.SetNull(types.StringType)
	if doc, err := policydoc.Parse(key.Policy); err == nil {
		for _, st := range doc.Statement {
			if st.Sid == policies.SidStateUsers && len(st.Principal["AWS"]) > 0 {
				p := append([]string(nil), st.Principal["AWS"]...)
				sort.Strings(p)
				m.Principals = stringSet(p)
			}
		}
	}
	m.KMSRotationPeriodDays = types.Int64Value(DefaultRotationPeriodDays)
	if key.RotationPeriodDays != 0 {
		m.KMSRotationPeriodDays = types.Int64Value(int64(key.RotationPeriodDays))
	}
	m.KMSDeletionWindowDays = types.Int64Value(DefaultDeletionWindowDays)
	m.ForceDestroy = types.BoolValue(false)
	m.NoncurrentVersionExpirationDays = types.Int64Value(DefaultNoncurrentDays)
	m.Tags = types.MapNull(types.StringType)
	b, err := statebucket.Find(ctx, c.S3, m.Bucket.ValueString())
	switch {
	case awserr.IsNotFound(err):
		return diags
	case err != nil:
		diags.AddError("Cannot import backend", err.Error())
		return diags
	}
	if b.NoncurrentDays != 0 {
		m.NoncurrentVersionExpirationDays = types.Int64Value(int64(b.NoncurrentDays))
	}
	// A lookup that fails is an error, never a block silently left out.
	if err := importMonitoring(ctx, c, m, name, b); err != nil {
		diags.AddError("Cannot import backend", "Reading its monitoring: "+err.Error())
		return diags
	}
	own := withoutOwnerTag(b.Tags)
	maps.DeleteFunc(own, func(k, v string) bool { return c.DefaultTags[k] == v })
	if len(own) > 0 {
		m.Tags = stringMap(own)
	}
	return diags
}

func hasSid(d policydoc.Document, sid string) bool {
	for _, st := range d.Statement {
		if st.Sid == sid {
			return true
		}
	}
	return false
}

func stringSet(vs []string) types.Set {
	elems := make([]attr.Value, len(vs))
	for i, v := range vs {
		elems[i] = types.StringValue(v)
	}
	return types.SetValueMust(types.StringType, elems)
}

// importMonitoring infers access_logging, cloudtrail and alarms from the state
// bucket's logging target, the backend's trail and its alarms. What does not
// exist is left out; a lookup that fails otherwise is returned.
func importMonitoring(ctx context.Context, c *awsclient.Client, m *model, name string, b *statebucket.Observed) error {
	m.AccessLogging, m.CloudTrail = nil, nil
	target := b.Logging.TargetBucket
	if target == "" {
		return nil
	}
	logging := &accessLoggingModel{TargetPrefix: types.StringValue(b.Logging.TargetPrefix), TargetBucket: types.StringValue(target),
		RetentionDays: types.Int64Value(DefaultLogRetentionDays)}
	if target == naming.LogBucket(b.Bucket) {
		logging.TargetBucket = types.StringNull()
		lb, err := statebucket.Find(ctx, c.S3, target)
		switch {
		case awserr.IsNotFound(err):
		case err != nil:
			return err
		case lb.ExpireDays > 0:
			logging.RetentionDays = types.Int64Value(int64(lb.ExpireDays))
		}
	}
	m.AccessLogging = logging
	if name == "" {
		return nil
	}
	trail, err := audittrail.Find(ctx, c.CloudTrail, naming.Trail(name), "")
	switch {
	case awserr.IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	m.CloudTrail = &cloudtrailModel{Name: types.StringValue(naming.Trail(name))}
	if trail.LogGroup == "" {
		return nil
	}
	o, err := alarms.Find(ctx, alarmClients(c), alarms.Spec{Backend: name})
	if err != nil {
		return err
	}
	for _, a := range o.Alarms {
		if len(a.AlarmActions) == 1 {
			m.CloudTrail.Alarms = &alarmsModel{SNSTopicARN: types.StringValue(a.AlarmActions[0])}
			return nil
		}
	}
	return nil
}
