package accesspolicy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// fakeIAM is an in-memory IAM holding managed policies with their versions
// and tags, recording the calls and the inputs of every write.
type fakeIAM struct {
	mu sync.Mutex // the finders call concurrently

	policies map[string]*fakePolicy // by ARN
	// pageSize > 0 splits ListPolicyVersions and ListPolicies into pages.
	pageSize int
	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds). lost holds errors CreatePolicy returns after making the
	// policy anyway.
	fail map[string][]error
	lost []error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a policy IAM never sees.
	always map[string]error
	// dropCreateTags: CreatePolicy accepts tags and keeps none, as a service
	// (or an emulator) that ignores tags on create would.
	dropCreateTags bool

	calls          []string
	created        []*iam.CreatePolicyInput
	newVersions    []*iam.CreatePolicyVersionInput
	deletedVersion []string // "ARN version"
	tagged         []*iam.TagPolicyInput
	untagged       []*iam.UntagPolicyInput
	listed         []*iam.ListPoliciesInput
}

type fakePolicy struct {
	name, path     string
	versions       []types.PolicyVersion // Document set
	defaultVersion string
	next           int // number of the next version
	// deleted are versions still listed that are gone (a concurrent delete).
	deleted []types.PolicyVersion
	tags    map[string]string
}

var _ API = (*fakeIAM)(nil)

func newFake() *fakeIAM {
	return &fakeIAM{policies: map[string]*fakePolicy{}, fail: map[string][]error{}, always: map[string]error{}}
}

// apiError is the error IAM answers with code: the SDK's typed error where
// IAM has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "NoSuchEntity":
		return &types.NoSuchEntityException{Message: msg}
	case "EntityAlreadyExists":
		return &types.EntityAlreadyExistsException{Message: msg}
	case "DeleteConflict":
		return &types.DeleteConflictException{Message: msg}
	case "LimitExceeded":
		return &types.LimitExceededException{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

func (f *fakeIAM) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeIAM) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

func (f *fakeIAM) get(arn string) (*fakePolicy, error) {
	p, ok := f.policies[arn]
	if !ok {
		return nil, apiError("NoSuchEntity")
	}
	return p, nil
}

// add stores a policy with one version per document (the last is the
// default), versions a day apart; it returns its ARN.
func (f *fakeIAM) add(name string, tags map[string]string, documents ...string) string {
	arn := ARN("aws", "123456789012", name)
	p := &fakePolicy{name: name, path: "/securestate/", next: 1, tags: map[string]string{}}
	for k, v := range tags {
		p.tags[k] = v
	}
	for i, d := range documents {
		p.addVersion(d, time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC))
	}
	f.policies[arn] = p
	return arn
}

func (p *fakePolicy) addVersion(document string, created time.Time) string {
	id := fmt.Sprintf("v%d", p.next)
	p.next++
	p.versions = append(p.versions, types.PolicyVersion{VersionId: aws.String(id), Document: aws.String(document), CreateDate: aws.Time(created)})
	p.setDefault(id)
	return id
}

func (p *fakePolicy) setDefault(id string) {
	p.defaultVersion = id
	for i := range p.versions {
		p.versions[i].IsDefaultVersion = aws.ToString(p.versions[i].VersionId) == id
	}
}

func (p *fakePolicy) versionIDs() []string {
	var out []string
	for _, v := range p.versions {
		out = append(out, aws.ToString(v.VersionId))
	}
	return out
}

func (f *fakeIAM) CreatePolicy(_ context.Context, in *iam.CreatePolicyInput, _ ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreatePolicy"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	arn := "arn:aws:iam::123456789012:policy" + aws.ToString(in.Path) + aws.ToString(in.PolicyName)
	if _, ok := f.policies[arn]; ok {
		return nil, apiError("EntityAlreadyExists")
	}
	p := &fakePolicy{name: aws.ToString(in.PolicyName), path: aws.ToString(in.Path), next: 1, tags: map[string]string{}}
	p.addVersion(aws.ToString(in.PolicyDocument), time.Now())
	for _, t := range in.Tags {
		if !f.dropCreateTags {
			p.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	f.policies[arn] = p
	if len(f.lost) > 0 {
		err := f.lost[0]
		f.lost = f.lost[1:]
		return nil, err
	}
	return &iam.CreatePolicyOutput{Policy: &types.Policy{Arn: aws.String(arn), PolicyName: in.PolicyName, DefaultVersionId: aws.String(p.defaultVersion)}}, nil
}

func (f *fakeIAM) GetPolicy(_ context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetPolicy"); err != nil {
		return nil, err
	}
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	return &iam.GetPolicyOutput{Policy: &types.Policy{Arn: in.PolicyArn, PolicyName: aws.String(p.name), DefaultVersionId: aws.String(p.defaultVersion)}}, nil
}

func (f *fakeIAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetPolicyVersion"); err != nil {
		return nil, err
	}
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	for _, v := range p.versions {
		if aws.ToString(v.VersionId) == aws.ToString(in.VersionId) {
			return &iam.GetPolicyVersionOutput{PolicyVersion: &v}, nil
		}
	}
	return nil, apiError("NoSuchEntity")
}

