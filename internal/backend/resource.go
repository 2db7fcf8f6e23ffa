// Package backend is the securestate_backend resource: schema, plan-time
// validation and planning, and the orchestration of the components (key,
// bucket, lock table, access policies) as one unit. It is the only package
// that knows all components.
package backend

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/providerdata"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
)

var (
	_ resource.ResourceWithConfigure      = (*backendResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*backendResource)(nil)
	_ resource.ResourceWithImportState    = (*backendResource)(nil)
	_ resource.ResourceWithValidateConfig = (*backendResource)(nil)
)

// ValidateConfig checks the monitoring blocks against each other.
func (r *backendResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m model
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.CloudTrail != nil && m.CloudTrail.Alarms != nil && m.CloudTrail.Alarms.SNSTopicARN.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("cloudtrail").AtName("alarms").AtName("sns_topic_arn"), "Missing sns_topic_arn",
			"The alarms need a topic to notify. Set sns_topic_arn to the ARN of an SNS topic, or remove the alarms block.")
	}
	if m.CloudTrail != nil && m.AccessLogging == nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloudtrail"), "cloudtrail needs access_logging",
			"The trail delivers to the backend's managed log bucket. Add an access_logging {} block (without target_bucket).")
	}
	validateAccess(ctx, m, &resp.Diagnostics)
	validateReplication(m, &resp.Diagnostics)
	checkReplicationAlarm(m, &resp.Diagnostics)
	validateObjectLock(m, &resp.Diagnostics)
	// A target_bucket equal to the (possibly derived) state bucket is refused in ModifyPlan.
	if l := m.AccessLogging; l != nil && !l.TargetBucket.IsNull() {
		if m.CloudTrail != nil {
			resp.Diagnostics.AddAttributeError(path.Root("access_logging").AtName("target_bucket"), "target_bucket cannot be combined with cloudtrail",
				"The trail delivers to the managed log bucket, whose policy this provider controls. Remove target_bucket to use the managed log bucket, or remove the cloudtrail block.")
		}
	}
}

// Default timeouts of the resource's operations.
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
	defaultReadTimeout   = 10 * time.Minute
)

// NewResource returns the securestate_backend resource.
func NewResource() resource.Resource { return &backendResource{} }

type backendResource struct {
	meta *awsclient.Meta
}

func (r *backendResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backend"
}

func (r *backendResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schemaFor(ctx)
}

func (r *backendResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.meta = providerdata.Meta(req.ProviderData, &resp.Diagnostics)
}

func (r *backendResource) client(diags *diag.Diagnostics) *awsclient.Client {
	if r.meta == nil {
		diags.AddError("Provider not configured", "The securestate provider was not configured. This is a bug in the provider; please report it.")
		return nil
	}
	c, err := r.meta.Client()
	if err != nil {
		diags.AddError("Provider not configured", err.Error()+". Make the provider arguments known at plan time.")
		return nil
	}
	return c
}

