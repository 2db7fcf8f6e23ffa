package backend

import (
	"context"
	"fmt"
	"maps"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

// replicationModel is the replication block.
type replicationModel struct {
	Metrics     types.Bool   `tfsdk:"metrics"`
	Region      types.String `tfsdk:"region"`
	TimeControl types.Bool   `tfsdk:"time_control"`
}

// replicaSettings is replication with every derived name resolved.
type replicaSettings struct {
	Region      string
	Bucket      string
	KeyARN      string // the replica key tracked in state; "" before it exists
	Metrics     bool
	TimeControl bool
}

// Component IDs of replication.
const (
	idReplicaKey    = "replica_kms_key"
	idReplicaBucket = "replica_bucket"
	idReplRole      = "replication_role"
	idReplRule      = "replication_rule"
)

// Controls of the replica key: the state key's, in their own namespace.
const replicaKeyControlPrefix = "replica_"

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// validRegion checks the shape of an AWS region name.
func validRegion(v string) error {
	if !regionPattern.MatchString(v) {
		return fmt.Errorf("%q is not an AWS region name such as \"eu-west-1\"", v)
	}
	return nil
}

func replicationBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Replicates every state object, version and delete marker into a replica bucket `<bucket>-replica` in another " +
			"region, for disaster recovery: the replica bucket has every control of the state bucket (versioning, SSE-KMS with an S3 " +
			"bucket key, all public access blocked, ACLs disabled, TLS-only and key-enforcing policy, the retention lifecycle, " +
			"`object_lock` if set) and its own customer managed key in that region (`alias/<name>-tfstate-replica`, rotation, a key " +
			"policy scoped to the replica bucket). S3 replicates through the role `/securestate/<name>-tfstate-replication`, which only " +
			"S3 may assume for this bucket and which may only read the state bucket's versions, decrypt them with the backend key and " +
			"write them, re-encrypted with the replica key, into the replica bucket. `replica_backend_hcl` is each environment's " +
			"read-only failover configuration (the guide \"Recovering from a regional outage\"). Only objects written after the rule " +
			"exists are replicated. Removing the block removes the rule and the role; the replica bucket and its key are kept while " +
			"the bucket holds any version (delete them by hand, or keep them as an archive), and removed when it is empty.",
		Attributes: map[string]schema.Attribute{
			"metrics": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Publishes S3 replication metrics (pending operations and bytes, latency, failed operations) to " +
					"CloudWatch. Default: `true`: with `cloudtrail { alarms {} }` an alarm on failed replication notifies the topic, and " +
					"it needs them. They are billed as CloudWatch custom metrics.",
			},
			"region": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Region of the replica bucket and its key. Required in the block; must differ from the provider's " +
					"region (a copy in the same region does not survive a regional outage). Changing it makes a new replica there; the old " +
					"one is kept while it holds any version.",
				Validators: []validator.String{validate.String("an AWS region", validRegion)},
			},
			"time_control": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, with its metrics. " +
					"Default: `false` (billed per GB replicated; state files are small, so most objects replicate within seconds anyway).",
			},
		},
	}
}

func replicationAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"replica_backend_config": schema.MapAttribute{
			Computed:    true,
			ElementType: backendConfigType,
			MarkdownDescription: "Per environment, with `replication`: the arguments of a read-only `backend \"s3\"` block on the replica " +
				"bucket, for a regional outage: `bucket` (the replica), `key`, `region` (the replica region), `encrypt`, `kms_key_id` (the " +
				"replica key's alias ARN) and `workspace_key_prefix`; no lock (`dynamodb_table` and `use_lockfile` null: the lock table and " +
				"lock files live in the primary region, and the replica is read-only). Null without `replication`.",
		},
		"replica_backend_hcl": schema.MapAttribute{
			Computed:    true,
			ElementType: types.StringType,
			MarkdownDescription: "Per environment, with `replication`: `replica_backend_config` as a ready `terraform { backend \"s3\" { ... } }` " +
				"block. Null without `replication`.",
		},
		"replica_bucket": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "Name of the replica bucket, `<bucket>-replica`; null without `replication`.",
		},
		"replica_kms_key_arn": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "ARN of the replica bucket's key in the replication region; null without `replication`.",
		},
		"replication_role_arn": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "ARN of the role S3 replicates with, `/securestate/<name>-tfstate-replication`; null without `replication`.",
		},
	}
}

