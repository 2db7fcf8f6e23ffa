// Package datasource is securestate_state_versions: the versions of one
// environment's state (or any state key) in a backend's bucket, newest first,
// with what each says about itself and why one cannot be read, so the version
// to restore is found without downloading any by hand. It only reads;
// restoring is the guide "Restoring a previous state". The reading is
// internal/stateversions'; this package turns its report into Terraform
// values.
package datasource

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
	"github.com/securestate/terraform-provider-securestate/internal/stateversions"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var (
	_ datasource.DataSourceWithConfigure        = (*dataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*dataSource)(nil)
)

// New is securestate_state_versions.
func New() datasource.DataSource { return &dataSource{} }

type dataSource struct {
	meta *awsclient.Meta
}

type model struct {
	Bucket      types.String `tfsdk:"bucket"`
	Environment types.String `tfsdk:"environment"`
	ID          types.String `tfsdk:"id"`
	Key         types.String `tfsdk:"key"`
	MaxVersions types.Int64  `tfsdk:"max_versions"`
	Truncated   types.Bool   `tfsdk:"truncated"`
	Versions    types.List   `tfsdk:"versions"`
}

// versionModel is one element of versions.
type versionModel struct {
	CLI              string       `tfsdk:"cli"`
	DeleteMarker     bool         `tfsdk:"delete_marker"`
	Error            string       `tfsdk:"error"`
	IsLatest         bool         `tfsdk:"is_latest"`
	LastModified     string       `tfsdk:"last_modified"`
	Lineage          types.String `tfsdk:"lineage"`
	MD5              types.String `tfsdk:"md5"`
	ResourceCount    types.Int64  `tfsdk:"resource_count"`
	Serial           types.Int64  `tfsdk:"serial"`
	Size             int64        `tfsdk:"size"`
	TerraformVersion types.String `tfsdk:"terraform_version"`
	VersionID        string       `tfsdk:"version_id"`
}

var versionType = map[string]attr.Type{
	"cli": types.StringType, "delete_marker": types.BoolType, "error": types.StringType, "is_latest": types.BoolType,
	"last_modified": types.StringType, "lineage": types.StringType, "md5": types.StringType, "resource_count": types.Int64Type,
	"serial": types.Int64Type, "size": types.Int64Type, "terraform_version": types.StringType, "version_id": types.StringType,
}

func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_state_versions"
}

