package backend

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// checkLockingChange refuses a change of `locking` straight between
// "dynamodb" and "lockfile" on an existing backend. During a move, consumers
// still on the previous backend configuration run beside those already on
// the new one; straight from one to the other, the first take only the
// DynamoDB lock and the second only the lock file, so two runs on one state
// both proceed. Through "both", every pair of runs shares a lock: "dynamodb"
// and "both" runs meet at the DynamoDB item, "both" and "lockfile" runs at
// the lock file.
func checkLockingChange(prior, plan string, diags *diag.Diagnostics) {
	if prior == plan || prior == LockingBoth || plan == LockingBoth || prior == "" || plan == "" {
		return
	}
	diags.AddAttributeError(path.Root("locking"), "Change locking through \"both\"",
		fmt.Sprintf("locking cannot change from %q to %q in one step: while consumers move to the new backend configuration, "+
			"runs still on the old one would lock with %s and runs on the new one with %s, and two runs on one state would both proceed. "+
			"Set locking = \"both\" and apply; move every consumer to the new backend configuration (backend_hcl, then init -reconfigure); "+
			"then set locking = %q and apply. The guide \"Moving from DynamoDB locks to lock files\" walks through it.",
			prior, plan, lockKind(prior), lockKind(plan), plan))
}

func lockKind(mode string) string {
	if mode == LockingDynamoDB {
		return "the DynamoDB table only"
	}
	return "S3 lock files only"
}
