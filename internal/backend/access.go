package backend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

// The access model (issue 13): per-environment grants to principals of any
// account, a boundary every caller must meet, and key administrators. The
// bucket policy, key policy, lock table policy and identity policies are all
// derived from it by internal/policies.

type accessModel struct {
	Environment types.String `tfsdk:"environment"`
	Principals  types.Set    `tfsdk:"principals"`
	ReadOnly    types.Set    `tfsdk:"read_only"`
}

type boundaryModel struct {
	BreakGlass     types.Set    `tfsdk:"break_glass"`
	OrganizationID types.String `tfsdk:"organization_id"`
	OrgPaths       types.Set    `tfsdk:"org_paths"`
	PrincipalTags  types.Map    `tfsdk:"principal_tags"`
	VPCEndpointIDs types.Set    `tfsdk:"vpc_endpoint_ids"`
}

type keyAdministratorsModel struct {
	Principals types.Set  `tfsdk:"principals"`
	RequireMFA types.Bool `tfsdk:"require_mfa"`
}

// accessDocumentsType is one environment's identity policies for principals
// of any account.
var accessDocumentsType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"read_only":  types.StringType,
	"read_write": types.StringType,
}}

// principalARNs validates a set of IAM role or user ARNs: no wildcards, no
// account roots, any account.
func principalARNs() []validator.Set {
	return []validator.Set{
		setvalidator.SizeAtLeast(1),
		setvalidator.ValueStringsAre(validate.String("an IAM role or user ARN", func(v string) error {
			return validate.IAMPrincipalARN(v, "role", "user")
		})),
	}
}

func accessAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"access_policy_documents": schema.MapAttribute{
			Computed:    true,
			ElementType: accessDocumentsType,
			MarkdownDescription: "Per environment, the identity policies (JSON) a principal attaches to use the backend from any account: " +
				"`read_write` (list `<environment>/`, read and write its states, take and release its locks, use the key) and `read_only` " +
				"(list and read its states and their versions, read the state digest, decrypt). The backend's own policies grant the " +
				"principals of `access` the same, so with one of these attached a principal in another account needs nothing else.",
		},
		"provider_principal": schema.StringAttribute{
			Optional: true,
			Computed: true,
			MarkdownDescription: "The IAM role or user that runs this provider for the backend. It is exempt from the boundary's denies and " +
				"may administer the key (without MFA unless it is one of `key_administrators`), so the provider can always refresh, " +
				"repair and destroy the backend. Default: the principal that first applies `boundary` or `key_administrators` (a role " +
				"session counts as its role), kept from then on whoever runs the provider; null without both blocks. Set it to hand the " +
				"backend over to another principal: apply once as the current one (or a key administrator). With `key_administrators`, a " +
				"plan that would change the key policy or destroy the key as any other principal is refused, because the key policy in AWS " +
				"would refuse it.",
			Validators: []validator.String{validate.String("an IAM role or user ARN", func(v string) error {
				return validate.IAMPrincipalARN(v, "role", "user")
			})},
		},
		"shared_principals": schema.SetAttribute{
			Optional:    true,
			ElementType: types.StringType,
			MarkdownDescription: "Principals allowed in `principals` of more than one `access` block. Default: none. A principal that can " +
				"write several environments' states undoes their separation, so one named in two blocks is refused at plan unless it is " +
				"listed here, which is how you say it is intended (a CI role that deploys every environment). `read_only` principals may " +
				"read several environments without it.",
			Validators: principalARNs(),
		},
	}
}

