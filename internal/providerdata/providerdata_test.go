package providerdata

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

func TestMeta(t *testing.T) {
	var diags diag.Diagnostics
	if m := Meta(nil, &diags); m != nil || diags.HasError() {
		t.Errorf("nil provider data: %v, %v; want nil and no error", m, diags)
	}
	want := awsclient.Configured(&awsclient.Client{})
	if m := Meta(want, &diags); m != want || diags.HasError() {
		t.Errorf("Meta = %v, %v; want the same meta and no error", m, diags)
	}
	if m := Meta("not meta", &diags); m != nil || !diags.HasError() || !strings.Contains(diags[0].Detail(), "got string") {
		t.Errorf("wrong type: %v, %v; want nil and a provider-bug error naming the type", m, diags)
	}
}

func TestDataSourceClient(t *testing.T) {
	var diags diag.Diagnostics
	c := &awsclient.Client{}
	if got := DataSourceClient(awsclient.Configured(c), &diags); got != c || diags.HasError() {
		t.Errorf("configured: %v, %v", got, diags)
	}
	if got := DataSourceClient(&awsclient.Meta{}, &diags); got != nil || !diags.HasError() || diags[0].Summary() != "Provider not configured" {
		t.Errorf("unconfigured: %v, %v; want nil and Provider not configured", got, diags)
	}
}
