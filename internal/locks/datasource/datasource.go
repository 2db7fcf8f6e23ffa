// Package datasource is securestate_locks: the state locks held in a
// backend (its lock files and its DynamoDB lock items), with who holds each,
// for which operation and for how long, so a team can see and alert on a
// lock a killed CI job left behind. It only reads; releasing a lock is
// `terraform force-unlock`. The reading is internal/locks'; this package
// turns its report into Terraform values.
package datasource

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/locks"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var _ datasource.DataSourceWithConfigure = (*dataSource)(nil)

// New is securestate_locks.
func New() datasource.DataSource { return &dataSource{now: time.Now} }

type dataSource struct {
	meta *awsclient.Meta
	now  func() time.Time
}

type model struct {
	Bucket     types.String `tfsdk:"bucket"`
	Errors     types.List   `tfsdk:"errors"`
	ID         types.String `tfsdk:"id"`
	LockTable  types.String `tfsdk:"lock_table"`
	Locks      types.List   `tfsdk:"locks"`
	LocksCount types.Int64  `tfsdk:"locks_count"`
	Prefix     types.String `tfsdk:"prefix"`
	StaleAfter types.String `tfsdk:"stale_after"`
	StaleCount types.Int64  `tfsdk:"stale_count"`
}

// lockModel is one element of locks.
type lockModel struct {
	AgeSeconds types.Int64  `tfsdk:"age_seconds"`
	Created    types.String `tfsdk:"created"`
	Error      string       `tfsdk:"error"`
	ID         string       `tfsdk:"id"`
	Kind       string       `tfsdk:"kind"`
	Operation  string       `tfsdk:"operation"`
	Path       string       `tfsdk:"path"`
	Source     string       `tfsdk:"source"`
	Stale      bool         `tfsdk:"stale"`
	Version    string       `tfsdk:"version"`
	Who        string       `tfsdk:"who"`
}

// errorModel is one element of errors.
type errorModel struct {
	Error  string `tfsdk:"error"`
	Kind   string `tfsdk:"kind"`
	Source string `tfsdk:"source"`
}

var (
	lockType = map[string]attr.Type{
		"age_seconds": types.Int64Type, "created": types.StringType, "error": types.StringType, "id": types.StringType,
		"kind": types.StringType, "operation": types.StringType, "path": types.StringType, "source": types.StringType,
		"stale": types.BoolType, "version": types.StringType, "who": types.StringType,
	}
	errorType = map[string]attr.Type{"error": types.StringType, "kind": types.StringType, "source": types.StringType}
)

func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_locks"
}

func kindList() string {
	var out []string
	for _, k := range locks.Kinds() {
		out = append(out, "`"+k+"`")
	}
	return strings.Join(out, " or ")
}

func (d *dataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The state locks held in an S3 backend right now: its lock files (`<state key>.tflock`, written by " +
			"Terraform and OpenTofu 1.10+ with `use_lockfile`) and the lock items of its DynamoDB table, with who holds each, for which " +
			"operation, with which CLI version and since when, so a team can see and alert on a lock left by a killed CI job. " +
			"It only reads (`s3:ListBucket`, `s3:GetObject`, `dynamodb:Scan`): it never releases or deletes a lock; " +
			"`terraform force-unlock` does, from the configuration that uses the state. A lock file or item it cannot read as a lock " +
			"is still listed, with `error` saying why.",
		Attributes: map[string]schema.Attribute{
			"bucket": schema.StringAttribute{
				Required: true, MarkdownDescription: "The backend's state bucket. Lock files are read from it, and only the lock items of its states are read from `lock_table`.",
				Validators: []validator.String{validate.String("an S3 bucket name", naming.ExistingBucket)},
			},
			"errors": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The locks in `locks` that could not be read (access or KMS denied: `s3:GetObject failed (AccessDenied)`; " +
					"not a lock record), in the same order. Empty when every lock was read.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"error":  schema.StringAttribute{Computed: true, MarkdownDescription: "Why: the AWS error code, or what is wrong with the record (never its content)."},
					"kind":   schema.StringAttribute{Computed: true, MarkdownDescription: kindList() + "."},
					"source": schema.StringAttribute{Computed: true, MarkdownDescription: "The lock file's object key or the item's `LockID`."},
				}},
			},
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<bucket>/<prefix>`."},
			"lock_table": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{validate.String("a DynamoDB table name or ARN", naming.TableNameOrARN)},
				MarkdownDescription: "The backend's DynamoDB lock table: name, or ARN for a table of another account. Its items whose " +
					"`LockID` is `<bucket>/<state key>` are read; digest items (`…-md5`) are not locks and are left out. " +
					"Default: none; only lock files are read.",
			},
			"locks": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "Each lock held, oldest first (those of unknown age last), then by path and kind. A state locked " +
					"with both a lock file and a DynamoDB item (`locking = \"both\"`) has two entries with the same `id`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"age_seconds": schema.Int64Attribute{Computed: true, MarkdownDescription: "Whole seconds since `created` (0 if `created` is in the future: clock skew); null when unknown."},
					"created": schema.StringAttribute{Computed: true, MarkdownDescription: "When the lock was taken (RFC 3339, UTC), from the lock record; " +
						"for a lock file without a readable time, the object's last-modified time (it is written once, when the lock is taken). Null when unknown."},
					"error":     schema.StringAttribute{Computed: true, MarkdownDescription: "Why the lock could not be read (as in `errors`); `\"\"` when it was."},
					"id":        schema.StringAttribute{Computed: true, MarkdownDescription: "The lock ID, which `terraform force-unlock` takes."},
					"kind":      schema.StringAttribute{Computed: true, MarkdownDescription: kindList() + "."},
					"operation": schema.StringAttribute{Computed: true, MarkdownDescription: "What the holder is doing, as the CLI names it: `OperationTypeApply`, `OperationTypePlan` or `OperationTypeRefresh` for a run, the command for others (`state-rm`, …)."},
					"path":      schema.StringAttribute{Computed: true, MarkdownDescription: "The state's key in the bucket (`dev/terraform.tfstate`, `dev/workspaces/blue/terraform.tfstate`)."},
					"source":    schema.StringAttribute{Computed: true, MarkdownDescription: "The lock file's object key or the item's `LockID`."},
					"stale":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Older than `stale_after`; false without `stale_after` or when the age is unknown."},
					"version":   schema.StringAttribute{Computed: true, MarkdownDescription: "The version of the CLI (Terraform or OpenTofu) holding the lock."},
					"who":       schema.StringAttribute{Computed: true, MarkdownDescription: "Who holds it, as the CLI wrote it: `<user>@<host>`."},
				}},
			},
			"locks_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of locks in `locks`."},
			"prefix":      schema.StringAttribute{Optional: true, MarkdownDescription: "Only the locks of states whose key starts with this prefix (`prod/`). Default: every state of the bucket."},
			"stale_after": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{validate.String("a positive duration such as 4h", staleAfter)},
				MarkdownDescription: "A lock older than this is `stale`: a positive duration such as `\"4h\"`, `\"90m\"` or `\"1h30m\"` " +
					"(units `s`, `m`, `h`). Pick it above your longest apply. Default: none; no lock is stale.",
			},
			"stale_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of stale locks."},
		},
	}
}

