// Package accesspolicy manages the IAM managed policies that grant each
// environment access to its own states: ensure (create, adopt or publish a new
// default version), find, drift and delete (all versions).
package accesspolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the IAM client this package uses.
type API interface {
	CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	CreatePolicyVersion(context.Context, *iam.CreatePolicyVersionInput, ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	ListPolicyTags(context.Context, *iam.ListPolicyTagsInput, ...func(*iam.Options)) (*iam.ListPolicyTagsOutput, error)
	TagPolicy(context.Context, *iam.TagPolicyInput, ...func(*iam.Options)) (*iam.TagPolicyOutput, error)
	UntagPolicy(context.Context, *iam.UntagPolicyInput, ...func(*iam.Options)) (*iam.UntagPolicyOutput, error)
}

// maxVersions is IAM's limit of stored versions per managed policy.
const maxVersions = 5

// Spec is one environment's policy.
type Spec struct {
	Backend     string
	Environment string
	Name        string
	ARN         string
	Document    policydoc.Document
	Tags        map[string]string
}

// Control names the drift control of an environment's policy.
func Control(environment string) string { return "access_policy_" + environment }

// ARN is the ARN a policy of this name has under the provider's path.
func ARN(partition, accountID, name string) string {
	return arn.ARN{Partition: partition, Service: "iam", AccountID: accountID, Resource: "policy" + naming.PolicyPath + name}.String()
}

// Observed is what exists.
type Observed struct {
	ARN            string
	DefaultVersion string
	Document       string
	Tags           map[string]string
}

// Drift reports a problem, or "" when the default version is the wanted document.
func Drift(spec Spec, o *Observed) string {
	want := spec.Document.String()
	if ok, err := policydoc.Equivalent(o.Document, want); err != nil || !ok {
		return fmt.Sprintf("default version %s differs from the least-privilege policy", o.DefaultVersion)
	}
	return ""
}

// Find reads the policy, its tags and then its default version (two round
// trips); a missing policy is awserr.ErrNotFound, whatever else failed.
func Find(ctx context.Context, api API, arn string) (*Observed, error) {
	var (
		wg             sync.WaitGroup
		p              *iam.GetPolicyOutput
		listed         *iam.ListPolicyTagsOutput
		getErr, tagErr error
	)
	wg.Go(func() { p, getErr = api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn}) })
	wg.Go(func() { listed, tagErr = api.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: &arn}) })
	wg.Wait()
	if isNoSuchEntity(getErr) {
		return nil, awserr.NotFound("IAM policy %s", arn)
	}
	if getErr != nil {
		getErr = fmt.Errorf("iam:GetPolicy %s: %w", arn, getErr)
	}
	if tagErr != nil {
		tagErr = fmt.Errorf("iam:ListPolicyTags %s: %w", arn, tagErr)
	}
	if err := errors.Join(getErr, tagErr); err != nil {
		return nil, err
	}
	o := &Observed{ARN: arn, DefaultVersion: aws.ToString(p.Policy.DefaultVersionId), Tags: map[string]string{}}
	for _, t := range listed.Tags {
		o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: &o.DefaultVersion})
	if err != nil {
		return nil, fmt.Errorf("iam:GetPolicyVersion %s %s: %w", arn, o.DefaultVersion, err)
	}
	o.Document = aws.ToString(v.PolicyVersion.Document)
	return o, nil
}

// Check refuses to adopt a policy that does not carry the backend's ownership
// tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("IAM policy %s already exists and was not created by this backend (no %s=%s tag); import the backend, or remove the policy",
		spec.ARN, naming.OwnerTagKey, spec.Backend)
}

// Ensure makes the policy match the spec, starting from have, what Find
// observed (nil: the policy does not exist; it is created with its tags in
// the CreatePolicy request itself, as an organisation may deny creating an
// untagged policy). Without tracked (the policy is
// not in state yet) a policy without the ownership tag is refused. A new
// default version and the tags are written concurrently, and only when they
// differ; the result is one Find after the writes.
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	doc := spec.Document.String()
	if have == nil {
		_, err := api.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     &spec.Name,
			Path:           aws.String(naming.PolicyPath),
			PolicyDocument: &doc,
			Description:    aws.String(fmt.Sprintf("Terraform state access for environment %s of backend %s (managed by securestate)", spec.Environment, spec.Backend)),
			Tags:           iamTags(spec.Tags),
		})
		var exists *types.EntityAlreadyExistsException
		switch {
		case errors.As(err, &exists):
			// The SDK's retry of a create whose reply was lost, or a policy
			// made meanwhile: adopted only with the ownership tag.
			o, err := Find(ctx, api, spec.ARN)
			if err != nil {
				return nil, err
			}
			if !tracked {
				if err := Check(spec, o); err != nil {
					return nil, err
				}
			}
			return o, nil
		case err != nil:
			return nil, fmt.Errorf("iam:CreatePolicy %s: %w", spec.Name, err)
		}
		o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.ARN) })
		if err != nil || !tags.Differ(o.Tags, spec.Tags) {
			return o, err
		}
		// CreatePolicy carried the tags; a service that dropped them (an
		// emulator) gets them again, retried while IAM does not see the new
		// policy yet (NoSuchEntity).
		if err := syncTags(ctx, api, spec.ARN, o.Tags, spec.Tags, true); err != nil {
			return nil, err
		}
		return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.ARN) })
	}
	if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	var (
		wg                 sync.WaitGroup
		versionErr, tagErr error
	)
	if Drift(spec, have) != "" {
		wg.Go(func() {
			if versionErr = pruneVersions(ctx, api, spec.ARN); versionErr != nil {
				return
			}
			if _, err := api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &spec.ARN, PolicyDocument: &doc, SetAsDefault: true}); err != nil {
				versionErr = fmt.Errorf("iam:CreatePolicyVersion %s: %w", spec.ARN, err)
			}
		})
	}
	wg.Go(func() { tagErr = syncTags(ctx, api, spec.ARN, have.Tags, spec.Tags, false) })
	wg.Wait()
	if err := errors.Join(versionErr, tagErr); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.ARN) })
}