func accessBlocks() map[string]schema.Block {
	return map[string]schema.Block{
		"access": schema.ListNestedBlock{
			MarkdownDescription: "Grants one environment's states to IAM principals of any account, the central-account pattern: " +
				"the bucket policy, the key policy (key use only through S3 for this bucket and DynamoDB for this table) and the lock " +
				"table's resource policy admit them, and `access_policy_documents` holds the identity policy they attach in their own " +
				"account. One block per environment; at most 50. With `access` blocks, `backend_config` names the lock table by its ARN, " +
				"so callers in other accounts reach the central table.",
			Validators: []validator.List{listvalidator.SizeAtMost(50)},
			NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"environment": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "The environment granted; one of `environments`.",
					Validators:          []validator.String{validate.String("an environment name", naming.Environment)},
				},
				"principals": schema.SetAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "ARNs of IAM roles or users, in any account, that read and write the environment's states and take " +
						"its locks. Default: none. Wildcards and account roots are refused.",
					Validators: principalARNs(),
				},
				"read_only": schema.SetAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "ARNs of IAM roles or users, in any account, that may only read the environment's states and their " +
						"versions (`terraform plan -lock=false`, audits): no write, no lock. Default: none.",
					Validators: principalARNs(),
				},
			}},
		},
		"boundary": schema.SingleNestedBlock{
			MarkdownDescription: "Conditions every caller must meet, written as explicit denies into the bucket policy and the key " +
				"policy, so no grant to a caller (an identity policy, another account's administrator) gets around them. The account " +
				"root, `break_glass` and `provider_principal` are exempt, so the backend can never lock out its own administrators or " +
				"the provider that repairs it; so are AWS services acting for the backend (log delivery, CloudTrail). A principal of " +
				"the backend's account that meets the conditions and may change the bucket or key policy can still remove them " +
				"(shown as drift and put back on apply); only an organisation SCP or RCP makes them tamper-proof. Needs at least one condition.",
			Attributes: map[string]schema.Attribute{
				"break_glass": schema.SetAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "ARNs of IAM roles or users exempt from every condition, for emergencies (a network outage, a lost " +
						"tag). Default: none.",
					Validators: principalARNs(),
				},
				"organization_id": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "Only principals of accounts in this AWS Organization (`aws:PrincipalOrgID`), such as `o-a1b2c3d4e5`. Default: none.",
					Validators:          []validator.String{validate.String("an organization ID", validate.OrganizationID)},
				},
				"org_paths": schema.SetAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "Only principals of accounts below one of these organization paths (`aws:PrincipalOrgPaths`), such " +
						"as `o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/`. Default: none. With `organization_id`, each must start with it.",
					Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validate.String("an organization path", validate.OrgPath))},
				},
				"principal_tags": schema.MapAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "Only principals carrying every one of these tags (`aws:PrincipalTag`) may read, write or list " +
						"state, change the bucket policy, and use the key. Default: none.",
					Validators: []validator.Map{
						mapvalidator.SizeAtLeast(1),
						mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128), validate.String("a tag key", validate.TagKey)),
						mapvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 256)),
					},
				},
				"vpc_endpoint_ids": schema.SetAttribute{
					Optional:    true,
					ElementType: types.StringType,
					MarkdownDescription: "Only requests through one of these VPC endpoints (`aws:SourceVpce`) may read, write or list state, or change the " +
						"bucket policy. Other bucket configuration calls stay possible, and `provider_principal` is exempt. Default: none.",
					Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validate.String("a VPC endpoint ID", validate.VPCEndpointID))},
				},
			},
		},
		"key_administrators": schema.SingleNestedBlock{
			MarkdownDescription: "Who may destroy every state at once. Only these principals and `provider_principal` may schedule " +
				"the key's deletion, disable it or its rotation, or change its policy; everyone else, the account root included, is " +
				"denied that in the key policy. Recovery path: the denies match principal ARNs, so a deleted administrator role " +
				"recreated under the same ARN regains them, and the account root keeps every other action, `kms:EnableKey` and " +
				"`kms:CancelKeyDeletion` included, so the key never becomes unmanageable.",
			Attributes: map[string]schema.Attribute{
				"principals": schema.SetAttribute{
					Optional:            true,
					ElementType:         types.StringType,
					MarkdownDescription: "ARNs of the IAM roles or users that administer the key. Required in the block.",
					Validators:          principalARNs(),
				},
				"require_mfa": schema.BoolAttribute{
					Optional: true,
					Computed: true,
					Default:  booldefault.StaticBool(false),
					MarkdownDescription: "Whether the administrators need MFA (`aws:MultiFactorAuthPresent`) for those actions. Default: " +
						"`false`. `provider_principal`, which repairs and destroys unattended, is exempt unless it is listed here. Sessions from " +
						"IAM Identity Center, SAML or OIDC federation and long-term access keys never carry MFA, so with `true` administrators " +
						"must use IAM users or roles assumed with MFA.",
				},
			},
		},
	}
}

