// Package providerdata hands the provider's configured AWS clients to the
// resource and the data sources: the one type check of the framework's
// ProviderData, and the one message a data source gives when the provider's
// arguments are not known yet.
package providerdata

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// Meta is the provider's data passed to a Configure method: nil before the
// provider is configured (the framework calls Configure early too); any type
// but *awsclient.Meta is a provider bug, reported in diags.
func Meta(data any, diags *diag.Diagnostics) *awsclient.Meta {
	if data == nil {
		return nil
	}
	meta, ok := data.(*awsclient.Meta)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *awsclient.Meta, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return meta
}

// DataSourceClient is the clients a data source reads with, or nil with an
// error in diags while provider arguments are unknown.
func DataSourceClient(meta *awsclient.Meta, diags *diag.Diagnostics) *awsclient.Client {
	client, err := meta.Client()
	if err != nil {
		diags.AddError("Provider not configured", err.Error()+
			". Make the provider arguments known at plan time, or make this data source depend on the resources they come from.")
		return nil
	}
	return client
}
