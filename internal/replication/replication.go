// Package replication manages the state bucket's cross-region replication:
// the IAM role S3 assumes to replicate (its trust and its one inline policy,
// both written by internal/policies), and the state bucket's one replication
// rule, which copies every state version and delete marker to the replica
// bucket, re-encrypted with the replica key. The replica bucket and key are
// internal/statebucket's and internal/kmskey's, with a client of the replica
// region.
package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// Controls named in drift reports.
const (
	ControlRole = "replication_role"
	ControlRule = "replication_rule"
)

// RolePolicyName is the name of the role's one inline policy.
const RolePolicyName = "replicate-state-bucket"

// IAMAPI is the part of the IAM client this package uses.
type IAMAPI interface {
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	UntagRole(context.Context, *iam.UntagRoleInput, ...func(*iam.Options)) (*iam.UntagRoleOutput, error)
}

// Spec is what a backend's replication needs.
type Spec struct {
	Backend, Partition, AccountID string
	// Bucket and Region are the state bucket and its region.
	Bucket, Region string
	// ReplicaBucket, ReplicaRegion and ReplicaKeyARN are the replica bucket,
	// its region and the key its replicas are encrypted with.
	ReplicaBucket, ReplicaRegion, ReplicaKeyARN string
	// RoleName is naming.ReplicationRole(backend); the role lives under
	// naming.PolicyPath.
	RoleName string
	// Metrics turns on replication metrics (the replication failure alarm
	// needs them); TimeControl turns on S3 Replication Time Control (15
	// minutes), which needs the metrics and turns them on too.
	Metrics     bool
	TimeControl bool
	// TrustPolicy and RolePolicy are the role's documents
	// (policies.ReplicationTrustPolicy and policies.ReplicationRolePolicy).
	TrustPolicy, RolePolicy policydoc.Document
	// Tags are every tag of the role, the ownership tag among them.
	Tags map[string]string
}

// RoleARN is the replication role's ARN.
func (s Spec) RoleARN() string {
	return arn.ARN{Partition: s.Partition, Service: "iam", AccountID: s.AccountID, Resource: "role" + naming.PolicyPath + s.RoleName}.String()
}

// ReplicaBucketARN is the replica bucket's ARN, the rule's destination.
func (s Spec) ReplicaBucketARN() string {
	return arn.ARN{Partition: s.Partition, Service: "s3", Resource: s.ReplicaBucket}.String()
}

// Role is the replication role as IAM reports it.
type Role struct {
	ARN    string
	Path   string
	Trust  string // the trust policy (IAM returns it percent-encoded)
	Policy string // the inline policy RolePolicyName; "" without it
	// Extra are the role's other inline policies: permissions someone
	// added to a role S3 assumes, drift that Ensure deletes.
	Extra []string
	Tags  map[string]string
}

func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

// FindRole reads the role and its inline policy at once (one round trip); a
// missing role is awserr.ErrNotFound, whatever else failed, and every other
// failure is reported.
func FindRole(ctx context.Context, api IAMAPI, name string) (*Role, error) {
	var (
		wg                      sync.WaitGroup
		r                       *iam.GetRoleOutput
		p                       *iam.GetRolePolicyOutput
		names                   []string
		getErr, polErr, listErr error
	)
	wg.Go(func() { r, getErr = api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)}) })
	wg.Go(func() {
		p, polErr = api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RolePolicyName)})
	})
	wg.Go(func() { names, listErr = inlinePolicies(ctx, api, name) })
	wg.Wait()
	if isNoSuchEntity(getErr) {
		return nil, awserr.NotFound("IAM role %s", name)
	}
	if getErr != nil {
		getErr = fmt.Errorf("iam:GetRole %s: %w", name, getErr)
	}
	if isNoSuchEntity(polErr) {
		// The role without its policy: drift, repaired by EnsureRole.
		p, polErr = &iam.GetRolePolicyOutput{}, nil
	} else if polErr != nil {
		polErr = fmt.Errorf("iam:GetRolePolicy %s %s: %w", name, RolePolicyName, polErr)
	}
	if isNoSuchEntity(listErr) {
		listErr = nil
	}
	if err := errors.Join(getErr, polErr, listErr); err != nil {
		return nil, err
	}
	o := &Role{ARN: aws.ToString(r.Role.Arn), Path: aws.ToString(r.Role.Path), Trust: aws.ToString(r.Role.AssumeRolePolicyDocument),
		Policy: aws.ToString(p.PolicyDocument), Tags: map[string]string{}}
	for _, n := range names {
		if n != RolePolicyName {
			o.Extra = append(o.Extra, n)
		}
	}
	for _, t := range r.Role.Tags {
		o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return o, nil
}

