// Package provider defines the securestate provider: its configuration schema,
// how that configuration becomes AWS clients, and which resources and data
// sources it serves.
package provider

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/audit"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/backend"
	locks "github.com/securestate/terraform-provider-securestate/internal/locks/datasource"
	scan "github.com/securestate/terraform-provider-securestate/internal/statescan/datasource"
	versions "github.com/securestate/terraform-provider-securestate/internal/stateversions/datasource"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var (
	_ provider.Provider                   = (*securestateProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*securestateProvider)(nil)
)

// New returns a constructor for the provider at the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &securestateProvider{version: version} }
}

type securestateProvider struct {
	version string
}

type providerModel struct {
	AssumeRole                *assumeRoleModel  `tfsdk:"assume_role"`
	CustomCABundle            types.String      `tfsdk:"custom_ca_bundle"`
	DefaultTags               *defaultTagsModel `tfsdk:"default_tags"`
	Endpoints                 types.Object      `tfsdk:"endpoints"`
	MaxRetries                types.Int64       `tfsdk:"max_retries"`
	Profile                   types.String      `tfsdk:"profile"`
	Region                    types.String      `tfsdk:"region"`
	S3UsePathStyle            types.Bool        `tfsdk:"s3_use_path_style"`
	SharedConfigFiles         types.List        `tfsdk:"shared_config_files"`
	SharedCredentialsFiles    types.List        `tfsdk:"shared_credentials_files"`
	SkipCredentialsValidation types.Bool        `tfsdk:"skip_credentials_validation"`
}

type assumeRoleModel struct {
	Duration    types.String `tfsdk:"duration"`
	ExternalID  types.String `tfsdk:"external_id"`
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
}

type defaultTagsModel struct {
	Tags types.Map `tfsdk:"tags"`
}

func (p *securestateProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "securestate"
	resp.Version = p.version
}

func (p *securestateProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerSchema()
}

// endpointAttributes are the endpoints block's attributes, one per service
// in awsclient.Services.
func endpointAttributes() map[string]schema.Attribute {
	attrs := make(map[string]schema.Attribute, len(awsclient.Services))
	for _, svc := range awsclient.Services {
		attrs[svc.Name] = schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Custom endpoint URL for " + svc.ID + ", for example a VPC endpoint or a local emulator. " +
				"Default: the SDK's resolution, which honours `" + svc.EnvVar() + "` and `AWS_ENDPOINT_URL`. " +
				"Must be an absolute `https://` URL (`http://` only for local test endpoints).",
			Validators: []validator.String{validate.String("an absolute http(s) URL", validate.EndpointURL)},
		}
	}
	return attrs
}

func providerSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "The securestate provider creates and keeps hardened Terraform remote-state backends on AWS. " +
			"Its arguments have the same names and environment fallbacks as the `hashicorp/aws` provider; all are optional.",
		Attributes: map[string]schema.Attribute{
			"custom_ca_bundle": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path to a PEM file of CA certificates to trust for AWS API calls, for TLS-inspecting proxies or private endpoints. " +
					"Default: `AWS_CA_BUNDLE`, else the system trust store. An unreadable file or one without certificates is an error.",
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "How many times an AWS call is retried on throttling or transient errors. " +
					"Default: `AWS_MAX_ATTEMPTS`, else 25, as in the hashicorp/aws provider. Must be between 0 and 100.",
				Validators: []validator.Int64{int64validator.Between(0, awsclient.MaxMaxRetries)},
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Named profile of the shared configuration and credentials files. Default: `AWS_PROFILE`, else `default`.",
			},
			"region": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "AWS region in which the backend lives. Default: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's region. " +
					"One of these must be set.",
				Validators: []validator.String{validate.String("an AWS region name", validate.Region)},
			},
			"s3_use_path_style": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Address S3 buckets as `https://endpoint/bucket` instead of `https://bucket.endpoint`. " +
					"Needed by most S3-compatible emulators. Default: `false`.",
			},
			"shared_config_files": schema.ListAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Paths of shared configuration files. Default: `AWS_CONFIG_FILE`, else `~/.aws/config`.",
				Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
			},
			"shared_credentials_files": schema.ListAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Paths of shared credentials files. Default: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.",
				Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
			},
			"skip_credentials_validation": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Skip the `sts:GetCallerIdentity` call that checks the credentials and finds the account ID and partition. " +
					"Default: `false`. When skipped the account ID is unknown, so a backend must be given an explicit `bucket`.",
			},
		},
		Blocks: map[string]schema.Block{
			"assume_role": schema.SingleNestedBlock{
				MarkdownDescription: "Assume an IAM role after authenticating, as in the hashicorp/aws provider.",
				Attributes: map[string]schema.Attribute{
					"duration": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Session length, such as `1h`, between 15m and 12h. Default: 15m (the SDK's default).",
						Validators: []validator.String{validate.String("a duration between 15m and 12h", func(v string) error {
							_, err := validate.AssumeRoleDuration(v)
							return err
						})},
					},
					"external_id": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "External ID the role's trust policy requires. Default: none.",
						Validators:          []validator.String{validate.String("an STS external ID", validate.ExternalID)},
					},
					"role_arn": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ARN of the role to assume. Required when the block is present.",
						Validators: []validator.String{validate.String("an IAM role ARN", func(v string) error {
							return validate.IAMPrincipalARN(v, "role")
						})},
					},
					"session_name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Session name recorded in CloudTrail. Default: chosen by the SDK.",
						Validators:          []validator.String{validate.String("an STS session name", validate.SessionName)},
					},
				},
			},
			"default_tags": schema.SingleNestedBlock{
				MarkdownDescription: "Tags applied to every AWS object the provider creates; a resource's own `tags` win on conflict.",
				Attributes: map[string]schema.Attribute{
					"tags": schema.MapAttribute{
						Optional:            true,
						ElementType:         types.StringType,
						MarkdownDescription: "Tag keys and values. Default: none. Keys are 1-128 characters and must not start with `aws:`.",
						Validators: []validator.Map{
							mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128), validate.String("a tag key", validate.TagKey)),
							mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
						},
					},
				},
			},
			"endpoints": schema.SingleNestedBlock{
				MarkdownDescription: "Custom service endpoints. Unset services use the SDK's endpoint resolution.",
				Attributes:          endpointAttributes(),
			},
		},
	}
}