// accessSettings is the access model resolved from a model.
type accessSettings struct {
	Grants    []policies.Grant
	Boundary  *policies.Boundary
	KeyAdmins *policies.KeyAdministrators
	Provider  string
}

// stringsOf reads a known set or map of strings; ok is false while any
// element is unknown.
func stringsOf(ctx context.Context, s types.Set, diags *diag.Diagnostics) (out []string, ok bool) {
	if !setKnown(s) {
		return nil, false
	}
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	slices.Sort(out)
	return out, true
}

// accessFrom reads the access model; ok is false while anything is unknown.
func accessFrom(ctx context.Context, m model, diags *diag.Diagnostics) (a accessSettings, ok bool) {
	for _, blk := range m.Access {
		rw, ok1 := stringsOf(ctx, blk.Principals, diags)
		ro, ok2 := stringsOf(ctx, blk.ReadOnly, diags)
		if blk.Environment.IsUnknown() || !ok1 || !ok2 {
			return a, false
		}
		a.Grants = append(a.Grants, policies.Grant{Environment: blk.Environment.ValueString(), ReadWrite: rw, ReadOnly: ro})
	}
	slices.SortFunc(a.Grants, func(x, y policies.Grant) int { return strings.Compare(x.Environment, y.Environment) })
	if bd := m.Boundary; bd != nil {
		b := &policies.Boundary{}
		var ok1, ok2, ok3 bool
		b.BreakGlass, ok1 = stringsOf(ctx, bd.BreakGlass, diags)
		b.OrgPaths, ok2 = stringsOf(ctx, bd.OrgPaths, diags)
		b.VPCEndpointIDs, ok3 = stringsOf(ctx, bd.VPCEndpointIDs, diags)
		if !ok1 || !ok2 || !ok3 || bd.OrganizationID.IsUnknown() || !mapKnown(bd.PrincipalTags) {
			return a, false
		}
		b.OrganizationID = bd.OrganizationID.ValueString()
		diags.Append(bd.PrincipalTags.ElementsAs(ctx, &b.PrincipalTags, false)...)
		a.Boundary = b
	}
	if ka := m.KeyAdministrators; ka != nil {
		p, ok1 := stringsOf(ctx, ka.Principals, diags)
		if !ok1 || ka.RequireMFA.IsUnknown() {
			return a, false
		}
		a.KeyAdmins = &policies.KeyAdministrators{Principals: p, RequireMFA: ka.RequireMFA.ValueBool()}
	}
	if m.ProviderPrincipal.IsUnknown() {
		return a, false
	}
	a.Provider = m.ProviderPrincipal.ValueString()
	return a, !diags.HasError()
}

// needsProvider tells whether the model names the provider's principal in
// its policies.
func (m model) needsProvider() bool { return m.Boundary != nil || m.KeyAdministrators != nil }