// CheckRole refuses to adopt a role that does not carry the backend's
// ownership tag. It reads nothing.
func CheckRole(spec Spec, o *Role) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("IAM role %s already exists and was not created by this backend (no %s=%s tag); rename or delete it",
		spec.RoleName, naming.OwnerTagKey, spec.Backend)
}

// RoleDrift compares the role with the spec: "" when compliant, else every
// problem. Tags are compared by the caller, as for every component.
func RoleDrift(spec Spec, o *Role) string {
	if o == nil {
		return "the replication role " + spec.RoleName + " is missing"
	}
	var problems []string
	if o.Path != naming.PolicyPath {
		problems = append(problems, fmt.Sprintf("the role's path is %q, not %q (IAM cannot move a role: it is made again)", o.Path, naming.PolicyPath))
	}
	if ok, _ := policydoc.Equivalent(o.Trust, spec.TrustPolicy.String()); !ok {
		problems = append(problems, "the role's trust policy differs (only S3 may assume it, to replicate "+spec.Bucket+")")
	}
	switch ok, _ := policydoc.Equivalent(o.Policy, spec.RolePolicy.String()); {
	case o.Policy == "":
		problems = append(problems, "the role's permissions policy "+RolePolicyName+" is missing")
	case !ok:
		problems = append(problems, "the role's permissions differ from what replication needs")
	}
	if len(o.Extra) > 0 {
		problems = append(problems, "the role has other inline policies: "+strings.Join(o.Extra, ", "))
	}
	return strings.Join(problems, "; ")
}

// EnsureRole makes the role match the spec, starting from have, what
// FindRole observed (nil: the role does not exist; it is created with its
// trust policy and tags in the CreateRole request, as an organisation may
// deny creating an untagged role). Without tracked (the role is not in state
// yet) a role without the ownership tag is refused before anything is
// written. A role under another path is deleted and made again (IAM cannot
// change a role's path). The trust policy, the inline policy and the tags are
// written concurrently, each only when it differs; writes to a role made
// moments ago are retried while IAM does not see it yet. The result is one
// FindRole after the writes; a role whose tags it shows missing (a service
// that ignores tags on create) is tagged and read again.
func EnsureRole(ctx context.Context, api IAMAPI, spec Spec, have *Role, tracked bool) (*Role, error) {
	if have != nil && !tracked {
		if err := CheckRole(spec, have); err != nil {
			return nil, err
		}
	}
	if have != nil && have.Path != naming.PolicyPath {
		if err := DeleteRole(ctx, api, spec.RoleName); err != nil {
			return nil, err
		}
		have = nil
	}
	created := false
	if have == nil {
		found, err := createRole(ctx, api, spec)
		switch {
		case err != nil:
			return nil, err
		case found != nil:
			// The SDK's retry of a create whose reply was lost, or a role
			// made meanwhile: adopted only with the ownership tag.
			if !tracked {
				if err := CheckRole(spec, found); err != nil {
					return nil, err
				}
			}
			if found.Path != naming.PolicyPath {
				return nil, fmt.Errorf("IAM role %s was made meanwhile under path %q, not %q; delete it", spec.RoleName, found.Path, naming.PolicyPath)
			}
			have = found
		default:
			created = true
			have = &Role{Path: naming.PolicyPath, Trust: spec.TrustPolicy.String(), Tags: spec.Tags}
		}
	}
	role := aws.String(spec.RoleName)
	var (
		wg                        sync.WaitGroup
		trustErr, policyErr, tErr error
	)
	if ok, _ := policydoc.Equivalent(have.Trust, spec.TrustPolicy.String()); !ok {
		wg.Go(func() {
			if _, err := api.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: role, PolicyDocument: aws.String(spec.TrustPolicy.String())}); err != nil {
				trustErr = fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", spec.RoleName, err)
			}
		})
	}
	if ok, _ := policydoc.Equivalent(have.Policy, spec.RolePolicy.String()); !ok || have.Policy == "" {
		wg.Go(func() {
			if err := retry.AfterCreate(ctx, created, func() error {
				_, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String(RolePolicyName), PolicyDocument: aws.String(spec.RolePolicy.String())})
				return err
			}); err != nil {
				policyErr = fmt.Errorf("iam:PutRolePolicy %s: %w", spec.RoleName, err)
			}
		})
	}
	wg.Go(func() { tErr = syncTags(ctx, api, spec, have.Tags, created) })
	extraErrs := make([]error, len(have.Extra))
	for i, n := range have.Extra {
		wg.Go(func() {
			_, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String(n)})
			if err != nil && !isNoSuchEntity(err) {
				extraErrs[i] = fmt.Errorf("iam:DeleteRolePolicy %s %s: %w", spec.RoleName, n, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append([]error{trustErr, policyErr, tErr}, extraErrs...)...); err != nil {
		return nil, err
	}
	o, err := retry.Visible(ctx, func() (*Role, error) { return FindRole(ctx, api, spec.RoleName) })
	if err != nil || !tags.Differ(o.Tags, spec.Tags) {
		return o, err
	}
	if err := syncTags(ctx, api, spec, o.Tags, created); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Role, error) { return FindRole(ctx, api, spec.RoleName) })
}

