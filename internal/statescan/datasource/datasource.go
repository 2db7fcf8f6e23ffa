// Package datasource is securestate_state_scan: it reads every Terraform state
// in a bucket (the current version of each *.tfstate object, workspace states
// included) and reports where secret material is held in plaintext, never
// what it is. The scanning is internal/statescan's; this package lists the
// objects, streams each to the scanner and turns the results into Terraform
// values.
package datasource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
	"github.com/securestate/terraform-provider-securestate/internal/statescan"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var _ datasource.DataSourceWithConfigure = (*dataSource)(nil)

// New is securestate_state_scan.
func New() datasource.DataSource { return &dataSource{} }

type dataSource struct {
	meta *awsclient.Meta
}

type model struct {
	Bucket         types.String `tfsdk:"bucket"`
	BytesScanned   types.Int64  `tfsdk:"bytes_scanned"`
	Errors         types.List   `tfsdk:"errors"`
	Findings       types.List   `tfsdk:"findings"`
	FindingsCount  types.Int64  `tfsdk:"findings_count"`
	ID             types.String `tfsdk:"id"`
	ObjectsScanned types.Int64  `tfsdk:"objects_scanned"`
	Prefix         types.String `tfsdk:"prefix"`
}

// Finding is one secret found: where, and by which rule.
type Finding struct {
	ObjectKey string `tfsdk:"object_key"`
	Address   string `tfsdk:"address"`
	Path      string `tfsdk:"path"`
	Rule      string `tfsdk:"rule"`
}

// ObjectError is a state that could not be scanned (whole or in part).
type ObjectError struct {
	ObjectKey string `tfsdk:"object_key"`
	Error     string `tfsdk:"error"`
}

var (
	findingType = map[string]attr.Type{"object_key": types.StringType, "address": types.StringType, "path": types.StringType, "rule": types.StringType}
	errorType   = map[string]attr.Type{"object_key": types.StringType, "error": types.StringType}
)

func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_state_scan"
}

func (d *dataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Scans every Terraform state in a bucket for secret material held in plaintext and reports **where**, " +
			"never **what**: object key, resource address, attribute path and the rule that matched. No value, excerpt or hash of a " +
			"secret is returned, logged or stored. It reads the current version of each object whose key ends in `.tfstate` (workspace " +
			"states under `env:/` included), streaming: memory stays bounded whatever the state's size. A state it cannot read or parse " +
			"is reported in `errors`, not fatal. Rules: " + rulesList() + ".",
		Attributes: map[string]schema.Attribute{
			"bucket": schema.StringAttribute{
				Required: true, MarkdownDescription: "The bucket holding the states.",
				Validators: []validator.String{validate.String("an S3 bucket name", naming.ExistingBucket)},
			},
			"bytes_scanned": schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes of state read."},
			"errors": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "States that could not be scanned, whole or in part (access denied, KMS denied, not JSON, truncated, unsupported state version, a value over 16 MiB), by object key. Findings made before a parse error are still reported.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"object_key": schema.StringAttribute{Computed: true, MarkdownDescription: "The object's key."},
					"error":      schema.StringAttribute{Computed: true, MarkdownDescription: "Why it could not be scanned: the AWS error code, or where the parse failed (a byte offset)."},
				}},
			},
			"findings": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Each secret found, sorted by object key, address, path and rule.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"object_key": schema.StringAttribute{Computed: true, MarkdownDescription: "The state object's key."},
					"address":    schema.StringAttribute{Computed: true, MarkdownDescription: "The resource instance address (`module.db.aws_db_instance.main[0]`), or `output.<name>` for a root output."},
					"path":       schema.StringAttribute{Computed: true, MarkdownDescription: "The attribute path in the instance (`password`, `tags.token`, `input.nested[2].pw`)."},
					"rule":       schema.StringAttribute{Computed: true, MarkdownDescription: "The rule that matched: " + rulesList() + "."},
				}},
			},
			"findings_count":  schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of findings."},
			"id":              schema.StringAttribute{Computed: true, MarkdownDescription: "`<bucket>/<prefix>`."},
			"objects_scanned": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of state objects read (those in `errors` included)."},
			"prefix":          schema.StringAttribute{Optional: true, MarkdownDescription: "Only keys starting with this prefix are scanned. Default: the whole bucket."},
		},
	}
}

