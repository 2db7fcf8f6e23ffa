package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// Object Lock retention modes.
const (
	ObjectLockGovernance = "GOVERNANCE"
	ObjectLockCompliance = "COMPLIANCE"
)

// ObjectLockModes lists the allowed values of object_lock.mode.
func ObjectLockModes() []string { return []string{ObjectLockCompliance, ObjectLockGovernance} }

// MaxObjectLockDays bounds object_lock.days (S3 allows up to 100 years).
const MaxObjectLockDays = 36500

type objectLockModel struct {
	Days types.Int64  `tfsdk:"days"`
	Mode types.String `tfsdk:"mode"`
}

func objectLockBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Switches on S3 Object Lock with a default retention on the state bucket (and the replica bucket): every " +
			"object version written is kept for `days` and cannot be deleted or overwritten before, not even by someone holding " +
			"`s3:DeleteObjectVersion`, so a compromised administrator or CI role cannot purge the state history. New versions and " +
			"delete markers can still be written: Terraform and OpenTofu save states and release lock files as usual (each lock " +
			"file version is retained too, and expires with the other old versions after retention). Destroy is refused while any " +
			"version is retained, naming the date the last one becomes deletable; `force_destroy` cannot delete retained versions. " +
			"Default: no block, no Object Lock: it cannot be switched off once on, and a bucket under retention cannot be emptied, " +
			"so it is a decision for each organisation (the guide \"Immutable state history\").",
		Attributes: map[string]schema.Attribute{
			"days": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Days each version is retained, 1-%d. Required in the block. Longer than "+
					"`noncurrent_version_expiration_days` keeps versions until their retention ends.", MaxObjectLockDays),
				Validators: []validator.Int64{int64validator.Between(1, MaxObjectLockDays)},
			},
			"mode": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(ObjectLockGovernance),
				MarkdownDescription: "`\"GOVERNANCE\"`: no one may delete or overwrite a retained version without " +
					"`s3:BypassGovernanceRetention`, which no policy of this provider grants (an administrator can still, on purpose). " +
					"`\"COMPLIANCE\"`: no one at all, the account root included, until retention ends; it cannot be shortened or " +
					"undone, so changing `mode` away from `\"COMPLIANCE\"` or removing the block is refused. Default: `\"GOVERNANCE\"`. " +
					"One of: " + quoteJoin(ObjectLockModes()) + ".",
				Validators: []validator.String{stringvalidator.OneOf(ObjectLockModes()...)},
			},
		},
	}
}

// validateObjectLock checks the object_lock block on its own.
func validateObjectLock(m model, diags *diag.Diagnostics) {
	if l := m.ObjectLock; l != nil && l.Days.IsNull() {
		diags.AddAttributeError(path.Root("object_lock").AtName("days"), "Missing object_lock days",
			"object_lock needs the number of days each state version is retained, for example days = 30.")
	}
}

// objectLockFrom reads the block (nil without it); ok false when unknown.
func objectLockFrom(m model) (*statebucket.ObjectLock, bool) {
	l := m.ObjectLock
	if l == nil {
		return nil, true
	}
	if l.Days.IsUnknown() || l.Mode.IsUnknown() {
		return nil, false
	}
	mode := l.Mode.ValueString()
	if mode == "" {
		mode = ObjectLockGovernance
	}
	return &statebucket.ObjectLock{Mode: mode, Days: int32(l.Days.ValueInt64())}, true
}

// checkObjectLockChange refuses, on an existing backend, what AWS cannot
// undo: a COMPLIANCE retention may not become GOVERNANCE or be removed
// (the versions already written stay under COMPLIANCE retention anyway, and
// a configuration that says otherwise would be a lie), and Object Lock,
// once on, cannot be switched off: removing a GOVERNANCE block only removes
// the default retention.
func checkObjectLockChange(prior, plan *objectLockModel, diags *diag.Diagnostics) {
	if prior == nil || prior.Mode.ValueString() != ObjectLockCompliance {
		return
	}
	switch {
	case plan == nil:
		diags.AddAttributeError(path.Root("object_lock"), "COMPLIANCE retention cannot be removed",
			"The state bucket's default retention is COMPLIANCE: AWS lets no one, the account root included, shorten or remove the "+
				"retention of the versions already written, and a configuration without object_lock would not say so. Keep the "+
				"object_lock block with mode = \"COMPLIANCE\" (you may lower days for new versions).")
	case plan.Mode.IsUnknown():
	case plan.Mode.ValueString() != ObjectLockCompliance:
		diags.AddAttributeError(path.Root("object_lock").AtName("mode"), "COMPLIANCE retention cannot be changed",
			fmt.Sprintf("object_lock.mode cannot change from \"COMPLIANCE\" to %q: the versions already written stay under COMPLIANCE "+
				"retention until it ends, whatever the default says, and AWS cannot undo that. Keep mode = \"COMPLIANCE\".", plan.Mode.ValueString()))
	}
}

// clearRetention removes a bucket's default retention when this update
// removes object_lock (a COMPLIANCE one is refused at plan): new versions
// get none; Object Lock itself cannot be switched off, and the versions
// written keep theirs. A default retention the previous settings did not
// have (set by hand, or before this provider managed it) is left alone.
func (r *run) clearRetention(ctx context.Context, api statebucket.API, bucket string, o *statebucket.Observed) (*statebucket.Observed, error) {
	if !r.droppedObjectLock || o == nil || o.ObjectLockMode == "" {
		return o, nil
	}
	if err := statebucket.ClearDefaultRetention(ctx, api, bucket); err != nil {
		return o, err
	}
	return statebucket.Find(ctx, api, bucket)
}

// retainedHeld refuses a destroy while a bucket holds versions under
// retention: not even force_destroy can delete them.
func retainedHeld(ctx context.Context, api statebucket.API, bucket string) error {
	n, until, err := statebucket.Retained(ctx, api, bucket, time.Now())
	if err != nil || n == 0 {
		return err
	}
	when := "the last becomes deletable on " + until.UTC().Format(time.RFC3339)
	if until.IsZero() {
		when = "they are under legal hold, which someone with s3:PutObjectLegalHold must lift first"
	}
	return &refusedError{msg: fmt.Sprintf("The bucket %s holds %d object versions under Object Lock retention or legal hold; %s. "+
		"Nothing can delete them before (force_destroy neither). Destroy the backend after that date, or remove it from the "+
		"Terraform state (terraform state rm) and keep the buckets.", bucket, n, when)}
}
