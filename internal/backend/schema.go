package backend

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

// Locking modes.
const (
	LockingLockfile = "lockfile"
	LockingDynamoDB = "dynamodb"
	LockingBoth     = "both"
)

// LockingModes lists the allowed values of `locking`, for the validator and the description alike.
func LockingModes() []string { return []string{LockingBoth, LockingDynamoDB, LockingLockfile} }

// Defaults and bounds of the numeric arguments.
const (
	DefaultDeletionWindowDays = 30
	DefaultRotationPeriodDays = 365
	DefaultNoncurrentDays     = 90
	DefaultEnvironment        = "default"
)

// Compliant is the value of a control that matches the hardened setting.
const Compliant = "compliant"

type accessLoggingModel struct {
	RetentionDays types.Int64  `tfsdk:"retention_days"`
	TargetBucket  types.String `tfsdk:"target_bucket"`
	TargetPrefix  types.String `tfsdk:"target_prefix"`
}

type cloudtrailModel struct {
	Alarms *alarmsModel `tfsdk:"alarms"`
	Name   types.String `tfsdk:"name"`
}

type alarmsModel struct {
	SNSTopicARN types.String `tfsdk:"sns_topic_arn"`
}

// Defaults of the monitoring blocks.
const (
	DefaultLogRetentionDays = 365
	DefaultLogPrefix        = "state-bucket/"
	logNoncurrentDays       = 30
)

type model struct {
	Access                          []accessModel           `tfsdk:"access"`
	AccessLogging                   *accessLoggingModel     `tfsdk:"access_logging"`
	AccessPolicyDocuments           types.Map               `tfsdk:"access_policy_documents"`
	Boundary                        *boundaryModel          `tfsdk:"boundary"`
	KeyAdministrators               *keyAdministratorsModel `tfsdk:"key_administrators"`
	ProviderPrincipal               types.String            `tfsdk:"provider_principal"`
	SharedPrincipals                types.Set               `tfsdk:"shared_principals"`
	AccountID                       types.String            `tfsdk:"account_id"`
	BackendConfig                   types.Map               `tfsdk:"backend_config"`
	BackendHCL                      types.Map               `tfsdk:"backend_hcl"`
	Bucket                          types.String            `tfsdk:"bucket"`
	BucketARN                       types.String            `tfsdk:"bucket_arn"`
	CloudTrail                      *cloudtrailModel        `tfsdk:"cloudtrail"`
	Compliance                      types.Map               `tfsdk:"compliance"`
	Controls                        types.Map               `tfsdk:"controls"`
	Environments                    types.Set               `tfsdk:"environments"`
	ForceDestroy                    types.Bool              `tfsdk:"force_destroy"`
	ID                              types.String            `tfsdk:"id"`
	KMSAliasName                    types.String            `tfsdk:"kms_alias_name"`
	KMSDeletionWindowDays           types.Int64             `tfsdk:"kms_deletion_window_days"`
	KMSKeyARN                       types.String            `tfsdk:"kms_key_arn"`
	KMSKeyID                        types.String            `tfsdk:"kms_key_id"`
	KMSRotationPeriodDays           types.Int64             `tfsdk:"kms_rotation_period_days"`
	LockTableARN                    types.String            `tfsdk:"lock_table_arn"`
	LogBucket                       types.String            `tfsdk:"log_bucket"`
	LockTableName                   types.String            `tfsdk:"lock_table_name"`
	Locking                         types.String            `tfsdk:"locking"`
	Name                            types.String            `tfsdk:"name"`
	NoncurrentVersionExpirationDays types.Int64             `tfsdk:"noncurrent_version_expiration_days"`
	ObjectLock                      *objectLockModel        `tfsdk:"object_lock"`
	PolicyARNs                      types.Map               `tfsdk:"policy_arns"`
	Principals                      types.Set               `tfsdk:"principals"`
	Region                          types.String            `tfsdk:"region"`
	Replication                     *replicationModel       `tfsdk:"replication"`
	ReplicaBackendConfig            types.Map               `tfsdk:"replica_backend_config"`
	ReplicaBackendHCL               types.Map               `tfsdk:"replica_backend_hcl"`
	ReplicaBucket                   types.String            `tfsdk:"replica_bucket"`
	ReplicaKMSKeyARN                types.String            `tfsdk:"replica_kms_key_arn"`
	ReplicationRoleARN              types.String            `tfsdk:"replication_role_arn"`
	Tags                            types.Map               `tfsdk:"tags"`
	TagsAll                         types.Map               `tfsdk:"tags_all"`
	TrailARN                        types.String            `tfsdk:"trail_arn"`
	TofuEncryption                  types.Bool              `tfsdk:"tofu_encryption"`
	TofuEncryptionHCL               types.Map               `tfsdk:"tofu_encryption_hcl"`
	TofuEncryptionKeyARNs           types.Map               `tfsdk:"tofu_encryption_key_arns"`
	Timeouts                        timeouts.Value          `tfsdk:"timeouts"`
}

