package backend

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Every change of locking: only the straight jumps between "dynamodb" and
// "lockfile" are refused, naming the attribute and the way through "both".
func TestCheckLockingChange(t *testing.T) {
	for _, prior := range LockingModes() {
		for _, plan := range LockingModes() {
			var diags diag.Diagnostics
			checkLockingChange(prior, plan, &diags)
			refused := prior != plan && prior != LockingBoth && plan != LockingBoth
			if diags.HasError() != refused {
				t.Errorf("%s -> %s: refused %v, want %v (%v)", prior, plan, diags.HasError(), refused, diags)
				continue
			}
			if !refused {
				continue
			}
			d := diags.Errors()[0]
			p, ok := d.(diag.DiagnosticWithPath)
			if !ok || p.Path().String() != "locking" {
				t.Errorf("%s -> %s: error not on the locking attribute: %v", prior, plan, d)
			}
			if !strings.Contains(d.Detail(), `locking = "both"`) || !strings.Contains(d.Detail(), prior) || !strings.Contains(d.Detail(), plan) {
				t.Errorf("%s -> %s: detail does not show the way through \"both\": %s", prior, plan, d.Detail())
			}
		}
	}
}