// validateReplication checks the replication block on its own and against
// the bucket name.
func validateReplication(m model, diags *diag.Diagnostics) {
	r := m.Replication
	if r == nil {
		return
	}
	if r.Region.IsNull() {
		diags.AddAttributeError(path.Root("replication").AtName("region"), "Missing replication region",
			"replication needs the region of the replica, for example region = \"eu-west-1\". It must differ from the provider's region.")
	}
	if !m.Bucket.IsNull() && !m.Bucket.IsUnknown() {
		if n := len(naming.ReplicaBucket(m.Bucket.ValueString())); n > 63 {
			diags.AddAttributeError(path.Root("bucket"), "Bucket name too long for a replica",
				fmt.Sprintf("The replica bucket is named %q, %d characters; S3 allows 63. Choose a bucket name of at most %d characters, or remove replication.",
					naming.ReplicaBucket(m.Bucket.ValueString()), n, 63-len("-replica")))
		}
	}
}

// checkReplicaRegion refuses a replica in the provider's region, where the
// state bucket is, or in another partition (replication stays within one),
// and a change of region on an existing replica: the replica bucket's name
// is global and the old replica is kept while it holds versions, so a new
// one of the same name cannot be made in another region.
func checkReplicaRegion(plan model, prior *model, providerRegion, partition string, diags *diag.Diagnostics) {
	r := plan.Replication
	if r == nil || r.Region.IsUnknown() || r.Region.IsNull() {
		return
	}
	at, region := path.Root("replication").AtName("region"), r.Region.ValueString()
	switch {
	case region == providerRegion:
		diags.AddAttributeError(at, "Replica in the same region",
			fmt.Sprintf("replication.region is %q, the provider's region, where the state bucket is. A replica in the same region does not "+
				"survive a regional outage; choose another region.", providerRegion))
	case partition != "" && awsclient.PartitionForRegion(region) != partition:
		diags.AddAttributeError(at, "Replica in another partition",
			fmt.Sprintf("replication.region %q is in the %s partition and the state bucket in %s: S3 replicates only within a partition.",
				region, awsclient.PartitionForRegion(region), partition))
	case prior != nil && prior.Replication != nil && !prior.Replication.Region.IsNull() && prior.Replication.Region.ValueString() != region:
		diags.AddAttributeError(at, "Replica region cannot change in place",
			fmt.Sprintf("replication.region cannot change from %q to %q: the replica bucket's name is global, and the replica in %q holds "+
				"the copies of the states (it would be kept). Remove the replication block and apply (the rule and role go; the replica "+
				"is kept while it holds versions), delete or rename the old replica bucket when you no longer need it, then add the block "+
				"with the new region. The guide \"Recovering from a regional outage\" says more.", prior.Replication.Region.ValueString(), region,
				prior.Replication.Region.ValueString()))
	}
}

// checkReplicationAlarm refuses alarms on replication failures that could
// never fire: S3 publishes the failure metric only with replication metrics.
func checkReplicationAlarm(m model, diags *diag.Diagnostics) {
	r := m.Replication
	if r == nil || r.Metrics.IsNull() || r.Metrics.IsUnknown() || r.Metrics.ValueBool() || r.TimeControl.ValueBool() {
		return
	}
	if m.CloudTrail != nil && m.CloudTrail.Alarms != nil {
		diags.AddAttributeError(path.Root("replication").AtName("metrics"), "Replication metrics needed by the alarms",
			"With cloudtrail { alarms {} }, the backend raises an alarm when S3 fails to replicate a state; S3 reports those failures only "+
				"with replication metrics. Leave metrics at its default (true), or remove the alarms block.")
	}
}