// validateAccess checks the access model's blocks against each other and
// against the environments: every rule that needs no AWS call.
func validateAccess(ctx context.Context, m model, diags *diag.Diagnostics) {
	var envs []string
	if setKnown(m.Environments) {
		if m.Environments.IsNull() {
			envs = []string{DefaultEnvironment}
		} else {
			diags.Append(m.Environments.ElementsAs(ctx, &envs, false)...)
		}
	}
	shared, sharedKnown := stringsOf(ctx, m.SharedPrincipals, diags)
	writers := map[string][]string{} // principal → environments it writes
	lastBlock := map[string]int{}    // principal → the last access block naming it in principals
	allKnown := sharedKnown
	seen := map[string]int{}
	for i, blk := range m.Access {
		at := path.Root("access").AtListIndex(i)
		env := blk.Environment.ValueString()
		if !blk.Environment.IsUnknown() {
			if envs != nil && !slices.Contains(envs, env) {
				diags.AddAttributeError(at.AtName("environment"), "Unknown environment",
					fmt.Sprintf("%q is not one of environments (%s). Add it to environments, or grant an environment the backend has.", env, strings.Join(envs, ", ")))
			}
			if j, dup := seen[env]; dup {
				diags.AddAttributeError(at.AtName("environment"), "Environment granted twice",
					fmt.Sprintf("access blocks %d and %d both grant %q. Put all of an environment's principals into one block.", j, i, env))
			}
			seen[env] = i
		}
		rw, ok1 := stringsOf(ctx, blk.Principals, diags)
		ro, ok2 := stringsOf(ctx, blk.ReadOnly, diags)
		if !ok1 || !ok2 {
			allKnown = false
			continue
		}
		if blk.Principals.IsNull() && blk.ReadOnly.IsNull() {
			diags.AddAttributeError(at, "Access block grants no one",
				fmt.Sprintf("The access block for %q has neither principals nor read_only. Name at least one principal, or remove the block.", env))
		}
		for _, p := range rw {
			if slices.Contains(ro, p) {
				diags.AddAttributeError(at.AtName("read_only"), "Principal both read-write and read-only",
					fmt.Sprintf("%s is in principals and read_only of the access block for %q. Keep it in one: principals already read.", p, env))
			}
			writers[p] = append(writers[p], env)
			lastBlock[p] = i
		}
	}
	if allKnown {
		for _, p := range slices.Sorted(maps.Keys(writers)) {
			if len(writers[p]) > 1 && !slices.Contains(shared, p) {
				diags.AddAttributeError(path.Root("access").AtListIndex(lastBlock[p]).AtName("principals"), "Principal writes several environments",
					fmt.Sprintf("%s is in principals of the access blocks for %s, so it could overwrite any of their states, which undoes "+
						"their separation. Give each environment its own role; or, if one principal must deploy them all (a CI role), list it "+
						"in shared_principals to say it is intended.", p, strings.Join(writers[p], " and ")))
			}
		}
		for _, p := range shared {
			if len(writers[p]) < 2 {
				diags.AddAttributeError(path.Root("shared_principals"), "Principal not shared",
					fmt.Sprintf("%s is in shared_principals but in principals of %d access block(s). List only principals that write "+
						"several environments, so the list stays an exact record of the exceptions.", p, len(writers[p])))
			}
		}
	}
	if bd := m.Boundary; bd != nil {
		at := path.Root("boundary")
		if bd.OrganizationID.IsNull() && bd.OrgPaths.IsNull() && bd.VPCEndpointIDs.IsNull() && bd.PrincipalTags.IsNull() {
			diags.AddAttributeError(at, "Boundary without a condition",
				"A boundary needs at least one of organization_id, org_paths, vpc_endpoint_ids and principal_tags. Add one, or remove the block.")
		}
		paths, ok := stringsOf(ctx, bd.OrgPaths, diags)
		if org := bd.OrganizationID.ValueString(); ok && org != "" {
			for _, p := range paths {
				if o := validate.OrgPathOrganization(p); o != "" && o != org {
					diags.AddAttributeError(at.AtName("org_paths"), "Organization path outside the organization",
						fmt.Sprintf("%s is in organization %s, but organization_id is %s, so no principal could meet both. "+
							"Use paths of %s, or correct organization_id.", p, o, org, org))
				}
			}
		}
	}
	if ka := m.KeyAdministrators; ka != nil && ka.Principals.IsNull() {
		diags.AddAttributeError(path.Root("key_administrators").AtName("principals"), "Missing principals",
			"key_administrators needs the principals that administer the key. Name at least one role or user, or remove the block.")
	}
}