func isNoSuchEntity(err error) bool {
	var nse *types.NoSuchEntityException
	return errors.As(err, &nse)
}

func versions(ctx context.Context, api API, arn string) ([]types.PolicyVersion, error) {
	var out []types.PolicyVersion
	p := iam.NewListPolicyVersionsPaginator(api, &iam.ListPolicyVersionsInput{PolicyArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListPolicyVersions %s: %w", arn, err)
		}
		out = append(out, page.Versions...)
	}
	return out, nil
}

// pruneVersions deletes the oldest non-default version when IAM's limit is reached.
func pruneVersions(ctx context.Context, api API, arn string) error {
	vs, err := versions(ctx, api, arn)
	if err != nil || len(vs) < maxVersions {
		return err
	}
	var oldest *types.PolicyVersion
	for i := range vs {
		v := &vs[i]
		if v.IsDefaultVersion {
			continue
		}
		if oldest == nil || aws.ToTime(v.CreateDate).Before(aws.ToTime(oldest.CreateDate)) {
			oldest = v
		}
	}
	if oldest == nil {
		return nil
	}
	if _, err := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: oldest.VersionId}); err != nil {
		return fmt.Errorf("iam:DeletePolicyVersion %s %s: %w", arn, aws.ToString(oldest.VersionId), err)
	}
	return nil
}

func iamTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// syncTags turns the policy's tags from have into want; created says the
// policy was made moments ago by this Ensure, so that each call is retried
// while IAM does not see it yet.
func syncTags(ctx context.Context, api API, arn string, have, want map[string]string, created bool) error {
	return tags.Apply(have, want, func(keys []string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: &arn, TagKeys: keys})
			return err
		}); err != nil {
			return fmt.Errorf("iam:UntagPolicy %s: %w", arn, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: &arn, Tags: iamTags(set)})
			return err
		}); err != nil {
			return fmt.Errorf("iam:TagPolicy %s: %w", arn, err)
		}
		return nil
	})
}

// Delete removes every non-default version and then the policy; a policy
// already gone counts as deleted. IAM refuses to delete an attached policy:
// the error says to detach it first.
func Delete(ctx context.Context, api API, arn string) error {
	vs, err := versions(ctx, api, arn)
	if isNoSuchEntity(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.IsDefaultVersion {
			continue
		}
		if _, err := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: v.VersionId}); err != nil && !isNoSuchEntity(err) {
			return fmt.Errorf("iam:DeletePolicyVersion %s %s: %w", arn, aws.ToString(v.VersionId), err)
		}
	}
	_, err = api.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &arn})
	var conflict *types.DeleteConflictException
	switch {
	case err == nil, isNoSuchEntity(err):
		return nil
	case errors.As(err, &conflict):
		return fmt.Errorf("IAM policy %s is still attached to users, groups or roles; detach it before removing its environment: %w", arn, err)
	default:
		return fmt.Errorf("iam:DeletePolicy %s: %w", arn, err)
	}
}

// EnvironmentFromName recovers the environment of a policy name of a backend.
func EnvironmentFromName(backend, policyName string) (string, bool) {
	return naming.EnvironmentFromPolicy(backend, policyName)
}

// ListEnvironments finds the environments whose policies exist for a backend,
// for import.
func ListEnvironments(ctx context.Context, api interface {
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
}, backend string) ([]string, error) {
	var envs []string
	p := iam.NewListPoliciesPaginator(api, &iam.ListPoliciesInput{PathPrefix: aws.String(naming.PolicyPath), Scope: types.PolicyScopeTypeLocal})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListPolicies %s: %w", naming.PolicyPath, err)
		}
		for _, pol := range page.Policies {
			if env, ok := EnvironmentFromName(backend, aws.ToString(pol.PolicyName)); ok {
				envs = append(envs, env)
			}
		}
	}
	slices.Sort(envs)
	return envs, nil
}
