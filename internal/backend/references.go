package backend

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// checkReferences checks what the arguments refer to outside the backend: the
// principals' account and the access-log bucket. ModifyPlan runs it when the
// values are known at plan; Create and Update run it again, for values that
// only became known at apply.
func checkReferences(ctx context.Context, c *awsclient.Client, s settings, diags *diag.Diagnostics) bool {
	for _, p := range s.Principals {
		if a, err := arn.Parse(p); err == nil && c.AccountID != "" && a.AccountID != c.AccountID {
			diags.AddAttributeError(path.Root("principals"), "Principal in another account",
				fmt.Sprintf("%s belongs to account %s, but the backend is in account %s. The key policy lets principals use the key only "+
					"from the backend's own account, and the state bucket grants no other account access, so this principal could never "+
					"read or write state. Use a role in account %s that the other account's users can assume.", p, a.AccountID, c.AccountID, c.AccountID))
			return false
		}
	}
	// The key policy allows only the account root, so a key administrator or
	// a break-glass principal of another account would be exempt from the
	// denies but allowed nothing.
	for at, principals := range map[string][]string{"key_administrators": keyAdminPrincipals(s), "boundary": breakGlass(s)} {
		for _, p := range principals {
			if a, err := arn.Parse(p); err == nil && c.AccountID != "" && a.AccountID != c.AccountID {
				attr := path.Root(at).AtName("principals")
				if at == "boundary" {
					attr = path.Root(at).AtName("break_glass")
				}
				diags.AddAttributeError(attr, "Principal in another account",
					fmt.Sprintf("%s belongs to account %s, but the backend is in account %s. The key and the bucket are administered through "+
						"account %s's IAM, so this principal would be exempt from the denies but allowed nothing. Name a role in account %s "+
						"that the other account's administrators can assume.", p, a.AccountID, c.AccountID, c.AccountID, c.AccountID))
				return false
			}
		}
	}
	logPath := path.Root("access_logging").AtName("target_bucket")
	switch {
	case s.LogManaged:
		if err := naming.Bucket(s.LogBucket); err != nil {
			diags.AddAttributeError(path.Root("access_logging"), "Log bucket name not possible",
				"The managed log bucket would be named "+s.LogBucket+", which S3 refuses ("+err.Error()+"). Use a shorter bucket name, or set target_bucket.")
			return false
		}
	case s.LogBucket != "":
		if s.LogBucket == s.Bucket {
			diags.AddAttributeError(logPath, "Logs cannot go to the state bucket",
				"Writing the state bucket's access logs into itself would log every log delivery forever and mix logs with state. "+
					"Choose another bucket, or remove target_bucket to get a managed log bucket.")
			return false
		}
		ok, err := statebucket.Exists(ctx, c.S3, s.LogBucket)
		if err != nil {
			diags.AddAttributeError(logPath, "Cannot check target_bucket", err.Error())
			return false
		}
		if !ok {
			diags.AddAttributeError(logPath, "target_bucket does not exist",
				"The bucket "+s.LogBucket+" does not exist (or is not visible with these credentials). Create it first, or remove target_bucket to get a managed log bucket.")
			return false
		}
	}
	return true
}

func setKnown(s types.Set) bool {
	if s.IsUnknown() {
		return false
	}
	for _, e := range s.Elements() {
		if e.IsUnknown() {
			return false
		}
	}
	return true
}

func mapKnown(m types.Map) bool {
	if m.IsUnknown() {
		return false
	}
	for _, e := range m.Elements() {
		if e.IsUnknown() {
			return false
		}
	}
	return true
}

func keyAdminPrincipals(s settings) []string {
	if s.KeyAdmins == nil {
		return nil
	}
	return s.KeyAdmins.Principals
}

func breakGlass(s settings) []string {
	if s.Boundary == nil {
		return nil
	}
	return s.Boundary.BreakGlass
}