// planProvider sets provider_principal for the plan: as configured, else as
// in state, else the principal running the provider now.
func planProvider(plan, state *model, configured types.String, callerARN string, diags *diag.Diagnostics) {
	at := path.Root("provider_principal")
	if !plan.needsProvider() {
		if !configured.IsNull() {
			diags.AddAttributeError(at, "provider_principal without boundary or key_administrators",
				"provider_principal names who is exempt from the boundary and may administer the key; without boundary and "+
					"key_administrators it has no effect. Remove it, or add one of the blocks.")
		}
		plan.ProviderPrincipal = types.StringNull()
		return
	}
	switch {
	case !configured.IsNull():
		plan.ProviderPrincipal = configured
	case state != nil && state.ProviderPrincipal.ValueString() != "":
		plan.ProviderPrincipal = state.ProviderPrincipal
	default:
		caller := policies.CallerPrincipal(callerARN)
		if caller == "" {
			diags.AddAttributeError(at, "Provider identity unknown",
				"boundary and key_administrators exempt the principal that runs this provider, so that it can always refresh, repair and "+
					"destroy the backend, but the provider skips credential validation and does not know who it runs as. Set "+
					"provider_principal, or remove skip_credentials_validation (the provider then calls sts:GetCallerIdentity).")
			return
		}
		plan.ProviderPrincipal = types.StringValue(caller)
	}
}

// checkKeyAdministration refuses at plan what the key policy in AWS (as the
// state describes it) would refuse to the caller: with key administrators,
// only they and provider_principal may change the key policy or schedule the
// key's deletion. writes says whether the plan does either.
func checkKeyAdministration(state *model, callerARN string, writes bool, consequence string, diags *diag.Diagnostics) {
	caller := policies.CallerPrincipal(callerARN)
	if state == nil || state.KeyAdministrators == nil || !writes || caller == "" {
		return
	}
	previous := state.ProviderPrincipal.ValueString()
	var admins []string
	diags.Append(state.KeyAdministrators.Principals.ElementsAs(context.Background(), &admins, false)...)
	same := func(a string) bool { return policies.SamePrincipal(caller, a) }
	if previous == "" || same(previous) || slices.ContainsFunc(admins, same) {
		return
	}
	diags.AddAttributeError(path.Root("key_administrators"), "The provider would lock itself out",
		fmt.Sprintf("The provider runs as %s, but the key policy in AWS lets only %s (provider_principal) and the key administrators "+
			"(%s) change it, schedule its deletion or disable it. %s Run the provider as one of them; to hand the backend over to "+
			"%s, set provider_principal to it and apply once as one of them.", caller, previous, strings.Join(admins, ", "),
			consequence, caller))
}

// writesKeyPolicy tells whether applying the planned settings writes the key
// policy: it differs from the one the state's settings render, or it drifted.
func writesKeyPolicy(ctx context.Context, c *awsclient.Client, state model, planned settings) bool {
	var diags diag.Diagnostics
	old, ok := settingsFrom(ctx, state, c, &diags)
	if !ok || old.KeyARN == "" {
		return true
	}
	var controls map[string]string
	state.Controls.ElementsAs(ctx, &controls, false)
	if controls[kmskey.ControlPolicy] != Compliant {
		return true
	}
	if planned.KeyARN == "" {
		planned.KeyARN = old.KeyARN
	}
	return !policies.KeyPolicy(old.policyBackend()).Equivalent(policies.KeyPolicy(planned.policyBackend()))
}