// replicaFrom reads the replication block (nil without it); ok false when
// a value is unknown.
func replicaFrom(m model, bucket string) (*replicaSettings, bool) {
	r := m.Replication
	if r == nil {
		return nil, true
	}
	if r.Region.IsUnknown() || r.Metrics.IsUnknown() || r.TimeControl.IsUnknown() {
		return nil, false
	}
	rs := &replicaSettings{Region: r.Region.ValueString(), Bucket: naming.ReplicaBucket(bucket),
		Metrics: r.Metrics.IsNull() || r.Metrics.ValueBool(), TimeControl: r.TimeControl.ValueBool()}
	if !m.ReplicaKMSKeyARN.IsUnknown() {
		// Only a key in the configured region is this replica's.
		if a, err := arn.Parse(m.ReplicaKMSKeyARN.ValueString()); err == nil && a.Region == rs.Region {
			rs.KeyARN = m.ReplicaKMSKeyARN.ValueString()
		}
	}
	return rs, true
}

func (s settings) replicaKeyAlias() string { return naming.ReplicaKeyAlias(s.Name) }

func (s settings) replicaKeyAliasARN() string {
	return arn.ARN{Partition: s.Partition, Service: "kms", Region: s.Replica.Region, AccountID: s.AccountID, Resource: s.replicaKeyAlias()}.String()
}

func (s settings) replicationRoleARN() string {
	return arn.ARN{Partition: s.Partition, Service: "iam", AccountID: s.AccountID, Resource: "role" + naming.PolicyPath + naming.ReplicationRole(s.Name)}.String()
}

// policyReplica is what the policies know of the replica.
func (s settings) policyReplica() *policies.Replica {
	if s.Replica == nil {
		return nil
	}
	return &policies.Replica{Bucket: s.Replica.Bucket, Region: s.Replica.Region, KeyARN: s.Replica.KeyARN, RoleARN: s.replicationRoleARN()}
}

func (s settings) replicaKeySpec() kmskey.Spec {
	t := s.awsTags()
	t[naming.KeyPurposeTagKey] = naming.ReplicaKeyPurpose
	return kmskey.Spec{Backend: s.Name, Alias: s.replicaKeyAlias(), Purpose: naming.ReplicaKeyPurpose,
		Description: "Encrypts the replica of the Terraform state bucket of backend " + s.Name + " (managed by securestate)",
		Policy:      policies.ReplicaKeyPolicy(s.policyBackend()), RotationPeriodDays: s.RotationPeriod, Tags: t}
}

func (s settings) replicaBucketSpec() statebucket.Spec {
	return statebucket.Spec{Backend: s.Name, Bucket: s.Replica.Bucket, Region: s.Replica.Region, KeyARN: s.Replica.KeyARN,
		Role: statebucket.RoleReplica, Policy: policies.ReplicaBucketPolicy(s.policyBackend()), NoncurrentDays: s.NoncurrentDays,
		ObjectLock: s.ObjectLock, Tags: s.awsTags()}
}

func (s settings) replicationSpec() replication.Spec {
	b := s.policyBackend()
	return replication.Spec{Backend: s.Name, Partition: s.Partition, AccountID: s.AccountID, Bucket: s.Bucket, Region: s.Region,
		ReplicaBucket: s.Replica.Bucket, ReplicaRegion: s.Replica.Region, ReplicaKeyARN: s.Replica.KeyARN,
		RoleName: naming.ReplicationRole(s.Name), Metrics: s.Replica.Metrics, TimeControl: s.Replica.TimeControl,
		TrustPolicy: policies.ReplicationTrustPolicy(b), RolePolicy: policies.ReplicationRolePolicy(b), Tags: s.awsTags()}
}

// regionClient is the client for a replica region, made once per run and
// region (an update moving the replica uses the old region's to remove it).
func (r *run) regionClient(region string) *awsclient.Client {
	r.regionMu.Lock()
	defer r.regionMu.Unlock()
	if r.regions == nil {
		r.regions = map[string]*awsclient.Client{}
	}
	c, ok := r.regions[region]
	if !ok {
		c = r.c.InRegion(region)
		r.regions[region] = c
	}
	return c
}

// withReplicaKey is withKey with the replica key's ARN as observed.
func (r *run) withReplicaKey() settings {
	s := r.withKey()
	if s.Replica == nil {
		return s
	}
	rep := *s.Replica
	switch {
	case r.replicaKeyARN != "":
		rep.KeyARN = r.replicaKeyARN
	case r.replicaKey != nil && r.replicaKey.ARN != "":
		rep.KeyARN = r.replicaKey.ARN
	}
	s.Replica = &rep
	return s
}

