// Package backend is the securestate_backend resource: schema, plan-time
// validation and planning, and the orchestration of the components (key,
// bucket, lock table, access policies) as one unit. It is the only package
// that knows all components.
package backend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
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
	if req.ProviderData == nil {
		return
	}
	meta, ok := req.ProviderData.(*awsclient.Meta)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *awsclient.Meta, got %T. This is a bug in the provider; please report it.", req.ProviderData))
		return
	}
	r.meta = meta
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
		return
	}
	if r.meta == nil {
		return
	}
	c, err := r.meta.Client()
	if err != nil {
		// Provider arguments are unknown until apply; so are derived values.
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
	}
	// The table name comes from state (an imported table keeps its name), else
	// it is derived from the backend name.
	if plan.LockTableName.IsUnknown() || plan.Locking.ValueString() == LockingLockfile {
		plan.LockTableName = types.StringNull()
	}

	s, ok := settingsFrom(ctx, plan, c, &resp.Diagnostics)
	if !ok || !checkReferences(ctx, c, s, &resp.Diagnostics) {
		return
	}
	keyKnown := !plan.KMSKeyARN.IsUnknown() && !plan.KMSKeyARN.IsNull()
	setDerived(&plan, s, keyKnown)
	plan.Controls = compliantControls(s)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

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
	s, ok := settingsFrom(ctx, plan, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot create backend", "Some arguments are still unknown at apply. This is a bug in the provider; please report it.")
		return
	}
	if !checkReferences(ctx, c, s, &resp.Diagnostics) {
		return
	}
	ctx = tflog.SetField(ctx, "backend", s.Name)
	obs, err := converge(ctx, c, s, converging{})
	if err != nil {
		addComponentError(&resp.Diagnostics, "create", s.Name, err)
		return
	}
	r.finish(ctx, &plan, s, obs, &resp.Diagnostics)
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

	if plan.KMSKeyARN.IsUnknown() {
		plan.KMSKeyARN = state.KMSKeyARN
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
	obs, err := converge(ctx, c, s, converging{tracked: true, keyID: state.KMSKeyID.ValueString(), previous: &old, force: plan.ForceDestroy.ValueBool()})
	if err != nil {
		addComponentError(&resp.Diagnostics, "update", s.Name, err)
		return
	}
	r.finish(ctx, &plan, s, obs, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// finish writes the converged backend into the model and refuses to report
// success while any control is still not compliant.
func (r *backendResource) finish(ctx context.Context, m *model, s settings, obs *observation, diags *diag.Diagnostics) {
	s.KeyARN = obs.key.ARN
	m.KMSKeyARN = types.StringValue(obs.key.ARN)
	m.KMSKeyID = types.StringValue(obs.key.KeyID)
	setDerived(m, s, true)
	drift := obs.drift(s)
	var bad []string
	for name, problem := range drift {
		if problem != "" {
			bad = append(bad, name+": "+problem)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		diags.AddError("Backend "+s.Name+" is not fully hardened",
			"After applying, these controls still differ from the hardened settings:\n  "+strings.Join(bad, "\n  ")+
				"\nSomething outside Terraform may be changing them (an SCP, a config rule, another tool). Check them and apply again.")
		return
	}
	m.Controls = compliantControls(s)
	tflog.Debug(ctx, "backend converged", map[string]any{"bucket": s.Bucket})
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

	imported := state.Locking.IsNull()
	if imported {
		if diags := r.completeImport(ctx, c, &state); diags.HasError() {
			resp.Diagnostics.Append(diags...)
			return
		}
	}
	s, ok := settingsFrom(ctx, state, c, &resp.Diagnostics)
	if !ok {
		resp.Diagnostics.AddError("Cannot read backend", "The state is incomplete. This is a bug in the provider; please report it.")
		return
	}
	ctx = tflog.SetField(ctx, "backend", s.Name)
	exists, err := statebucket.Exists(ctx, c.S3, s.Bucket)
	if err != nil {
		addComponentError(&resp.Diagnostics, "read", s.Name, err)
		return
	}
	if !exists {
		resp.Diagnostics.AddWarning("Backend removed from state",
			fmt.Sprintf("The state bucket %s of backend %s no longer exists, so the backend was removed from the Terraform state. "+
				"The next apply creates it again; check whether the other components (key %s, lock table, policies) still exist.",
				s.Bucket, s.Name, state.KMSKeyARN.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	obs, err := observe(ctx, c, s, state.KMSKeyID.ValueString())
	if err != nil {
		addComponentError(&resp.Diagnostics, "read", s.Name, err)
		return
	}
	if obs.key != nil && obs.key.ARN != "" {
		s.KeyARN = obs.key.ARN
		state.KMSKeyARN = types.StringValue(obs.key.ARN)
		state.KMSKeyID = types.StringValue(obs.key.KeyID)
	}
	setDerived(&state, s, s.KeyARN != "")
	state.TagsAll = stringMap(obs.tagsAll())
	controls := map[string]string{}
	for name, problem := range obs.drift(s) {
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
		addComponentError(&resp.Diagnostics, "delete", s.Name, err)
	}
}

func withoutOwnerTag(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !strings.HasPrefix(k, "securestate:") {
			out[k] = v
		}
	}
	return out
}

// addComponentError is the one way component failures become diagnostics: the
// summary names the operation and backend, the detail the component, its
// identifier (in the error text) and the AWS error code.
func addComponentError(diags *diag.Diagnostics, op, name string, err error) {
	detail := err.Error()
	if code := awserr.Code(err); code != "" {
		detail += "\n\nAWS error code: " + code
	}
	diags.AddError(fmt.Sprintf("Cannot %s backend %s", op, name), detail)
}

// converging says what Update knows from the previous state.
type converging struct {
	tracked  bool
	keyID    string
	previous *settings
	force    bool // force_destroy: a log bucket no longer wanted may be emptied
}

// versionsHeld counts the object versions in a bucket (0 when it is gone) and
// refuses, unless forced, when there are any: what lies in it would be lost.
func versionsHeld(ctx context.Context, c *awsclient.Client, bucket, holds, action string, force bool) (int, error) {
	exists, err := statebucket.Exists(ctx, c.S3, bucket)
	if err != nil || !exists {
		return 0, err
	}
	n, err := statebucket.CountVersions(ctx, c.S3, bucket)
	if err != nil {
		return 0, err
	}
	if n > 0 && !force {
		return n, &refusedError{msg: fmt.Sprintf("The bucket %s holds %d object versions (%s). %s would delete them. "+
			"Move or copy them elsewhere first, or, to delete them on purpose, set force_destroy = true and apply before you try again.", bucket, n, holds, action)}
	}
	return n, nil
}

// emptyAndDelete removes a bucket's versions (when it has any) and the bucket.
func emptyAndDelete(ctx context.Context, c *awsclient.Client, bucket string, versions int) error {
	if versions > 0 {
		tflog.Info(ctx, "emptying bucket before deletion", map[string]any{"bucket": bucket, "versions": versions})
		if err := statebucket.Empty(ctx, c.S3, bucket); err != nil {
			return err
		}
	}
	return statebucket.Delete(ctx, c.S3, bucket)
}

const (
	stateHolds = "Terraform states, their history and lock files"
	logsHold   = "access logs and the audit trail"
)

// removeLogBucket deletes a managed log bucket no longer wanted, refusing
// while it holds logs unless forced.
func removeLogBucket(ctx context.Context, c *awsclient.Client, bucket string, force bool) error {
	n, err := versionsHeld(ctx, c, bucket, logsHold, "Removing access_logging", force)
	if err != nil {
		return err
	}
	return emptyAndDelete(ctx, c, bucket, n)
}

// observation is every component as read from AWS.
type observation struct {
	key      *kmskey.Observed
	bucket   *statebucket.Observed
	table    *locktable.Observed // nil when missing or not wanted
	policies map[string]*accesspolicy.Observed
	logs     *statebucket.Observed // managed log bucket; nil when missing or not wanted
	trail    *audittrail.Observed  // nil when missing or not wanted
	alarms   *alarms.Observed      // nil when not wanted
}

// tagsAll is the backend's tags as AWS has them: the state bucket's, unless
// another component's differ, so that a tag changed out of band on any
// component shows in the plan (as tags_all) and apply puts it back.
func (o *observation) tagsAll() map[string]string {
	want := withoutOwnerTag(o.bucket.Tags)
	var others []map[string]string
	if o.key != nil {
		others = append(others, o.key.Tags)
	}
	if o.table != nil {
		others = append(others, o.table.Tags)
	}
	for _, env := range slices.Sorted(maps.Keys(o.policies)) {
		if p := o.policies[env]; p != nil {
			others = append(others, p.Tags)
		}
	}
	if o.logs != nil {
		others = append(others, o.logs.Tags)
	}
	if o.trail != nil {
		others = append(others, o.trail.Tags)
	}
	for _, tags := range others {
		if have := withoutOwnerTag(tags); !maps.Equal(have, want) {
			return have
		}
	}
	return want
}

// drift names every control that differs (problem "" when compliant).
func (o *observation) drift(s settings) map[string]string {
	out := map[string]string{}
	missing := func(names []string, what string) {
		for _, n := range names {
			out[n] = what
		}
	}
	keyControls := []string{kmskey.ControlState, kmskey.ControlRotation, kmskey.ControlPolicy, kmskey.ControlAlias}
	switch {
	case o.key == nil:
		missing(keyControls, "the KMS key is missing")
	case o.key.State != "Enabled":
		missing(keyControls, "")
		out[kmskey.ControlState] = fmt.Sprintf("key is %s", o.key.State)
	default:
		for k, v := range kmskey.Drift(s.keySpec(), o.key) {
			out[k] = v
		}
	}
	for k, v := range statebucket.Drift(s.bucketSpec(), o.bucket) {
		out[k] = v
	}
	if s.Table != "" {
		if o.table == nil {
			missing([]string{locktable.ControlBilling, locktable.ControlEncryption, locktable.ControlPITR, locktable.ControlDeletionProtection}, "the lock table is missing")
		} else {
			for k, v := range locktable.Drift(s.tableSpec(), o.table) {
				out[k] = v
			}
		}
	}
	for _, env := range s.Environments {
		p := o.policies[env]
		if p == nil {
			out[accesspolicy.Control(env)] = "the policy is missing"
			continue
		}
		out[accesspolicy.Control(env)] = accesspolicy.Drift(s.policySpec(env), p)
	}
	if s.LogManaged {
		if o.logs == nil {
			missing(statebucket.ControlNames(s.logBucketSpec()), "the log bucket is missing")
		} else {
			for k, v := range statebucket.Drift(s.logBucketSpec(), o.logs) {
				out[k] = v
			}
		}
	}
	if s.Trail {
		if o.trail == nil {
			missing(audittrail.ControlNames(), "the trail is missing")
		} else {
			for k, v := range audittrail.Drift(s.trailSpec(), o.trail) {
				out[k] = v
			}
		}
	}
	if s.AlarmTopic != "" && o.alarms != nil {
		for k, v := range alarms.Drift(s.alarmsSpec(), o.alarms) {
			out[k] = v
		}
	}
	return out
}

func alarmClients(c *awsclient.Client) alarms.Clients {
	return alarms.Clients{Logs: c.Logs, Alarms: c.CloudWatch, IAM: c.IAM}
}

// converge brings every component to the settings: the key first, then the
// bucket, lock table and policies concurrently (they need only the key), then
// removes components the previous settings had and these do not.
func converge(ctx context.Context, c *awsclient.Client, s settings, how converging) (*observation, error) {
	if !how.tracked {
		// A bucket someone else owns stops the create before anything is made.
		if err := statebucket.CheckAdoptable(ctx, c.S3, s.Bucket, s.Name); err != nil {
			return nil, err
		}
	}
	keyID := how.keyID
	if keyID != "" {
		if _, err := kmskey.Find(ctx, c.KMS, keyID, ""); awserr.IsNotFound(err) {
			tflog.Warn(ctx, "tracked KMS key no longer exists; creating a new one", map[string]any{"key_id": keyID})
			keyID = ""
		}
	}
	tflog.Debug(ctx, "ensuring KMS key", map[string]any{"component": "kms_key"})
	key, err := kmskey.Ensure(ctx, c.KMS, s.keySpec(), keyID)
	if err != nil {
		return nil, err
	}
	s.KeyARN = key.ARN

	obs := &observation{key: key, policies: map[string]*accesspolicy.Observed{}}
	prev := how.previous
	if s.LogManaged {
		// The state bucket's logging needs the log bucket and its policy first.
		tracked := how.tracked && prev != nil && prev.LogManaged && prev.LogBucket == s.LogBucket
		if obs.logs, err = statebucket.Ensure(ctx, c.S3, s.logBucketSpec(), tracked); err != nil {
			return nil, err
		}
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	run := func(component string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tflog.Debug(ctx, "ensuring component", map[string]any{"component": component})
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	run("state_bucket", func() error {
		b, err := statebucket.Ensure(ctx, c.S3, s.bucketSpec(), how.tracked)
		mu.Lock()
		obs.bucket = b
		mu.Unlock()
		return err
	})
	if s.Table != "" {
		run("lock_table", func() error {
			t, err := locktable.Ensure(ctx, c.DynamoDB, s.tableSpec(), how.tracked && how.previous != nil && how.previous.Table == s.Table)
			mu.Lock()
			obs.table = t
			mu.Unlock()
			return err
		})
	}
	for _, env := range s.Environments {
		run("access_policy", func() error {
			p, err := accesspolicy.Ensure(ctx, c.IAM, s.policySpec(env), how.tracked && how.previous != nil && contains(how.previous.Environments, env))
			mu.Lock()
			obs.policies[env] = p
			mu.Unlock()
			return err
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.AlarmTopic != "" {
		// The trail needs its log group and role before it can deliver to them.
		tracked := how.tracked && prev != nil && prev.AlarmTopic != ""
		if obs.alarms, err = alarms.Ensure(ctx, alarmClients(c), s.alarmsSpec(), tracked); err != nil {
			return nil, err
		}
	}
	if s.Trail {
		// After the log bucket policy and the key policy grant CloudTrail access.
		tracked := how.tracked && prev != nil && prev.Trail
		if obs.trail, err = audittrail.Ensure(ctx, c.CloudTrail, s.trailSpec(), tracked); err != nil {
			return nil, err
		}
	}

	if prev != nil {
		if prev.AlarmTopic != "" && s.AlarmTopic == "" {
			if err := alarms.Delete(ctx, alarmClients(c), prev.alarmsSpec()); err != nil {
				return nil, err
			}
		}
		if prev.Trail && !s.Trail {
			if err := audittrail.Delete(ctx, c.CloudTrail, prev.trailName()); err != nil {
				return nil, err
			}
		}
		if prev.LogManaged && (!s.LogManaged || prev.LogBucket != s.LogBucket) {
			if err := removeLogBucket(ctx, c, prev.LogBucket, how.force); err != nil {
				return nil, err
			}
		}
		for _, env := range prev.Environments {
			if !contains(s.Environments, env) {
				if err := accesspolicy.Delete(ctx, c.IAM, prev.policyARN(env)); err != nil {
					return nil, err
				}
			}
		}
		if prev.Table != "" && prev.Table != s.Table {
			if err := locktable.Delete(ctx, c.DynamoDB, prev.Table); err != nil {
				return nil, err
			}
		}
	}
	return obs, nil
}

// observe reads every component without changing anything.
func observe(ctx context.Context, c *awsclient.Client, s settings, keyID string) (*observation, error) {
	obs := &observation{policies: map[string]*accesspolicy.Observed{}}
	var err error
	if keyID != "" {
		obs.key, err = kmskey.Find(ctx, c.KMS, keyID, s.alias())
		if awserr.IsNotFound(err) {
			obs.key, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if obs.bucket, err = statebucket.Find(ctx, c.S3, s.Bucket); err != nil {
		return nil, err
	}
	if s.Table != "" {
		obs.table, err = locktable.Find(ctx, c.DynamoDB, s.Table)
		if awserr.IsNotFound(err) {
			obs.table, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	for _, env := range s.Environments {
		p, err := accesspolicy.Find(ctx, c.IAM, s.policyARN(env))
		if awserr.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		obs.policies[env] = p
	}
	if s.LogManaged {
		obs.logs, err = statebucket.Find(ctx, c.S3, s.LogBucket)
		if awserr.IsNotFound(err) {
			obs.logs, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if s.AlarmTopic != "" {
		if obs.alarms, err = alarms.Find(ctx, alarmClients(c), s.alarmsSpec()); err != nil {
			return nil, err
		}
	}
	if s.Trail {
		obs.trail, err = audittrail.Find(ctx, c.CloudTrail, s.trailName())
		if awserr.IsNotFound(err) {
			obs.trail, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return obs, nil
}

// refusedError is a destroy refused to protect state.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// destroy refuses while the state bucket (or the managed log bucket) holds any
// object version, unless forced, before anything is deleted. Then it deletes
// the trail, alarms, log bucket, table and policies, removes the alias and
// schedules the key's deletion, and deletes the state bucket last: while a
// destroy that failed part-way leaves the bucket, the backend stays in state
// and the next destroy finishes the job (every step treats "already gone" as done).
func destroy(ctx context.Context, c *awsclient.Client, s settings, keyID string, force bool) error {
	logVersions := 0
	if s.LogManaged {
		n, err := versionsHeld(ctx, c, s.LogBucket, logsHold, "Destroying the backend", force)
		if err != nil {
			return err
		}
		logVersions = n
	}
	stateExists, err := statebucket.Exists(ctx, c.S3, s.Bucket)
	if err != nil {
		return err
	}
	stateVersions, err := versionsHeld(ctx, c, s.Bucket, stateHolds, "Destroying the backend (use terraform init -migrate-state to move states)", force)
	if err != nil {
		return err
	}
	if s.Trail {
		if err := audittrail.Delete(ctx, c.CloudTrail, s.trailName()); err != nil {
			return err
		}
	}
	if s.AlarmTopic != "" {
		if err := alarms.Delete(ctx, alarmClients(c), s.alarmsSpec()); err != nil {
			return err
		}
	}
	if s.LogManaged {
		if stateExists {
			// No new log deliveries into the bucket about to be emptied.
			if _, err := c.S3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: &s.Bucket, BucketLoggingStatus: &s3types.BucketLoggingStatus{}}); err != nil {
				return fmt.Errorf("s3:PutBucketLogging %s (turning logging off): %w", s.Bucket, err)
			}
		}
		if err := emptyAndDelete(ctx, c, s.LogBucket, logVersions); err != nil {
			return err
		}
	}
	if s.Table != "" {
		if err := locktable.Delete(ctx, c.DynamoDB, s.Table); err != nil {
			return err
		}
	}
	for _, env := range s.Environments {
		if err := accesspolicy.Delete(ctx, c.IAM, s.policyARN(env)); err != nil {
			return err
		}
	}
	if err := kmskey.Delete(ctx, c.KMS, keyID, s.alias(), s.DeletionWindow); err != nil {
		return err
	}
	if !stateExists {
		return nil
	}
	return emptyAndDelete(ctx, c, s.Bucket, stateVersions)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ImportState accepts a backend name (a backend this provider created), or
// "bucket=<b>,table=<t>,key=<key arn>" for a backend made by other means; the
// next plan then shows what apply will harden.
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
}