func (f *fakeIAM) CreatePolicyVersion(_ context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreatePolicyVersion"); err != nil {
		return nil, err
	}
	f.newVersions = append(f.newVersions, in)
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	if len(p.versions) >= maxVersions {
		return nil, apiError("LimitExceeded")
	}
	def := p.defaultVersion
	id := p.addVersion(aws.ToString(in.PolicyDocument), time.Now())
	if !in.SetAsDefault {
		p.setDefault(def)
	}
	return &iam.CreatePolicyVersionOutput{PolicyVersion: &types.PolicyVersion{VersionId: aws.String(id)}}, nil
}

func (f *fakeIAM) ListPolicyVersions(_ context.Context, in *iam.ListPolicyVersionsInput, _ ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListPolicyVersions"); err != nil {
		return nil, err
	}
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	out := &iam.ListPolicyVersionsOutput{}
	out.Versions, out.IsTruncated, out.Marker = page(append(slices.Clone(p.deleted), p.versions...), f.pageSize, in.Marker)
	return out, nil
}

// page returns the page of items after marker (an index) and the next marker.
func page[T any](items []T, size int, marker *string) ([]T, bool, *string) {
	start := 0
	if marker != nil {
		_, _ = fmt.Sscan(*marker, &start)
	}
	if size <= 0 || start+size >= len(items) {
		return items[start:], false, nil
	}
	return items[start : start+size], true, aws.String(fmt.Sprint(start + size))
}

func (f *fakeIAM) DeletePolicyVersion(_ context.Context, in *iam.DeletePolicyVersionInput, _ ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeletePolicyVersion"); err != nil {
		return nil, err
	}
	f.deletedVersion = append(f.deletedVersion, aws.ToString(in.PolicyArn)+" "+aws.ToString(in.VersionId))
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	for i, v := range p.versions {
		if aws.ToString(v.VersionId) != aws.ToString(in.VersionId) {
			continue
		}
		if v.IsDefaultVersion {
			return nil, apiError("DeleteConflict")
		}
		p.versions = append(p.versions[:i], p.versions[i+1:]...)
		return &iam.DeletePolicyVersionOutput{}, nil
	}
	return nil, apiError("NoSuchEntity")
}

func (f *fakeIAM) DeletePolicy(_ context.Context, in *iam.DeletePolicyInput, _ ...func(*iam.Options)) (*iam.DeletePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeletePolicy"); err != nil {
		return nil, err
	}
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	if len(p.versions) > 1 {
		return nil, apiError("DeleteConflict")
	}
	delete(f.policies, aws.ToString(in.PolicyArn))
	return &iam.DeletePolicyOutput{}, nil
}

func (f *fakeIAM) ListPolicyTags(_ context.Context, in *iam.ListPolicyTagsInput, _ ...func(*iam.Options)) (*iam.ListPolicyTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListPolicyTags"); err != nil {
		return nil, err
	}
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	out := &iam.ListPolicyTagsOutput{}
	for k, v := range p.tags {
		out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeIAM) TagPolicy(_ context.Context, in *iam.TagPolicyInput, _ ...func(*iam.Options)) (*iam.TagPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagPolicy"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		p.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &iam.TagPolicyOutput{}, nil
}

func (f *fakeIAM) UntagPolicy(_ context.Context, in *iam.UntagPolicyInput, _ ...func(*iam.Options)) (*iam.UntagPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagPolicy"); err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, in)
	p, err := f.get(aws.ToString(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(p.tags, k)
	}
	return &iam.UntagPolicyOutput{}, nil
}

// ListPolicies lists the local policies under the path prefix asked for, in
// ARN order.
func (f *fakeIAM) ListPolicies(_ context.Context, in *iam.ListPoliciesInput, _ ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListPolicies"); err != nil {
		return nil, err
	}
	f.listed = append(f.listed, in)
	var all []types.Policy
	for _, arn := range slices.Sorted(maps.Keys(f.policies)) {
		if p := f.policies[arn]; strings.HasPrefix(p.path, aws.ToString(in.PathPrefix)) {
			all = append(all, types.Policy{Arn: aws.String(arn), PolicyName: aws.String(p.name), Path: aws.String(p.path)})
		}
	}
	out := &iam.ListPoliciesOutput{}
	out.Policies, out.IsTruncated, out.Marker = page(all, f.pageSize, in.Marker)
	return out, nil
}

// writes lists the calls that change something, in order.
func (f *fakeIAM) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}