// replicationComponents are the replica key, the replica bucket, the
// replication role and the rule on the state bucket.
func (s settings) replicationComponents() []component {
	return []component{s.replicaKeyComponent(), s.replicaBucketComponent(), s.replicationRoleComponent(), s.replicationRuleComponent()}
}

// replicaKeyControl names a control of the replica key.
func replicaKeyControl(c string) string { return replicaKeyControlPrefix + c }

func (s settings) replicaKeyComponent() component {
	alias := s.replicaKeyAlias()
	ctrls := []string{kmskey.ControlState, kmskey.ControlRotation, kmskey.ControlPolicy, kmskey.ControlAlias}
	names := make([]string, len(ctrls))
	for i, c := range ctrls {
		names[i] = replicaKeyControl(c)
	}
	return component{
		id: idReplicaKey, ident: s.Replica.Region + "/" + alias,
		controls: names,
		missing:  "the replica KMS key is missing",
		// As the state key's.
		cost: cost{find: 1, create: 3, repair: 2, keep: 1, remove: 3},
		// Found by the ARN in state, else behind the alias (a key found only
		// there is adopted if it carries this backend's ownership and the
		// replica purpose tags).
		find: func(ctx context.Context, r *run) error {
			o, err := findTrackedKey(ctx, r.regionClient(s.Replica.Region).KMS, s.Replica.KeyARN, alias)
			return keep(&r.replicaKey, o, err)
		},
		found:   func(r *run) bool { return r.replicaKey != nil },
		tracked: func(r *run) bool { return r.replicaKey != nil && r.replicaKey.ARN == s.Replica.KeyARN },
		check:   func(r *run) error { return kmskey.Check(s.replicaKeySpec(), r.replicaKey) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			// Its policy names no key ARN: the settings as they are (the
			// state key is ensured beside it).
			o, err := kmskey.Ensure(ctx, r.regionClient(s.Replica.Region).KMS, s.replicaKeySpec(), r.replicaKey, tracked)
			r.replicaKey = o
			if o != nil {
				r.replicaKeyARN = o.ARN
			}
			return err
		},
		drift: func(r *run) map[string]string {
			out := map[string]string{}
			o := r.replicaKey
			var d map[string]string
			switch {
			case o.ARN != s.Replica.KeyARN && kmskey.Check(s.replicaKeySpec(), o) != nil:
				d = map[string]string{kmskey.ControlAlias: kmskey.Check(s.replicaKeySpec(), o).Error()}
			case o.State != "Enabled":
				d = map[string]string{kmskey.ControlState: fmt.Sprintf("key is %s", o.State)}
			default:
				d = kmskey.Drift(s.replicaKeySpec(), o)
			}
			for _, c := range ctrls {
				out[replicaKeyControl(c)] = d[c]
			}
			return out
		},
		tags: func(r *run) []map[string]string {
			t := maps.Clone(r.replicaKey.Tags)
			delete(t, naming.KeyPurposeTagKey)
			return []map[string]string{t}
		},
		// The key is scheduled for deletion only once the replica bucket is
		// gone: the replicated states are encrypted with it.
		remove: func(ctx context.Context, r *run) error {
			c := r.regionClient(s.Replica.Region)
			if !r.destroying {
				// A destroy removed the bucket just before (and S3 may
				// still show it for a moment); an update keeps it while
				// it holds versions.
				exists, err := statebucket.Exists(ctx, c.S3, s.Replica.Bucket)
				if err != nil {
					return err
				}
				if exists {
					tflog.Warn(ctx, "replica key kept: the replica bucket it encrypts is kept", map[string]any{"bucket": s.Replica.Bucket})
					return nil
				}
			}
			return removeTrackedKey(ctx, c.KMS, s.Replica.KeyARN, s.replicaKeySpec(), s.DeletionWindow)
		},
	}
}

