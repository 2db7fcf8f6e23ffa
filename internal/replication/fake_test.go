package replication

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// apiError is the error a service answers with code and message: the SDK's
// typed error where IAM has one, as the SDK's deserializer returns it.
func apiError(code, msg string) error {
	m := aws.String(msg)
	switch code {
	case "NoSuchEntity":
		return &iamtypes.NoSuchEntityException{Message: m}
	case "EntityAlreadyExists":
		return &iamtypes.EntityAlreadyExistsException{Message: m}
	case "DeleteConflict":
		return &iamtypes.DeleteConflictException{Message: m}
	}
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// calls records the operations a fake was called with and fails them on
// demand. Both fakes are called concurrently (FindRole reads at once).
type calls struct {
	mu sync.Mutex
	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds); always the error every call returns once those are
	// used up.
	fail   map[string][]error
	always map[string]error
	log    []string
}

func newCalls() calls { return calls{fail: map[string][]error{}, always: map[string]error{}} }

// call records op and returns the error it is to fail with; mu is held.
func (c *calls) call(op string) error {
	c.log = append(c.log, op)
	if q := c.fail[op]; len(q) > 0 {
		c.fail[op] = q[1:]
		return q[0]
	}
	return c.always[op]
}

func (c *calls) ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

func (c *calls) count(op string) int {
	n := 0
	for _, o := range c.ops() {
		if o == op {
			n++
		}
	}
	return n
}

func (c *calls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = nil
}

// fakeIAM is an in-memory IAM holding roles with their inline policies and
// tags, recording every write's input.
type fakeIAM struct {
	calls
	roles map[string]*fakeRole
	// dropCreateTags: CreateRole keeps no tag, as a service (or an emulator)
	// that ignores tags on create would. lostCreate: CreateRole makes the role
	// and answers with this error (a reply lost on the way back).
	dropCreateTags bool
	lostCreate     error
	// pageSize > 0 splits ListRolePolicies into pages.
	pageSize int

	created  []*iam.CreateRoleInput
	trusts   []*iam.UpdateAssumeRolePolicyInput
	policies []*iam.PutRolePolicyInput
	tagged   []*iam.TagRoleInput
	untagged []*iam.UntagRoleInput
	deleted  []string // "role" or "role/policy"
}

type fakeRole struct {
	role     iamtypes.Role
	policies map[string]string
}

var _ IAMAPI = (*fakeIAM)(nil)

func newFakeIAM() *fakeIAM { return &fakeIAM{calls: newCalls(), roles: map[string]*fakeRole{}} }

// addRole stores a role; policy "" leaves it without the inline policy.
func (f *fakeIAM) addRole(name, path, trust, policy string, tags map[string]string) {
	r := &fakeRole{role: iamtypes.Role{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
		Arn: aws.String("arn:aws:iam::123456789012:role" + path + name), Tags: iamTags(tags)}, policies: map[string]string{}}
	if policy != "" {
		r.policies[RolePolicyName] = policy
	}
	f.roles[name] = r
}

func (f *fakeIAM) role(name *string) (*fakeRole, error) {
	r, ok := f.roles[aws.ToString(name)]
	if !ok {
		return nil, apiError("NoSuchEntity", "The role with name "+aws.ToString(name)+" cannot be found.")
	}
	return r, nil
}

func (f *fakeIAM) writes() []string {
	var out []string
	for _, op := range f.ops() {
		if op != "GetRole" && op != "GetRolePolicy" && op != "ListRolePolicies" {
			out = append(out, op)
		}
	}
	return out
}

func (f *fakeIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateRole"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	if _, ok := f.roles[aws.ToString(in.RoleName)]; ok {
		return nil, apiError("EntityAlreadyExists", "Role with name "+aws.ToString(in.RoleName)+" already exists.")
	}
	r := &fakeRole{role: iamtypes.Role{RoleName: in.RoleName, Path: in.Path, AssumeRolePolicyDocument: in.AssumeRolePolicyDocument,
		Arn: aws.String("arn:aws:iam::123456789012:role" + aws.ToString(in.Path) + aws.ToString(in.RoleName)), Tags: in.Tags}, policies: map[string]string{}}
	if f.dropCreateTags {
		r.role.Tags = nil
	}
	f.roles[aws.ToString(in.RoleName)] = r
	if f.lostCreate != nil {
		err := f.lostCreate
		f.lostCreate = nil
		return nil, err
	}
	role := r.role
	return &iam.CreateRoleOutput{Role: &role}, nil
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetRole"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	role := r.role
	role.Tags = slices.Clone(r.role.Tags)
	return &iam.GetRoleOutput{Role: &role}, nil
}