// backendConfigType is one environment's arguments for Terraform's S3 backend.
var backendConfigType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"bucket":               types.StringType,
	"dynamodb_table":       types.StringType,
	"encrypt":              types.BoolType,
	"key":                  types.StringType,
	"kms_key_id":           types.StringType,
	"region":               types.StringType,
	"use_lockfile":         types.BoolType,
	"workspace_key_prefix": types.StringType,
}}

func schemaFor(ctx context.Context) schema.Schema {
	computedString := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	sch := schema.Schema{
		MarkdownDescription: "A hardened Terraform remote-state backend on S3, created and kept as one unit: a customer managed KMS key " +
			"(rotation, scoped key policy, alias), the state bucket (SSE-KMS with bucket key, versioning, all public access blocked, " +
			"ACLs disabled, TLS-only policy, retention lifecycle), a DynamoDB lock table (on-demand, encrypted with the key, " +
			"point-in-time recovery, deletion protection) and one least-privilege IAM policy per environment.\n\n" +
			"`access` blocks grant one environment each to principals of any account (the central-account pattern), `boundary` denies " +
			"every caller outside an organisation, VPC endpoints or principal tags, and `key_administrators` keeps the key's deletion and " +
			"policy to named principals; the bucket, key and lock table policies are all derived from them.\n\n" +
			"No argument turns a control off. Out-of-band changes to any control show in the plan under `controls` and are repaired on apply.",
		Attributes: map[string]schema.Attribute{
			"account_id": computedString("AWS account the backend lives in."),
			"backend_config": schema.MapAttribute{
				Computed:    true,
				ElementType: backendConfigType,
				MarkdownDescription: "Per environment, the arguments of Terraform's `backend \"s3\"` block: `bucket`, `key` (`<environment>/terraform.tfstate`), " +
					"`region`, `encrypt` (always true), `kms_key_id` (the backend key's ARN, always set so state is never encrypted with another key), " +
					"`dynamodb_table` (null with `locking = \"lockfile\"`), `use_lockfile` (true, or null with `locking = \"dynamodb\"` so that Terraform versions before 1.10, which do not know it, accept the configuration) and `workspace_key_prefix` (`<environment>/workspaces`, " +
					"so workspace states stay under the environment's prefix).",
			},
			"backend_hcl": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Per environment, a ready `terraform { backend \"s3\" { ... } }` block with the values of `backend_config`.",
			},
			"bucket": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Name of the state bucket. Default: `<name>-tfstate-<account_id>`, which is unique and predictable. " +
					"Must follow the S3 naming rules; dots are refused because they break TLS certificate checks. Changing it replaces the backend.",
				Validators:    []validator.String{validate.String("an S3 bucket name", naming.Bucket)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"bucket_arn": computedString("ARN of the state bucket."),
			"compliance": schema.MapAttribute{
				Computed:    true,
				ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "Control → the compliance IDs its enforced setting satisfies: AWS Foundational Security Best Practices " +
					"(`FSBP S3.5`), CIS AWS Foundations Benchmark (`CIS 2.1.1`) and Checkov (`CKV_AWS_18`) IDs, for every control in `controls`; " +
					"an empty list where no framework names the control. The table is in the compliance guide.",
			},
			"controls": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Every hardened control and its state as last read from AWS: `" + Compliant + "`, or what drifted " +
					"(for example `drifted: versioning is Suspended`). A drifted control makes the plan show the change back to `" + Compliant +
					"`, and apply repairs it.",
			},
			"environments": schema.SetAttribute{
				Optional:    true,
				Computed:    true,
				ElementType: types.StringType,
				Default:     setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{types.StringValue(DefaultEnvironment)})),
				MarkdownDescription: "Environments whose states the backend holds. Default: `[\"" + DefaultEnvironment + "\"]`. Each gets the state key prefix " +
					"`<environment>/` and its own IAM policy that reaches only that prefix, so one environment's credentials cannot read or " +
					"overwrite another's state (`access` blocks grant principals of any account one environment). At most 50. Names are 1-32 lowercase letters, digits, `_` or `-`, starting with a letter or digit, " +
					"and may not contain `tfstate` (it separates backend and environment in policy names, so two backends' policies never mix).",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.SizeAtMost(50),
					setvalidator.ValueStringsAre(validate.String("an environment name", naming.Environment)),
				},
			},
			"force_destroy": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroy may delete state. Default: `false`: destroy is refused while the bucket holds any object " +
					"version, so no state or history is lost by accident. With `true`, destroy empties every version and delete marker first.",
			},
			"id":             computedString("The bucket name."),
			"kms_alias_name": computedString("Alias of the backend key: `alias/<name>-tfstate`."),
			"kms_deletion_window_days": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(DefaultDeletionWindowDays),
				MarkdownDescription: fmt.Sprintf("Days a destroyed backend's key waits before AWS deletes it, 7-30. Default: %d, the longest, "+
					"because state encrypted with a deleted key is unreadable; the deletion can be cancelled within the window.", DefaultDeletionWindowDays),
				Validators: []validator.Int64{int64validator.Between(7, 30)},
			},
			"kms_key_arn": computedString("ARN of the backend's customer managed KMS key."),
			"kms_key_id":  computedString("ID of the backend's KMS key."),
			"kms_rotation_period_days": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(DefaultRotationPeriodDays),
				MarkdownDescription: fmt.Sprintf("Days between automatic rotations of the key material, 90-2560. Default: %d. Rotation is always on; "+
					"it limits how much state one key version protects.", DefaultRotationPeriodDays),
				Validators: []validator.Int64{int64validator.Between(90, 2560)},
			},
			"lock_table_arn": computedString("ARN of the DynamoDB lock table; null with `locking = \"lockfile\"`."),
			"log_bucket": schema.StringAttribute{Computed: true, MarkdownDescription: "Bucket receiving the state bucket's access logs (and the trail): " +
				"the managed `<bucket>-logs`, or `access_logging.target_bucket`; null without `access_logging`."},
			"trail_arn":       schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the CloudTrail trail; null without `cloudtrail`."},
			"lock_table_name": computedString("Name of the DynamoDB lock table (`<name>-tflock`); null with `locking = \"lockfile\"`."),
			"locking": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(LockingBoth),
				MarkdownDescription: "How Terraform and OpenTofu lock state: `\"lockfile\"` (S3 lock files, `use_lockfile`: Terraform 1.10 or later, " +
					"OpenTofu 1.10 or later; no table), `\"dynamodb\"` (a lock table: any Terraform or OpenTofu version; deprecated by both from 1.10) " +
					"or `\"both\"` (both locks: Terraform 1.10 or later, OpenTofu 1.10 or later; the way from the table to lock files). " +
					"Default: `\"both\"`; with an older CLI, use `\"dynamodb\"`. A change between `\"dynamodb\"` and `\"lockfile\"` goes through " +
					"`\"both\"` (refused in one step: runs on the old and the new configuration would not exclude each other); the table is removed " +
					"only while it holds no lock. One of: " + quoteJoin(LockingModes()) + ".",
				Validators: []validator.String{stringvalidator.OneOf(LockingModes()...)},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Backend name, 3-32 lowercase letters, digits and hyphens, starting and ending with a letter or digit. " +
					"All component names derive from it, so every component of a backend is found by name, and none can be mistaken for another " +
					"backend's. Changing it replaces the backend.",
				Validators:    []validator.String{validate.String("a backend name", naming.Backend)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(nameChanged, "Changing the name replaces the backend.", "Changing the name replaces the backend.")},
			},
			"noncurrent_version_expiration_days": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(DefaultNoncurrentDays),
				MarkdownDescription: fmt.Sprintf("Days previous state versions are kept before they expire, 7-3650. Default: %d. "+
					"Old versions are how a corrupted or deleted state is recovered; fewer than 7 days is refused.", DefaultNoncurrentDays),
				Validators: []validator.Int64{int64validator.Between(7, 3650)},
			},
			"tofu_encryption": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Gives each environment its own customer managed KMS key (alias `<name>-tfstate-<environment>-tofu`, rotation, " +
					"the backend's tags and deletion window) for OpenTofu's client-side state and plan encryption, and `tofu_encryption_hcl`, the " +
					"`encryption` block that uses it. Only that environment's principals may use its key (its policy in `policy_arns`, its " +
					"`access` block's principals; read-only principals only decrypt), and only directly, not through an AWS service. OpenTofu 1.7 " +
					"or later; Terraform cannot read such states. Default: `false`. Switching it off (or removing an environment) schedules the " +
					"keys' deletion after `kms_deletion_window_days`: decrypt the states first (the guide \"OpenTofu state encryption\").",
			},
			"tofu_encryption_hcl": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Per environment, with `tofu_encryption`: a `terraform { encryption { ... } }` block for OpenTofu, to save beside " +
					"the backend block: the `aws_kms` key provider on the environment's key (by alias ARN), `aes_gcm`, state and plan both `enforced`. " +
					"Null without `tofu_encryption`.",
			},
			"tofu_encryption_key_arns": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Per environment, with `tofu_encryption`: the ARN of its OpenTofu encryption key. Null without `tofu_encryption`.",
			},
			"policy_arns": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Per environment, the ARN of the IAM policy (`/securestate/<name>-tfstate-<environment>`) to attach to whoever runs Terraform for it.",
			},
			"principals": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "ARNs of IAM roles or users that may use the backend key, only through S3 and DynamoDB in this region " +
					"(`kms:ViaService`), in addition to whom the account's IAM policies allow. Default: none. Wildcards and account roots are refused: " +
					"name each principal. Each must be in the backend's own account (the key policy admits callers of that account only); " +
					"give other accounts a role there to assume.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(validate.String("an IAM role or user ARN", func(v string) error {
						return validate.IAMPrincipalARN(v, "role", "user")
					})),
				},
			},
			"region": computedString("Region of every component (the provider's region)."),
			"tags": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Tags for every component, merged over the provider's `default_tags`. Default: none. Every component also carries `" + naming.OwnerTagKey + " = <name>`, which the provider uses to recognise what it created (a failed apply is resumed only on components carrying it, never on someone else's); that key is reserved.",
				Validators: []validator.Map{
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128), validate.String("a tag key", validate.TagKey), validate.String("a tag key", reservedTagKey)),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
				},
			},
			"tags_all": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "`tags` merged over the provider's `default_tags`, as applied to every component. On refresh it holds the tags " +
					"AWS reports, so a tag changed out of band on any component shows in the plan and apply puts it back.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true,
				CreateDescription: timeoutDescription("create (every component, with the waits for the table and for IAM and key policy propagation)", defaultCreateTimeout),
				ReadDescription:   timeoutDescription("refresh (reading every control)", defaultReadTimeout),
				UpdateDescription: timeoutDescription("update and drift repair", defaultUpdateTimeout),
				DeleteDescription: timeoutDescription("destroy (with force_destroy, emptying every object version first)", defaultDeleteTimeout),
			}),
			"access_logging": schema.SingleNestedBlock{
				MarkdownDescription: "Turns on S3 server access logging for the state bucket: a backend nobody watches is not secure. " +
					"Without `target_bucket` the backend creates and manages a hardened log bucket `<bucket>-logs` (SSE-S3, which log " +
					"delivery supports; versioning; all public access blocked; ACLs disabled; TLS-only; only this account's S3 log delivery " +
					"for the state bucket may write; logs expire after `retention_days`). Destroy and removal refuse while it holds logs " +
					"unless `force_destroy` is set.",
				Attributes: map[string]schema.Attribute{
					"retention_days": schema.Int64Attribute{
						Optional: true, Computed: true, Default: int64default.StaticInt64(DefaultLogRetentionDays),
						MarkdownDescription: fmt.Sprintf("Days the managed log bucket keeps logs, 1-3650. Default: %d. Ignored with `target_bucket`.", DefaultLogRetentionDays),
						Validators:          []validator.Int64{int64validator.Between(1, 3650)},
					},
					"target_bucket": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "An existing bucket to receive the logs instead of the managed one. Default: none. It must exist, " +
							"must not be the state bucket, and must let S3 log delivery write (this provider does not change it). " +
							"Cannot be combined with `cloudtrail`, which delivers to the managed log bucket.",
						Validators: []validator.String{validate.String("an S3 bucket name", naming.Bucket)},
					},
					"target_prefix": schema.StringAttribute{
						Optional: true, Computed: true, Default: stringdefault.StaticString(DefaultLogPrefix),
						MarkdownDescription: "Key prefix of the access logs. Default: `\"" + DefaultLogPrefix + "\"`.",
						Validators:          []validator.String{stringvalidator.LengthBetween(1, 256)},
					},
				},
			},
			"cloudtrail": schema.SingleNestedBlock{
				MarkdownDescription: "Creates a CloudTrail trail recording data events (read and write) on the state bucket's objects and " +
					"on the lock table, with log file validation, delivered to the managed log bucket under `cloudtrail/` and encrypted " +
					"with the backend key (the key policy lets CloudTrail use it only for this trail). Needs `access_logging` without `target_bucket`.",
				Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{
						Computed: true, MarkdownDescription: "Trail name: `<name>-tfstate-audit`.",
						PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
					},
				},
				Blocks: map[string]schema.Block{
					"alarms": schema.SingleNestedBlock{
						MarkdownDescription: "Alerts on the trail's events: the trail also delivers to the CloudWatch Logs group " +
							"`/securestate/<name>/cloudtrail` through the role `/securestate/<name>-tfstate-trail-logs`, which only CloudTrail " +
							"for this trail may assume. The group is encrypted with the backend key (the key policy lets CloudWatch Logs use " +
							"the key for that group only) and keeps events at least `access_logging.retention_days`. Metric filters count " +
							"deleted `*.tfstate` objects (and batch deletes, whose CloudTrail events may not name the objects) and access denied on " +
							"the state bucket; one CloudWatch alarm each notifies `sns_topic_arn`.",
						Attributes: map[string]schema.Attribute{
							"sns_topic_arn": schema.StringAttribute{
								Optional:            true,
								MarkdownDescription: "ARN of the SNS topic the alarms notify. Required in the block.",
								Validators:          []validator.String{validate.String("an SNS topic ARN", validate.SNSTopicARN)},
							},
						},
					},
				},
			},
		},
	}
	maps.Copy(sch.Attributes, accessAttributes())
	maps.Copy(sch.Blocks, accessBlocks())
	maps.Copy(sch.Attributes, replicationAttributes())
	sch.Blocks["replication"] = replicationBlock()
	sch.Blocks["object_lock"] = objectLockBlock()
	return sch
}

func reservedTagKey(v string) error {
	if strings.HasPrefix(v, naming.OwnerTagPrefix) {
		return fmt.Errorf("tag key %q is reserved for the provider's ownership tag; choose another key", v)
	}
	return nil
}

func quoteJoin(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "`\"" + v + "\"`"
	}
	return strings.Join(q, ", ")
}

// nameChanged replaces the backend when a tracked name changes; an imported
// backend without a name takes the configured one in place.
func nameChanged(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull() && !req.StateValue.Equal(req.PlanValue)
}

// timeoutDescription documents one operation's timeout and its default; a
// wait never outlasts it.
func timeoutDescription(op string, def time.Duration) string {
	return fmt.Sprintf("How long %s may take, as a duration such as \"45m\". Default: %s. Waits end with an error at this limit, "+
		"and the next apply resumes where this one stopped.", op, strings.TrimSuffix(def.String(), "0s"))
}
