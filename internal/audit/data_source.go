package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/compliance"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var _ datasource.DataSourceWithConfigure = (*dataSource)(nil)

// NewDataSource is securestate_backend_audit.
func NewDataSource() datasource.DataSource { return &dataSource{} }

type dataSource struct {
	meta *awsclient.Meta
}

type model struct {
	AccessPolicyARNs  types.Map    `tfsdk:"access_policy_arns"`
	Bucket            types.String `tfsdk:"bucket"`
	Controls          types.Map    `tfsdk:"controls"`
	Failed            types.Int64  `tfsdk:"failed"`
	ID                types.String `tfsdk:"id"`
	KMSKey            types.String `tfsdk:"kms_key"`
	KMSKeyARN         types.String `tfsdk:"kms_key_arn"`
	LockTable         types.String `tfsdk:"lock_table"`
	NotApplicable     types.Int64  `tfsdk:"not_applicable"`
	Passed            types.Int64  `tfsdk:"passed"`
	SatisfiedControls types.List   `tfsdk:"satisfied_controls"`
	Score             types.Int64  `tfsdk:"score"`
	Unknown           types.Int64  `tfsdk:"unknown"`
}

// controlModel is one element of controls.
type controlModel struct {
	Compliance  []string `tfsdk:"compliance"`
	Observed    string   `tfsdk:"observed"`
	Remediation string   `tfsdk:"remediation"`
	Status      string   `tfsdk:"status"`
	Why         string   `tfsdk:"why"`
}

var controlType = map[string]attr.Type{
	"compliance":  types.ListType{ElemType: types.StringType},
	"observed":    types.StringType,
	"remediation": types.StringType,
	"status":      types.StringType,
	"why":         types.StringType,
}

func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backend_audit"
}

func statusList() string {
	var out string
	for i, s := range posture.Statuses() {
		if i > 0 {
			out += ", "
		}
		out += "`" + string(s) + "`"
	}
	return out
}

func (d *dataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Audits a Terraform S3 state backend made by anyone (by hand, by cloudposse's `tfstate-backend` module, " +
			"by terragrunt's bootstrap, or by `securestate_backend`) against the controls `securestate_backend` enforces, and maps " +
			"each control to AWS Foundational Security Best Practices, CIS AWS Foundations Benchmark and Checkov IDs. " +
			"It only reads (Get, Describe and List calls), with the provider's credentials, in any account they can read; " +
			"a setting it may not read is reported `unknown` for its control only.",
		Attributes: map[string]schema.Attribute{
			"access_policy_arns": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Environment → ARN of the IAM policy granting that environment its states. Each is audited for least " +
					"privilege as control `access_policy_<environment>`. Default: none audited.",
				Validators: []validator.Map{mapvalidator.ValueStringsAre(validate.String("an IAM policy ARN", policyARN))},
			},
			"bucket": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The state bucket to audit. It must exist.",
				Validators:          []validator.String{validate.String("an S3 bucket name", naming.ExistingBucket)},
			},
			"controls": schema.MapNestedAttribute{
				Computed: true,
				MarkdownDescription: "Control → its outcome. The controls are named as in `securestate_backend`'s `controls`. " +
					"`status` is one of " + statusList() + " (the setting could not be read: the `observed` text names the AWS error code).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"compliance":  schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The compliance IDs the control satisfies (`FSBP S3.5`, `CIS 2.1.1`, `CKV_AWS_18`, …)."},
					"observed":    schema.StringAttribute{Computed: true, MarkdownDescription: "What was observed, in words. Never a secret: settings, not data."},
					"remediation": schema.StringAttribute{Computed: true, MarkdownDescription: "What to do when it fails."},
					"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "One of " + statusList() + "."},
					"why":         schema.StringAttribute{Computed: true, MarkdownDescription: "Why the control matters for a state backend."},
				}},
			},
			"failed": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of controls that fail."},
			"id":     schema.StringAttribute{Computed: true, MarkdownDescription: "The bucket name."},
			"kms_key": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{validate.String("a KMS key ID, key ARN, alias name or alias ARN", naming.KMSKeyReference)},
				MarkdownDescription: "The backend's KMS key: ID, ARN, alias name (`alias/…`) or alias ARN (a key of another account: " +
					"its ARN or alias ARN). Default: the key of the bucket's default encryption; when given, the bucket must encrypt with it. " +
					"The alias control is audited only when the key is known by an alias.",
			},
			"kms_key_arn": schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the key audited; null when none was found."},
			"lock_table": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{validate.String("a DynamoDB table name or ARN", naming.TableNameOrARN)},
				MarkdownDescription: "The DynamoDB lock table: name or ARN. Default: none; the table's controls are then `not_applicable` " +
					"(a backend locking with S3's lock file needs no table).",
			},
			"not_applicable": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of controls that do not apply."},
			"passed":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of controls that pass."},
			"satisfied_controls": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The controls that pass, sorted.",
			},
			"score": schema.Int64Attribute{
				Computed: true,
				MarkdownDescription: "Passing controls as a share of those that apply (`pass`, `fail` and `unknown`), in percent, " +
					"rounded down; 0 when none applies.",
			},
			"unknown": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of controls whose settings could not be read."},
		},
	}
}