// accessDocuments renders access_policy_documents.
func accessDocuments(s settings) types.Map {
	docs := map[string]attr.Value{}
	b := s.policyBackend()
	for _, env := range s.Environments {
		docs[env] = types.ObjectValueMust(accessDocumentsType.AttrTypes, map[string]attr.Value{
			"read_only":  types.StringValue(policies.Render(policies.ReadOnlyAccessPolicy(b, env))),
			"read_write": types.StringValue(policies.Render(policies.AccessPolicy(b, env))),
		})
	}
	return types.MapValueMust(accessDocumentsType, docs)
}

// explainPrincipals adds, to an error AWS gave for a policy naming a principal
// that does not exist, which of the backend's arguments name principals. S3,
// KMS and DynamoDB refuse resource policies with unknown principals (the
// emulator accepts them), so the roles must exist before the backend names them.
func (s settings) explainPrincipals(err error) string {
	msg := strings.ToLower(err.Error())
	if !strings.Contains(msg, "principal") || !strings.Contains(msg, "invalid") && !strings.Contains(msg, "malformed") {
		return ""
	}
	return "AWS refuses a bucket, key or table policy that names a principal which does not exist (or that this account may not name). " +
		"The backend's policies name the principals of access blocks, boundary.break_glass, key_administrators and principals: check " +
		"that each role or user exists (create them first, or make the backend depend on them), then apply again."
}

// AWS's size limits of the derived resource policies, in characters.
const (
	maxBucketPolicy = 20 * 1024
	maxKeyPolicy    = 32 * 1024
	maxTablePolicy  = 20 * 1024
)

// checkPolicySizes refuses at plan an access model whose bucket, key or table
// policy AWS would refuse as too large. The key ARN may not exist yet: a
// placeholder of a real key ARN's length stands in for it.
func checkPolicySizes(s settings, diags *diag.Diagnostics) {
	if len(s.Grants) == 0 && s.Boundary == nil && s.KeyAdmins == nil {
		return
	}
	if s.KeyARN == "" {
		s.KeyARN = arn.ARN{Partition: s.Partition, Service: "kms", Region: s.Region, AccountID: s.AccountID,
			Resource: "key/00000000-0000-0000-0000-000000000000"}.String()
	}
	if s.Replica != nil && s.Replica.KeyARN == "" {
		rep := *s.Replica
		rep.KeyARN = arn.ARN{Partition: s.Partition, Service: "kms", Region: rep.Region, AccountID: s.AccountID,
			Resource: "key/00000000-0000-0000-0000-000000000000"}.String()
		s.Replica = &rep
	}
	b := s.policyBackend()
	// The error names the block that made the policy large: the grants if
	// there are any, else the boundary or the key administrators.
	at := path.Root("access")
	switch {
	case len(s.Grants) > 0:
	case s.Boundary != nil:
		at = path.Root("boundary")
	default:
		at = path.Root("key_administrators")
	}
	type size struct {
		what string
		text string
		max  int
	}
	sizes := []size{
		{"state bucket policy", policies.Render(policies.BucketPolicy(b)), maxBucketPolicy},
		{"key policy", policies.Render(policies.KeyPolicy(b)), maxKeyPolicy},
		{"lock table resource policy", policies.Render(policies.LockTablePolicy(b)), maxTablePolicy},
	}
	if s.Replica != nil {
		sizes = append(sizes, size{"replica bucket policy", policies.Render(policies.ReplicaBucketPolicy(b)), maxBucketPolicy},
			size{"replica key policy", policies.Render(policies.ReplicaKeyPolicy(b)), maxKeyPolicy})
	}
	for _, p := range sizes {
		if len(p.text) > p.max {
			diags.AddAttributeError(at, "Policy too large",
				fmt.Sprintf("The %s derived from access, boundary and key_administrators would be %d characters; AWS accepts at most %d. "+
					"Grant fewer principals per environment (a role that several pipelines assume counts once), or split the "+
					"environments over two backends.", p.what, len(p.text), p.max))
		}
	}
}