// createRole creates the role; when it exists already (a lost reply the SDK
// retried, or a role made meanwhile) it returns what FindRole reads of it.
func createRole(ctx context.Context, api IAMAPI, spec Spec) (*Role, error) {
	_, err := api.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(spec.RoleName),
		Path:                     aws.String(naming.PolicyPath),
		AssumeRolePolicyDocument: aws.String(spec.TrustPolicy.String()),
		Description:              aws.String("Lets S3 replicate the state bucket " + spec.Bucket + " of backend " + spec.Backend + " to " + spec.ReplicaBucket + " (managed by securestate)"),
		Tags:                     iamTags(spec.Tags),
	})
	var exists *iamtypes.EntityAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		return retry.Visible(ctx, func() (*Role, error) { return FindRole(ctx, api, spec.RoleName) })
	case err != nil:
		return nil, fmt.Errorf("iam:CreateRole %s: %w", spec.RoleName, err)
	}
	return nil, nil
}

func iamTags(m map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// syncTags turns the role's tags from have into the spec's; created says the
// role was made moments ago, so that each call is retried while IAM does not
// see it yet.
func syncTags(ctx context.Context, api IAMAPI, spec Spec, have map[string]string, created bool) error {
	role := aws.String(spec.RoleName)
	return tags.Apply(have, spec.Tags, func(keys []string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UntagRole(ctx, &iam.UntagRoleInput{RoleName: role, TagKeys: keys})
			return err
		}); err != nil {
			return fmt.Errorf("iam:UntagRole %s: %w", spec.RoleName, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.TagRole(ctx, &iam.TagRoleInput{RoleName: role, Tags: iamTags(set)})
			return err
		}); err != nil {
			return fmt.Errorf("iam:TagRole %s: %w", spec.RoleName, err)
		}
		return nil
	})
}

// DeleteRole removes the role's inline policies (IAM refuses to delete a
// role that has any) and then the role; a role already gone counts as
// deleted.
func DeleteRole(ctx context.Context, api IAMAPI, name string) error {
	names, err := inlinePolicies(ctx, api, name)
	if isNoSuchEntity(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, policy := range names {
		if _, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(policy)}); err != nil && !isNoSuchEntity(err) {
			return fmt.Errorf("iam:DeleteRolePolicy %s %s: %w", name, policy, err)
		}
	}
	_, err = api.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	var conflict *iamtypes.DeleteConflictException
	switch {
	case err == nil, isNoSuchEntity(err):
		return nil
	case errors.As(err, &conflict):
		return fmt.Errorf("IAM role %s still has managed policies attached (or is in an instance profile); detach them before removing replication: %w", name, err)
	default:
		return fmt.Errorf("iam:DeleteRole %s: %w", name, err)
	}
}

// inlinePolicies lists the names of a role's inline policies (a missing
// role is NoSuchEntity, unwrapped).
func inlinePolicies(ctx context.Context, api IAMAPI, name string) ([]string, error) {
	var names []string
	p := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchEntity(err) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("iam:ListRolePolicies %s: %w", name, err)
		}
		names = append(names, page.PolicyNames...)
	}
	return names, nil
}