func (d *dataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The versions of one state in a versioned S3 backend bucket, newest first, delete markers included, with what " +
			"each version says about itself (serial, lineage, the CLI and its version, the number of resource instances) and why a " +
			"version cannot be read, so the version to restore after a state was corrupted or deleted is found without downloading " +
			"any by hand (see the guide \"Restoring a previous state\"). Each version is read as a stream and checked to be JSON; " +
			"only its header and a count are kept: the state's content is never stored, shown or logged. It only reads " +
			"(`s3:ListBucketVersions`, `s3:GetObjectVersion` and, through S3, `kms:Decrypt`).",
		Attributes: map[string]schema.Attribute{
			"bucket": schema.StringAttribute{
				Required: true, MarkdownDescription: "The backend's state bucket (versioning on, as `securestate_backend` makes it).",
				Validators: []validator.String{validate.String("an S3 bucket name", naming.ExistingBucket)},
			},
			"environment": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The environment whose state is listed: its key is `<environment>/" + stateversions.StateFile + "`, as " +
					"`securestate_backend` writes it in `backend_hcl`. Exactly one of `environment` and `key` is required.",
				Validators: []validator.String{validate.String("an environment name", naming.Environment)},
			},
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<bucket>/<key>`."},
			"key": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The state's object key, for a state outside the environments' layout (a workspace's " +
					"`env:/<workspace>/<key>`, another bucket's states). Set from `environment` when that is given. Exactly one of " +
					"`environment` and `key` is required.",
				Validators: []validator.String{validate.String("a state key", stateversions.ValidKey)},
			},
			"max_versions": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How many versions (delete markers included) to list, the newest kept: 1 to %d. Each "+
					"version is read whole, so this bounds the time and S3 reads one refresh costs. Default: %d.",
					stateversions.MaxMaxVersions, stateversions.DefaultMaxVersions),
				Validators: []validator.Int64{int64validator.Between(1, stateversions.MaxMaxVersions)},
			},
			"truncated": schema.BoolAttribute{Computed: true, MarkdownDescription: "True when the state has more versions than `max_versions`: older ones are left out."},
			"versions": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The versions, newest first by `last_modified` (the current one first within the same second). " +
					"A version that cannot be read is listed with `error` set, never left out, and never fails the read.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"cli": schema.StringAttribute{Computed: true, MarkdownDescription: "`" + stateversions.CLITerraform + "` or `" +
						stateversions.CLIOpenTofu + "` when the state tells: OpenTofu encrypts states, writes providers from " +
						"`registry.opentofu.org` and, since 1.8, writes remote states as compact JSON; Terraform indents them. " +
						"`\"\"` when it does not tell: a state of 1.6.x or 1.7.x (both CLIs wrote those indented) without an OpenTofu " +
						"provider, a delete marker, a version that could not be read (an encrypted one is `opentofu`)."},
					"delete_marker": schema.BoolAttribute{Computed: true, MarkdownDescription: "A delete marker: the state was deleted here. It has no content; " +
						"a marker that `is_latest` means the state is gone, and the version below it is what was deleted."},
					"error": schema.StringAttribute{Computed: true, MarkdownDescription: "Why the version is not a readable state, `\"\"` when it is: " +
						"`s3:GetObject failed (AccessDenied)` (access or KMS denied, with the AWS error code), `not JSON: invalid character " +
						"at byte N`, `not JSON: the data ends early … (truncated)`, `empty` (the CLIs read an empty object as no state), " +
						"`encrypted (OpenTofu state encryption)` (its serial and lineage are still given), `not a state: …`. Never quotes the content."},
					"is_latest":     schema.BoolAttribute{Computed: true, MarkdownDescription: "The current version (or delete marker) of the key."},
					"last_modified": schema.StringAttribute{Computed: true, MarkdownDescription: "When the version was written (RFC 3339, UTC; S3 keeps whole seconds)."},
					"lineage":       schema.StringAttribute{Computed: true, MarkdownDescription: "The state's lineage; null when unknown."},
					"md5": schema.StringAttribute{Computed: true, MarkdownDescription: "The hex MD5 of the version's bytes: with DynamoDB locking, the `Digest` " +
						"the lock table's item `<bucket>/<key>-md5` must hold when this version is current (the S3 backend refuses a state whose " +
						"MD5 differs). The version whose `md5` equals the table's digest is the last one a CLI wrote. Null when the version could " +
						"not be read whole."},
					"resource_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "Instances of managed resources in the state (data sources " +
						"and deposed objects left out); null when unknown (unreadable, encrypted, or a state format before 4)."},
					"serial":            schema.Int64Attribute{Computed: true, MarkdownDescription: "The state's serial; null when unknown."},
					"size":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes; 0 for a delete marker."},
					"terraform_version": schema.StringAttribute{Computed: true, MarkdownDescription: "The version of the CLI that wrote the state (OpenTofu records its own version under the same key); null when unknown."},
					"version_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "The S3 version ID, which `--version-id` and `?versionId=` take."},
				}},
			},
		},
	}
}

func (d *dataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("environment"), path.MatchRoot("key")),
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
	q := stateversions.Query{Bucket: m.Bucket.ValueString(), Key: m.Key.ValueString(), MaxVersions: int(m.MaxVersions.ValueInt64())}
	if env := m.Environment.ValueString(); env != "" {
		q.Key = stateversions.StateKey(env)
	}
	client := providerdata.DataSourceClient(d.meta, &resp.Diagnostics)
	if client == nil {
		return
	}
	tflog.Debug(ctx, "listing state versions", map[string]any{"bucket": q.Bucket, "key": q.Key, "max_versions": q.MaxVersions})
	rep, err := stateversions.List(ctx, client.S3, q)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Listing state versions", err.Error())
		return
	}
	values := make([]versionModel, 0, len(rep.Versions))
	for _, v := range rep.Versions {
		h := v.Header
		values = append(values, versionModel{
			CLI: h.CLI, DeleteMarker: v.DeleteMarker, Error: v.Err, IsLatest: v.IsLatest, LastModified: v.LastModified.Format(time.RFC3339),
			Lineage: optString(h.Lineage), MD5: optString(v.MD5), ResourceCount: optInt(h.ResourceCount, h.HasResourceCount),
			Serial: optInt(h.Serial, h.HasSerial), Size: v.Size, TerraformVersion: optString(h.TerraformVersion), VersionID: v.VersionID,
		})
	}
	list, diags := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: versionType}, values)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	m.Versions, m.Truncated = list, types.BoolValue(rep.Truncated)
	m.Key = types.StringValue(q.Key)
	m.ID = types.StringValue(q.Bucket + "/" + q.Key)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func optInt(n int64, known bool) types.Int64 {
	if !known {
		return types.Int64Null()
	}
	return types.Int64Value(n)
}
