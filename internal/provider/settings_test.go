package provider

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// The endpoints block has one attribute per service, named as users write it.
func TestEndpointsBlockAttributes(t *testing.T) {
	block, ok := providerSchema().Blocks["endpoints"].(schema.SingleNestedBlock)
	if !ok {
		t.Fatal("no endpoints block")
	}
	got := slices.Sorted(maps.Keys(block.Attributes))
	want := []string{"cloudtrail", "cloudwatch", "dynamodb", "events", "iam", "kms", "logs", "s3", "sts"}
	if !slices.Equal(got, want) {
		t.Errorf("endpoints attributes = %v, want %v", got, want)
	}
}

// Set endpoints reach awsclient.Settings under their service names; null and
// empty ones are left to the SDK's resolution.
func TestSettingsEndpoints(t *testing.T) {
	attrTypes := map[string]attr.Type{}
	values := map[string]attr.Value{}
	for _, svc := range awsclient.Services {
		attrTypes[svc.Name] = types.StringType
		values[svc.Name] = types.StringNull()
	}
	values["logs"] = types.StringValue("https://logs.example.test")
	values["s3"] = types.StringValue("https://s3.example.test")
	values["kms"] = types.StringValue("")

	p := &securestateProvider{version: "test"}
	for name, tc := range map[string]struct {
		endpoints types.Object
		want      map[string]string
	}{
		"block absent": {types.ObjectNull(attrTypes), map[string]string{}},
		"some set":     {types.ObjectValueMust(attrTypes, values), map[string]string{"logs": "https://logs.example.test", "s3": "https://s3.example.test"}},
	} {
		t.Run(name, func(t *testing.T) {
			var resp provider.ConfigureResponse
			cfg := providerModel{
				Endpoints:              tc.endpoints,
				SharedConfigFiles:      types.ListNull(types.StringType),
				SharedCredentialsFiles: types.ListNull(types.StringType),
			}
			s := p.settings(context.Background(), cfg, &resp)
			if resp.Diagnostics.HasError() {
				t.Fatalf("settings: %v", resp.Diagnostics)
			}
			if !maps.Equal(s.Endpoints, tc.want) {
				t.Errorf("Endpoints = %v, want %v", s.Endpoints, tc.want)
			}
		})
	}
}