func (s settings) replicaBucketComponent() component {
	return component{
		// The key too: its policy is written from the settings with the
		// key ARNs known.
		id: idReplicaBucket, ident: s.Replica.Region + "/" + s.Replica.Bucket, needs: []string{idKey, idReplicaKey},
		controls: statebucket.ControlNames(s.replicaBucketSpec()),
		missing:  "the replica bucket is missing",
		cost:     cost{find: 1, create: 5, repair: 2, keep: 1, remove: 4},
		find: func(ctx context.Context, r *run) error {
			o, err := statebucket.Find(ctx, r.regionClient(s.Replica.Region).S3, s.Replica.Bucket)
			return keep(&r.replicaBucket, o, err)
		},
		found: func(r *run) bool { return r.replicaBucket != nil },
		check: func(r *run) error { return statebucket.Check(s.replicaBucketSpec(), r.replicaBucket) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			api := r.regionClient(s.Replica.Region).S3
			o, err := statebucket.Ensure(ctx, api, r.withReplicaKey().replicaBucketSpec(), r.replicaBucket, tracked)
			if err == nil {
				o, err = r.clearRetention(ctx, api, s.Replica.Bucket, o)
			}
			r.replicaBucket = o
			return err
		},
		drift: func(r *run) map[string]string {
			return statebucket.Drift(r.withReplicaKey().replicaBucketSpec(), r.replicaBucket)
		},
		tags: func(r *run) []map[string]string { return []map[string]string{r.replicaBucket.Tags} },
		// Destroy empties it when forced (the guard refused otherwise); an
		// update that drops replication keeps it while it holds anything.
		remove: func(ctx context.Context, r *run) error {
			api := r.regionClient(s.Replica.Region).S3
			if r.destroying {
				if !r.replicaExists {
					return nil
				}
				return emptyAndDeleteWith(ctx, api, s.Replica.Bucket, r.replicaVersions)
			}
			exists, err := statebucket.Exists(ctx, api, s.Replica.Bucket)
			if err != nil || !exists {
				return err
			}
			n, err := statebucket.CountVersions(ctx, api, s.Replica.Bucket)
			if err != nil {
				return err
			}
			if n > 0 {
				tflog.Warn(ctx, "replica bucket kept: it holds object versions", map[string]any{"bucket": s.Replica.Bucket, "versions": n})
				r.noteKept(fmt.Sprintf("The replica bucket %s (region %s) holds %d object versions and was kept, with its key; "+
					"delete it by hand when its copies are no longer needed, or keep it as an archive.", s.Replica.Bucket, s.Replica.Region, n))
				return nil
			}
			return statebucket.Delete(ctx, api, s.Replica.Bucket)
		},
	}
}

func (s settings) replicationRoleComponent() component {
	name := naming.ReplicationRole(s.Name)
	return component{
		id: idReplRole, ident: name, needs: []string{idKey, idReplicaKey},
		controls: []string{replication.ControlRole},
		missing:  "the replication role is missing",
		// Find: the role, then its inline policy. Create: CreateRole (with
		// the tags), PutRolePolicy, the verification (two).
		cost: cost{find: 2, create: 4, repair: 3, keep: 2, remove: 2},
		find: func(ctx context.Context, r *run) error {
			o, err := replication.FindRole(ctx, r.c.IAM, name)
			return keep(&r.replRole, o, err)
		},
		found: func(r *run) bool { return r.replRole != nil },
		check: func(r *run) error { return replication.CheckRole(s.replicationSpec(), r.replRole) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := replication.EnsureRole(ctx, r.c.IAM, r.withReplicaKey().replicationSpec(), r.replRole, tracked)
			r.replRole = o
			return err
		},
		drift: func(r *run) map[string]string {
			return map[string]string{replication.ControlRole: replication.RoleDrift(r.withReplicaKey().replicationSpec(), r.replRole)}
		},
		tags:   func(r *run) []map[string]string { return []map[string]string{r.replRole.Tags} },
		remove: func(ctx context.Context, r *run) error { return replication.DeleteRole(ctx, r.c.IAM, name) },
	}
}