func rulesList() string {
	var out []string
	for _, r := range []string{statescan.RuleSensitive, statescan.RuleKnownAttribute, statescan.RuleAWSAccessKey, statescan.RuleAWSSecretKey,
		statescan.RulePrivateKey, statescan.RuleJWT, statescan.RuleHighEntropy} {
		out = append(out, "`"+r+"`")
	}
	return strings.Join(out, ", ")
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
	bucket, prefix := m.Bucket.ValueString(), m.Prefix.ValueString()
	rep, err := Run(ctx, client.S3, bucket, prefix)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Listing states", err.Error())
		return
	}
	diags := &resp.Diagnostics
	findings, dd := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: findingType}, rep.Findings)
	diags.Append(dd...)
	errs, dd := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: errorType}, rep.Errors)
	diags.Append(dd...)
	if diags.HasError() {
		return
	}
	m.Findings, m.Errors = findings, errs
	m.FindingsCount = types.Int64Value(int64(len(rep.Findings)))
	m.ObjectsScanned = types.Int64Value(int64(rep.Objects))
	m.BytesScanned = types.Int64Value(rep.Bytes)
	m.ID = types.StringValue(bucket + "/" + prefix)
	diags.Append(resp.State.Set(ctx, &m)...)
}

// Report is a bucket's scan.
type Report struct {
	Findings []Finding
	Errors   []ObjectError
	Objects  int
	Bytes    int64
}

// API is the part of the S3 client a scan uses.
type API interface {
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// workers bounds the states read at once: each holds one decoder buffer.
const workers = 4

// Run lists the states under prefix and scans each, workers at a time. Only
// a failed listing is an error; a state that cannot be read or parsed is in
// Report.Errors.
func Run(ctx context.Context, api API, bucket, prefix string) (Report, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("s3:ListObjectsV2 %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".tfstate") {
				keys = append(keys, k)
			}
		}
	}
	var (
		rep  = Report{Objects: len(keys), Findings: []Finding{}, Errors: []ObjectError{}}
		mu   sync.Mutex
		wg   sync.WaitGroup
		sema = make(chan struct{}, workers)
	)
	for _, key := range keys {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			res, err := scanObject(ctx, api, bucket, key)
			tflog.Debug(ctx, "scanned state", map[string]any{"key": key, "findings": len(res.Findings), "bytes": res.Bytes, "failed": err != nil})
			mu.Lock()
			defer mu.Unlock()
			rep.Bytes += res.Bytes
			for _, f := range res.Findings {
				rep.Findings = append(rep.Findings, Finding{ObjectKey: key, Address: f.Address, Path: f.Path, Rule: f.Rule})
			}
			if err != nil {
				rep.Errors = append(rep.Errors, ObjectError{ObjectKey: key, Error: err.Error()})
			}
		})
	}
	wg.Wait()
	slices.SortFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.ObjectKey, b.ObjectKey), cmp.Compare(a.Address, b.Address), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	slices.SortFunc(rep.Errors, func(a, b ObjectError) int { return cmp.Compare(a.ObjectKey, b.ObjectKey) })
	return rep, nil
}

// scanObject streams one state's current version to the scanner. Its error
// names the AWS error code or the parse failure, never the state's content.
func scanObject(ctx context.Context, api API, bucket, key string) (statescan.Result, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		code := awserr.Code(err)
		if code == "" {
			code = "error"
		}
		return statescan.Result{}, fmt.Errorf("s3:GetObject failed (%s)", code)
	}
	defer func() { _ = out.Body.Close() }()
	res, err := statescan.Scan(out.Body, statescan.Options{})
	var scanErr *statescan.Error
	switch {
	case errors.As(err, &scanErr):
		return res, fmt.Errorf("%s", strings.TrimPrefix(scanErr.Error(), "statescan: "))
	case err != nil:
		return res, fmt.Errorf("reading the object failed after %d bytes (%s)", res.Bytes, cmp.Or(awserr.Code(err), "connection error"))
	}
	return res, nil
}