func (f *fakeIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteRole"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if len(r.policies) > 0 {
		return nil, apiError("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(f.roles, aws.ToString(in.RoleName))
	f.deleted = append(f.deleted, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

func (f *fakeIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateAssumeRolePolicy"); err != nil {
		return nil, err
	}
	f.trusts = append(f.trusts, in)
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.role.AssumeRolePolicyDocument = in.PolicyDocument
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (f *fakeIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutRolePolicy"); err != nil {
		return nil, err
	}
	f.policies = append(f.policies, in)
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.policies[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *fakeIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetRolePolicy"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, ok := r.policies[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, apiError("NoSuchEntity", "The role policy cannot be found.")
	}
	return &iam.GetRolePolicyOutput{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: aws.String(doc)}, nil
}

func (f *fakeIAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListRolePolicies"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(r.policies))
	start := 0
	if in.Marker != nil {
		start = slices.Index(names, aws.ToString(in.Marker))
	}
	names = names[start:]
	out := &iam.ListRolePoliciesOutput{PolicyNames: names}
	if f.pageSize > 0 && len(names) > f.pageSize {
		out.PolicyNames, out.IsTruncated, out.Marker = names[:f.pageSize], true, aws.String(names[f.pageSize])
	}
	return out, nil
}

func (f *fakeIAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteRolePolicy"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, ok := r.policies[aws.ToString(in.PolicyName)]; !ok {
		return nil, apiError("NoSuchEntity", "The role policy cannot be found.")
	}
	delete(r.policies, aws.ToString(in.PolicyName))
	f.deleted = append(f.deleted, aws.ToString(in.RoleName)+"/"+aws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeIAM) TagRole(_ context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagRole"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	have := tagMap(r.role.Tags)
	for _, t := range in.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	r.role.Tags = iamTags(have)
	return &iam.TagRoleOutput{}, nil
}

func (f *fakeIAM) UntagRole(_ context.Context, in *iam.UntagRoleInput, _ ...func(*iam.Options)) (*iam.UntagRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagRole"); err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, in)
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	have := tagMap(r.role.Tags)
	for _, k := range in.TagKeys {
		delete(have, k)
	}
	r.role.Tags = iamTags(have)
	return &iam.UntagRoleOutput{}, nil
}

func tagMap(ts []iamtypes.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range ts {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// fakeS3 is an in-memory S3 holding buckets' replication configurations,
// recording every PutBucketReplication input.
type fakeS3 struct {
	calls
	configs map[string]*types.ReplicationConfiguration
	puts    []*s3.PutBucketReplicationInput
}

var _ S3API = (*fakeS3)(nil)

func newFakeS3() *fakeS3 {
	return &fakeS3{calls: newCalls(), configs: map[string]*types.ReplicationConfiguration{}}
}

func (f *fakeS3) PutBucketReplication(_ context.Context, in *s3.PutBucketReplicationInput, _ ...func(*s3.Options)) (*s3.PutBucketReplicationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketReplication"); err != nil {
		return nil, err
	}
	f.puts = append(f.puts, in)
	f.configs[aws.ToString(in.Bucket)] = in.ReplicationConfiguration
	return &s3.PutBucketReplicationOutput{}, nil
}

func (f *fakeS3) GetBucketReplication(_ context.Context, in *s3.GetBucketReplicationInput, _ ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketReplication"); err != nil {
		return nil, err
	}
	c, ok := f.configs[aws.ToString(in.Bucket)]
	if !ok {
		return nil, apiError("ReplicationConfigurationNotFoundError", "The replication configuration was not found")
	}
	return &s3.GetBucketReplicationOutput{ReplicationConfiguration: c}, nil
}

func (f *fakeS3) DeleteBucketReplication(_ context.Context, in *s3.DeleteBucketReplicationInput, _ ...func(*s3.Options)) (*s3.DeleteBucketReplicationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteBucketReplication"); err != nil {
		return nil, err
	}
	delete(f.configs, aws.ToString(in.Bucket))
	return &s3.DeleteBucketReplicationOutput{}, nil
}
