package provider

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
)

var _ datasource.DataSourceWithConfigure = (*callerIdentityDataSource)(nil)

func newCallerIdentityDataSource() datasource.DataSource { return &callerIdentityDataSource{} }

// callerIdentityDataSource shows whom and where the provider is configured for,
// so a platform engineer can check the account before bootstrapping a backend.
type callerIdentityDataSource struct {
	meta *awsclient.Meta
}

type callerIdentityModel struct {
	AccountID types.String `tfsdk:"account_id"`
	ARN       types.String `tfsdk:"arn"`
	ID        types.String `tfsdk:"id"`
	Partition types.String `tfsdk:"partition"`
	Region    types.String `tfsdk:"region"`
	UserID    types.String `tfsdk:"user_id"`
}

func (d *callerIdentityDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_caller_identity"
}

func (d *callerIdentityDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The identity, account, partition and region the provider is configured for, " +
			"read with `sts:GetCallerIdentity`. Use it to check where a backend will be created.",
		Attributes: map[string]schema.Attribute{
			"account_id": schema.StringAttribute{Computed: true, MarkdownDescription: "AWS account ID of the caller."},
			"arn":        schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the calling user or assumed role."},
			"id":         schema.StringAttribute{Computed: true, MarkdownDescription: "The account ID."},
			"partition":  schema.StringAttribute{Computed: true, MarkdownDescription: "AWS partition, such as `aws` or `aws-cn`."},
			"region":     schema.StringAttribute{Computed: true, MarkdownDescription: "Region the provider is configured for."},
			"user_id":    schema.StringAttribute{Computed: true, MarkdownDescription: "Unique ID of the caller."},
		},
	}
}

func (d *callerIdentityDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.meta = providerdata.Meta(req.ProviderData, &resp.Diagnostics)
}

func (d *callerIdentityDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	client := providerdata.DataSourceClient(d.meta, &resp.Diagnostics)
	if client == nil {
		return
	}
	out, err := client.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		resp.Diagnostics.AddError("Reading caller identity", "sts:GetCallerIdentity failed: "+err.Error())
		return
	}
	partition := client.Partition
	state := callerIdentityModel{
		AccountID: types.StringValue(aws.ToString(out.Account)),
		ARN:       types.StringValue(aws.ToString(out.Arn)),
		ID:        types.StringValue(aws.ToString(out.Account)),
		Partition: types.StringValue(partition),
		Region:    types.StringValue(client.Region),
		UserID:    types.StringValue(aws.ToString(out.UserId)),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}