func (d *dataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.meta = providerdata.Meta(req.ProviderData, &resp.Diagnostics)
}

func (d *dataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m model
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	client := providerdata.DataSourceClient(d.meta, &resp.Diagnostics)
	if client == nil {
		return
	}
	t := Target{Bucket: m.Bucket.ValueString(), LockTable: m.LockTable.ValueString(), KMSKey: m.KMSKey.ValueString(), Policies: map[string]string{}}
	if resp.Diagnostics.Append(m.AccessPolicyARNs.ElementsAs(ctx, &t.Policies, false)...); resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "auditing backend", map[string]any{"bucket": t.Bucket, "lock_table": t.LockTable, "kms_key": t.KMSKey})
	rep, err := Run(ctx, Clients{S3: client.S3, KMS: client.KMS, DynamoDB: client.DynamoDB, IAM: client.IAM, Partition: client.Partition}, t)
	if errors.Is(err, ErrBucketNotFound) {
		resp.Diagnostics.AddAttributeError(path.Root("bucket"), "State bucket not found", err.Error()+
			". Check the name and the provider's region and account.")
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Auditing backend", err.Error())
		return
	}
	controls := make(map[string]controlModel, len(rep.Controls))
	for _, name := range slices.Sorted(maps.Keys(rep.Controls)) {
		res := rep.Controls[name]
		refs, _ := compliance.Lookup(name)
		ids := compliance.IDs(name)
		if ids == nil {
			ids = []string{}
		}
		controls[name] = controlModel{Compliance: ids, Observed: res.Observed, Remediation: refs.Remediation, Status: string(res.Status), Why: refs.Why}
	}
	var diags = &resp.Diagnostics
	cm, dd := types.MapValueFrom(ctx, types.ObjectType{AttrTypes: controlType}, controls)
	diags.Append(dd...)
	sat, dd := types.ListValueFrom(ctx, types.StringType, nonNil(rep.Satisfied()))
	diags.Append(dd...)
	if diags.HasError() {
		return
	}
	sum := rep.Summarize()
	m.Controls, m.SatisfiedControls = cm, sat
	m.ID = m.Bucket
	m.Passed, m.Failed = types.Int64Value(int64(sum.Passed)), types.Int64Value(int64(sum.Failed))
	m.NotApplicable, m.Unknown = types.Int64Value(int64(sum.NotApplicable)), types.Int64Value(int64(sum.Unknown))
	m.Score = types.Int64Value(int64(sum.Score))
	m.KMSKeyARN = types.StringNull()
	if rep.KeyARN != "" {
		m.KMSKeyARN = types.StringValue(rep.KeyARN)
	}
	diags.Append(resp.State.Set(ctx, &m)...)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func policyARN(v string) error {
	a, err := arn.Parse(v)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
		return fmt.Errorf("%q is not an IAM policy ARN (arn:aws:iam::<account>:policy/<path><name>)", v)
	}
	return nil
}