func (s settings) replicationRuleComponent() component {
	return component{
		id: idReplRule, ident: s.Bucket + "->" + s.Replica.Region + "/" + s.Replica.Bucket,
		// Versioning on in both buckets, the role able to read and write.
		needs:    []string{idStateBucket, idReplicaBucket, idReplRole},
		controls: []string{replication.ControlRule},
		missing:  "the replication rule is missing",
		cost:     cost{find: 1, create: 2, repair: 2, keep: 1, remove: 1},
		find: func(ctx context.Context, r *run) error {
			o, err := replication.FindRule(ctx, r.c.S3, s.Bucket)
			return keep(&r.replRule, o, err)
		},
		found: func(r *run) bool { return r.replRule != nil },
		// A replication configuration the backend did not write (another
		// rule) is someone else's: refused, never overwritten.
		check: func(r *run) error {
			for _, rule := range r.replRule.Rules {
				if aws.ToString(rule.ID) != naming.ReplicationRuleID {
					return fmt.Errorf("the state bucket %s already replicates with rule %q, which this backend did not write; remove that "+
						"replication configuration first, or leave replication out", s.Bucket, aws.ToString(rule.ID))
				}
			}
			return nil
		},
		ensure: func(ctx context.Context, r *run, _ bool) error {
			o, err := replication.EnsureRule(ctx, r.c.S3, r.withReplicaKey().replicationSpec())
			r.replRule = o
			return err
		},
		drift: func(r *run) map[string]string {
			return map[string]string{replication.ControlRule: replication.RuleDrift(r.withReplicaKey().replicationSpec(), r.replRule)}
		},
		// Removed on destroy too, first: no state written meanwhile is
		// replicated into the replica being emptied. Only a rule into this
		// replica is deleted (not one another configuration wrote since).
		remove: func(ctx context.Context, r *run) error {
			o, err := replication.FindRule(ctx, r.c.S3, s.Bucket)
			if awserr.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			want := arn.ARN{Partition: s.Partition, Service: "s3", Resource: s.Replica.Bucket}.String()
			for _, rule := range o.Rules {
				if rule.Destination != nil && aws.ToString(rule.Destination.Bucket) != want {
					tflog.Warn(ctx, "replication configuration kept: it replicates elsewhere", map[string]any{"bucket": s.Bucket})
					return nil
				}
			}
			return replication.DeleteRule(ctx, r.c.S3, s.Bucket)
		},
	}
}

// replicaKeyARN is the replica key's ARN to record in state: the tracked
// key, or a key found behind the alias that is this backend's.
func (r *run) ownReplicaKey() string {
	o := r.replicaKey
	switch {
	case r.s.Replica == nil || o == nil || o.ARN == "":
		return ""
	case o.ARN == r.s.Replica.KeyARN, kmskey.Check(r.s.replicaKeySpec(), o) == nil:
		return o.ARN
	}
	return ""
}

// setReplicaDerived writes the replication outputs: null without
// replication; the configurations are known at plan (they name the replica
// key by its alias ARN), the key ARN once it exists.
func setReplicaDerived(m *model, s settings, planning bool) {
	if s.Replica == nil {
		m.ReplicaBackendConfig = types.MapNull(backendConfigType)
		m.ReplicaBackendHCL = types.MapNull(types.StringType)
		m.ReplicaBucket, m.ReplicaKMSKeyARN, m.ReplicationRoleARN = types.StringNull(), types.StringNull(), types.StringNull()
		return
	}
	m.ReplicaBucket = types.StringValue(s.Replica.Bucket)
	m.ReplicationRoleARN = types.StringValue(s.replicationRoleARN())
	m.ReplicaKMSKeyARN = types.StringValue(s.Replica.KeyARN)
	if s.Replica.KeyARN == "" {
		m.ReplicaKMSKeyARN = types.StringNull()
		if planning {
			m.ReplicaKMSKeyARN = types.StringUnknown()
		}
	}
	configs := map[string]attr.Value{}
	hcl := map[string]attr.Value{}
	header := "# Read-only failover copy in " + s.Replica.Region + ": no lock (the lock table and lock files are in " + s.Region + ").\n"
	for _, env := range s.Environments {
		b := s.replicaBackendBlock(env)
		configs[env], hcl[env] = b.object(), types.StringValue(b.hcl(header))
	}
	m.ReplicaBackendConfig = types.MapValueMust(backendConfigType, configs)
	m.ReplicaBackendHCL = types.MapValueMust(types.StringType, hcl)
}

// replicaBackendBlock is an environment's read-only block on the replica:
// the replica key named by its alias ARN (known at plan), no lock.
func (s settings) replicaBackendBlock(env string) backendBlock {
	return backendBlock{Bucket: s.Replica.Bucket, Key: stateKey(env), Region: s.Replica.Region, KMSKeyID: s.replicaKeyAliasARN(),
		WorkspacePrefix: workspacePrefix(env)}
}