// ModifyPlan fills in every value that can be known before apply (names, ARNs,
// backend configuration once the key exists) and plans every control back to
// compliant, so drift read by Read shows as a change.
func (r *backendResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.planDestroy(ctx, req, resp)
		return
	}
	var plan, state model
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() && !plan.Locking.IsUnknown() {
		if checkLockingChange(state.Locking.ValueString(), plan.Locking.ValueString(), &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	if !req.State.Raw.IsNull() {
		if checkObjectLockChange(state.ObjectLock, plan.ObjectLock, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	if r.meta == nil {
		return
	}
	c, err := r.meta.Client()
	if err != nil {
		// Provider arguments are unknown until apply; so are derived values.
		return
	}
	var priorModel *model
	if !req.State.Raw.IsNull() {
		priorModel = &state
	}
	if checkReplicaRegion(plan, priorModel, c.Region, c.Partition, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	if !setKnown(plan.Environments) || !setKnown(plan.Principals) || !mapKnown(plan.Tags) {
		return
	}

	if req.State.Raw.IsNull() {
		var bucket types.String
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("bucket"), &bucket)...)
		if bucket.IsNull() && c.AccountID == "" {
			resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Bucket name needed",
				"The provider skips credential validation, so the account ID for the default bucket name <name>-tfstate-<account_id> is unknown. "+
					"Set bucket to a globally unique name, or remove skip_credentials_validation.")
			return
		}
		if bucket.IsNull() {
			plan.Bucket = types.StringNull()
		}
		plan.AccountID, plan.Region = types.StringNull(), types.StringNull()
	} else {
		if state.Region.ValueString() != "" && state.Region.ValueString() != c.Region {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("region"))
			plan.Region = types.StringValue(c.Region)
		}
		if plan.Bucket.IsUnknown() {
			plan.Bucket = state.Bucket
		}
		// The encryption keys that exist keep their ARNs (setDerived drops
		// those of environments no longer configured); so does the replica
		// key (replicaFrom drops it when the region changes).
		plan.TofuEncryptionKeyARNs = state.TofuEncryptionKeyARNs
		plan.ReplicaKMSKeyARN = state.ReplicaKMSKeyARN
	}
	// The table name comes from state (an imported table keeps its name), else
	// it is derived from the backend name.
	if plan.LockTableName.IsUnknown() || plan.Locking.ValueString() == LockingLockfile {
		plan.LockTableName = types.StringNull()
	}

	var prior *model
	if !req.State.Raw.IsNull() {
		prior = &state
	}
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("provider_principal"), &configured)...)
	planProvider(&plan, prior, configured, c.CallerARN, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, ok := settingsFrom(ctx, plan, c, &resp.Diagnostics)
	if !ok || !checkReferences(ctx, c, s, &resp.Diagnostics) {
		return
	}
	if prior != nil {
		checkKeyAdministration(prior, c.CallerARN, writesKeyPolicy(ctx, c, *prior, s),
			"Applying would fail when it writes the key policy.", &resp.Diagnostics)
	}
	if checkPolicySizes(s, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	keyKnown := !plan.KMSKeyARN.IsUnknown() && !plan.KMSKeyARN.IsNull()
	setDerived(&plan, s, keyKnown, true)
	plan.Controls = compliantControls(s)
	if req.State.Raw.IsNull() {
		// A create reports the controls as read after it: one whose write
		// never showed stays drifted in state (see finish).
		plan.Controls = types.MapUnknown(types.StringType)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// planDestroy refuses at plan a destroy the key policy would refuse: with key
// administrators, scheduling the key's deletion is theirs and
// provider_principal's.
func (r *backendResource) planDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.meta == nil || req.State.Raw.IsNull() {
		return
	}
	c, err := r.meta.Client()
	if err != nil {
		return
	}
	var state model
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() || state.KeyAdministrators == nil {
		return
	}
	checkKeyAdministration(&state, c.CallerARN, true, "Destroying would fail when it schedules the key's deletion.", &resp.Diagnostics)
}

func (r *backendResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan model
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	c := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	plan.KMSKeyARN = types.StringNull()
	// Known only now when it was unknown at plan.
	if checkReplicaRegion(plan, nil, c.Region, c.Partition, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	s, ok := settingsFrom(ctx, plan, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot create backend", "Some arguments are still unknown at apply. This is a bug in the provider; please report it.")
		return
	}
	if !checkReferences(ctx, c, s, &resp.Diagnostics) {
		return
	}
	ctx = tflog.SetField(ctx, "backend", s.Name)
	run, err := converge(ctx, c, s, converging{})
	if run == nil {
		addComponentError(&resp.Diagnostics, "create", s, err)
		return
	}
	// Terraform taints a resource whose create returns an error, and the
	// next apply replaces it: destroys the key and the bucket. A create that
	// made the backend but could not see every control take effect keeps it
	// in state and warns; the next plan then updates it in place.
	r.finish(ctx, &plan, s, run, err, resp.Diagnostics.AddWarning)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backendResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state model
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Known only now when it was unknown at plan.
	if checkLockingChange(state.Locking.ValueString(), plan.Locking.ValueString(), &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	if plan.KMSKeyARN.IsUnknown() {
		plan.KMSKeyARN = state.KMSKeyARN
	}
	if plan.TofuEncryptionKeyARNs.IsUnknown() {
		plan.TofuEncryptionKeyARNs = state.TofuEncryptionKeyARNs
	}
	if plan.ReplicaKMSKeyARN.IsUnknown() {
		plan.ReplicaKMSKeyARN = state.ReplicaKMSKeyARN
	}
	if checkObjectLockChange(state.ObjectLock, plan.ObjectLock, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	if checkReplicaRegion(plan, &state, c.Region, c.Partition, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	s, ok := settingsFrom(ctx, plan, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot update backend", "Some arguments are still unknown at apply. This is a bug in the provider; please report it.")
		return
	}
	if !checkReferences(ctx, c, s, &resp.Diagnostics) {
		return
	}
	old, _ := settingsFrom(ctx, state, c, &resp.Diagnostics)
	ctx = tflog.SetField(ctx, "backend", s.Name)
	run, err := converge(ctx, c, s, converging{keyID: state.KMSKeyID.ValueString(), previous: &old, force: plan.ForceDestroy.ValueBool()})
	if run == nil {
		addComponentError(&resp.Diagnostics, "update", s, err)
		return
	}
	r.finish(ctx, &plan, s, run, err, resp.Diagnostics.AddError)
	for _, msg := range run.kept {
		resp.Diagnostics.AddWarning("Replica bucket kept", msg)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// finish writes the converged backend into the model, with every control as
// last read, and reports the controls that are still not compliant (with
// report: an error after an update, a warning after a create) — those whose
// writes did not show within the propagation bound (unsettled), or that a
// final read found changed.
func (r *backendResource) finish(ctx context.Context, m *model, s settings, run *run, unsettled error, report func(summary, detail string)) {
	s.KeyARN = run.key.ARN
	s.TofuKeyARNs = run.tofuKeyARNs()
	if s.Replica != nil {
		s.Replica.KeyARN = run.ownReplicaKey()
	}
	m.KMSKeyARN = types.StringValue(run.key.ARN)
	m.KMSKeyID = types.StringValue(run.key.KeyID)
	setDerived(m, s, true, false)
	controls := map[string]string{}
	var bad []string
	for name, problem := range run.drift() {
		controls[name] = Compliant
		if problem != "" {
			controls[name] = "drifted: " + problem
			bad = append(bad, name+": "+problem)
		}
	}
	m.Controls = stringMap(controls)
	if len(bad) == 0 && unsettled == nil {
		tflog.Debug(ctx, "backend converged", map[string]any{"bucket": s.Bucket})
		return
	}
	sort.Strings(bad)
	var detail string
	if len(bad) > 0 {
		detail = "After applying, these controls of backend " + s.Name + " still differ from the hardened settings:\n  " + strings.Join(bad, "\n  ") + "\n\n"
	}
	if unsettled != nil {
		detail += "The provider wrote them and read them again until the propagation bound (" + retry.PropagationTimeout.String() +
			", or less when the resource timeout is shorter); the reads of backend " + s.Name + " never showed these writes:\n" + unsettled.Error() + "\n\n"
	}
	detail = strings.TrimSuffix(detail, "\n\n")
	detail += "\n\nAWS propagates a change within seconds, so something outside Terraform is likely reverting them: " +
		"an organisation policy (SCP or resource control policy), an AWS Config remediation, another tool or a person. " +
		"Find it (CloudTrail shows who wrote the control last), then apply again. The backend stays in the Terraform state " +
		"with these controls shown as drifted, and the next plan updates it in place."
	report("Backend "+s.Name+" is not fully hardened", detail)
}

func (r *backendResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state model
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.meta.Client()
	if err != nil {
		// The provider configuration is unknown until apply: keep the state.
		resp.Diagnostics.AddWarning("Backend not refreshed", err.Error())
		return
	}
	timeout, d := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if state.TofuEncryption.IsNull() {
		// State written before tofu_encryption existed: its default.
		state.TofuEncryption = types.BoolValue(false)
	}
	s, ok := settingsFrom(ctx, state, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot read backend", "The state is incomplete. This is a bug in the provider; please report it.")
		return
	}
	ctx = tflog.SetField(ctx, "backend", s.Name)
	run, err := refresh(ctx, c, s, state.KMSKeyID.ValueString())
	if err != nil {
		addComponentError(&resp.Diagnostics, "read", s, err)
		return
	}
	if run.bucket == nil {
		resp.Diagnostics.AddWarning("Backend removed from state",
			fmt.Sprintf("The state bucket %s of backend %s no longer exists, so the backend was removed from the Terraform state. "+
				"The next apply creates it again; check whether the other components (key %s, lock table, policies) still exist.",
				s.Bucket, s.Name, state.KMSKeyARN.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if run.key != nil && run.key.ARN != "" {
		s.KeyARN = run.key.ARN
		state.KMSKeyARN = types.StringValue(run.key.ARN)
		state.KMSKeyID = types.StringValue(run.key.KeyID)
	}
	s.TofuKeyARNs = run.tofuKeyARNs()
	if s.Replica != nil {
		s.Replica.KeyARN = run.ownReplicaKey()
	}
	setDerived(&state, s, s.KeyARN != "", false)
	state.TagsAll = stringMap(run.tagsAll())
	controls := map[string]string{}
	for name, problem := range run.drift() {
		controls[name] = Compliant
		if problem != "" {
			controls[name] = "drifted: " + problem
			tflog.Info(ctx, "control drifted", map[string]any{"control": name, "problem": problem})
		}
	}
	state.Controls = stringMap(controls)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *backendResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state model
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	s, ok := settingsFrom(ctx, state, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot delete backend", "The state is incomplete. This is a bug in the provider; please report it.")
		return
	}
	ctx = tflog.SetField(ctx, "backend", s.Name)
	if err := destroy(ctx, c, s, state.KMSKeyID.ValueString(), state.ForceDestroy.ValueBool()); err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			resp.Diagnostics.AddAttributeError(path.Root("force_destroy"), "Backend still holds state or logs", refused.Error())
			return
		}
		addComponentError(&resp.Diagnostics, "delete", s, err)
	}
}

// addComponentError is the one way component failures become diagnostics: the
// summary names the operation and backend, the detail the component, its
// identifier (in the error text) and the AWS error code; a refused call is
// spelt out (component, action, resource) with its likely causes.
func addComponentError(diags *diag.Diagnostics, op string, s settings, err error) {
	detail := err.Error()
	if code := awserr.Code(err); code != "" {
		detail += "\n\nAWS error code: " + code
	}
	if denied := s.explainDenials(err); denied != "" {
		detail += "\n\n" + denied
	}
	if hint := s.explainPrincipals(err); hint != "" {
		detail += "\n\n" + hint
	}
	diags.AddError(fmt.Sprintf("Cannot %s backend %s", op, s.Name), detail)
}

// ImportState accepts a backend name (a backend this provider created), or
// "bucket=<b>,table=<t>,key=<key arn>" for a backend made by other means, and
// discovers the arguments an ID cannot carry (environments, locking,
// principals, retention, monitoring) from AWS; the next plan then shows what
// apply will harden.
func (r *backendResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	c := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := strings.TrimSpace(req.ID)
	set := func(p string, v attr.Value) {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(p), v)...)
	}
	if !strings.Contains(id, "=") {
		if err := validateImportName(id); err != nil {
			resp.Diagnostics.AddError("Invalid import ID", err.Error())
			return
		}
		if c.AccountID == "" {
			resp.Diagnostics.AddError("Invalid import ID", "Importing by name needs the account ID, which is unknown with skip_credentials_validation; import with bucket=<b>,table=<t>,key=<arn> instead.")
			return
		}
		set("name", types.StringValue(id))
		set("bucket", types.StringValue(stateBucketName(id, c.AccountID)))
		r.discover(ctx, c, resp)
		return
	}
	parts, err := parseImportID(id)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	set("bucket", types.StringValue(parts["bucket"]))
	set("kms_key_arn", types.StringValue(parts["key"]))
	if t := parts["table"]; t != "" {
		set("lock_table_name", types.StringValue(t))
	}
	if n := parts["name"]; n != "" {
		set("name", types.StringValue(n))
	}
	r.discover(ctx, c, resp)
}

// discover completes an imported state with what only AWS can tell.
func (r *backendResource) discover(ctx context.Context, c *awsclient.Client, resp *resource.ImportStateResponse) {
	if resp.Diagnostics.HasError() {
		return
	}
	var m model
	resp.Diagnostics.Append(resp.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(completeImport(ctx, c, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