func staleAfter(v string) error {
	_, err := locks.ParseStaleAfter(v)
	return err
}

func (d *dataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.meta = providerdata.Meta(req.ProviderData, &resp.Diagnostics)
}

func (d *dataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m model
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	q := locks.Query{Bucket: m.Bucket.ValueString(), Prefix: m.Prefix.ValueString(), LockTable: m.LockTable.ValueString(), Now: d.now()}
	if v := m.StaleAfter.ValueString(); v != "" {
		after, err := locks.ParseStaleAfter(v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("stale_after"), "Invalid stale_after", err.Error())
			return
		}
		q.StaleAfter = after
	}
	client := providerdata.DataSourceClient(d.meta, &resp.Diagnostics)
	if client == nil {
		return
	}
	tflog.Debug(ctx, "listing locks", map[string]any{"bucket": q.Bucket, "prefix": q.Prefix, "lock_table": q.LockTable})
	rep, err := locks.List(ctx, locks.Clients{S3: client.S3, DynamoDB: client.DynamoDB}, q)
	var listErr *locks.ListError
	switch {
	case errors.As(err, &listErr):
		if listErr.Bucket != nil {
			resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Listing lock files", listErr.Bucket.Error())
		}
		if listErr.Table != nil {
			resp.Diagnostics.AddAttributeError(path.Root("lock_table"), "Listing lock items", listErr.Table.Error())
		}
		return
	case err != nil:
		resp.Diagnostics.AddError("Listing locks", err.Error())
		return
	}
	lockValues := make([]lockModel, 0, len(rep.Locks))
	errValues := []errorModel{}
	for _, l := range rep.Locks {
		v := lockModel{
			AgeSeconds: types.Int64Null(), Created: types.StringNull(), Error: l.Err, ID: l.ID, Kind: l.Kind, Operation: l.Operation,
			Path: l.Path, Source: l.Source, Stale: l.Stale, Version: l.Version, Who: l.Who,
		}
		if !l.Created.IsZero() {
			v.Created = types.StringValue(l.Created.Format(time.RFC3339))
			v.AgeSeconds = types.Int64Value(int64(l.Age / time.Second))
		}
		lockValues = append(lockValues, v)
		if l.Err != "" {
			errValues = append(errValues, errorModel{Error: l.Err, Kind: l.Kind, Source: l.Source})
		}
	}
	diags := &resp.Diagnostics
	lockList, dd := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: lockType}, lockValues)
	diags.Append(dd...)
	errList, dd := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: errorType}, errValues)
	diags.Append(dd...)
	if diags.HasError() {
		return
	}
	m.Locks, m.Errors = lockList, errList
	m.LocksCount = types.Int64Value(int64(len(rep.Locks)))
	m.StaleCount = types.Int64Value(int64(rep.StaleCount()))
	m.ID = types.StringValue(q.Bucket + "/" + q.Prefix)
	diags.Append(resp.State.Set(ctx, &m)...)
}