func (p *securestateProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.AssumeRole != nil && cfg.AssumeRole.RoleARN.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("assume_role").AtName("role_arn"), "Missing role_arn",
			"The assume_role block needs role_arn, the ARN of the IAM role to assume. Set it, or remove the block to use the base credentials.")
	}
}

func (p *securestateProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	if unknown := unknownPaths(req.Config.Raw); len(unknown) > 0 {
		// Known only at apply: validators have skipped these values, and every
		// AWS call waits until Terraform configures the provider again with them.
		tflog.Debug(ctx, "provider configuration has unknown values; deferring AWS client set-up", map[string]any{"unknown": unknown})
		meta := awsclient.Pending(unknown)
		resp.DataSourceData, resp.ResourceData = meta, meta
		return
	}

	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings := p.settings(ctx, cfg, resp)
	if resp.Diagnostics.HasError() {
		return
	}

	region, source := awsclient.ResolveRegion(settings, os.Getenv)
	if region != "" && source != "region" {
		if err := validate.Region(region); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("region"), "Invalid region", err.Error()+" (from "+source+")")
			return
		}
	}

	client, err := awsclient.New(ctx, settings, os.Getenv)
	if err != nil {
		if se, ok := awsclient.IsSettingError(err); ok {
			resp.Diagnostics.AddAttributeError(dottedPath(se.Attribute), se.Summary, se.Detail)
			return
		}
		resp.Diagnostics.AddError("Cannot configure the securestate provider", err.Error())
		return
	}
	tflog.Debug(ctx, "provider configured", map[string]any{"region": client.Region, "partition": client.Partition, "account_id": client.AccountID})
	meta := awsclient.Configured(client)
	resp.DataSourceData, resp.ResourceData = meta, meta
}

func (p *securestateProvider) settings(ctx context.Context, cfg providerModel, resp *provider.ConfigureResponse) awsclient.Settings {
	s := awsclient.Settings{
		Region:                    cfg.Region.ValueString(),
		Profile:                   cfg.Profile.ValueString(),
		S3UsePathStyle:            cfg.S3UsePathStyle.ValueBool(),
		CustomCABundle:            cfg.CustomCABundle.ValueString(),
		SkipCredentialsValidation: cfg.SkipCredentialsValidation.ValueBool(),
		ProviderVersion:           p.version,
		Endpoints:                 map[string]string{},
	}
	if !cfg.MaxRetries.IsNull() {
		n := int(cfg.MaxRetries.ValueInt64())
		s.MaxRetries = &n
	}
	resp.Diagnostics.Append(cfg.SharedConfigFiles.ElementsAs(ctx, &s.SharedConfigFiles, false)...)
	resp.Diagnostics.Append(cfg.SharedCredentialsFiles.ElementsAs(ctx, &s.SharedCredentialsFiles, false)...)
	if cfg.DefaultTags != nil {
		resp.Diagnostics.Append(cfg.DefaultTags.Tags.ElementsAs(ctx, &s.DefaultTags, false)...)
	}
	endpoints := cfg.Endpoints.Attributes()
	for _, svc := range awsclient.Services {
		if v, ok := endpoints[svc.Name].(types.String); ok && v.ValueString() != "" {
			s.Endpoints[svc.Name] = v.ValueString()
		}
	}
	if ar := cfg.AssumeRole; ar != nil {
		s.AssumeRole = &awsclient.AssumeRole{
			RoleARN:     ar.RoleARN.ValueString(),
			SessionName: ar.SessionName.ValueString(),
			ExternalID:  ar.ExternalID.ValueString(),
		}
		if v := ar.Duration.ValueString(); v != "" {
			d, err := validate.AssumeRoleDuration(v)
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("assume_role").AtName("duration"), "Invalid assume_role.duration", err.Error())
			}
			s.AssumeRole.Duration = d
		}
	}
	return s
}

// unknownPaths lists the provider arguments whose values are not known yet.
func unknownPaths(v tftypes.Value) []string {
	var out []string
	_ = tftypes.Walk(v, func(p *tftypes.AttributePath, val tftypes.Value) (bool, error) {
		if !val.IsKnown() {
			out = append(out, attributePathString(p))
			return false, nil
		}
		return true, nil
	})
	slices.Sort(out)
	return out
}

func attributePathString(p *tftypes.AttributePath) string {
	var parts []string
	for _, step := range p.Steps() {
		if name, ok := step.(tftypes.AttributeName); ok {
			parts = append(parts, string(name))
		}
	}
	return strings.Join(parts, ".")
}

func dottedPath(attr string) path.Path {
	parts := strings.Split(attr, ".")
	p := path.Root(parts[0])
	for _, part := range parts[1:] {
		p = p.AtName(part)
	}
	return p
}

func (p *securestateProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{backend.NewResource}
}

func (p *securestateProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newCallerIdentityDataSource, audit.NewDataSource, scan.New, locks.New, versions.New}
}
