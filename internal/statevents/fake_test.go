package statevents

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// fakeEvents is an in-memory EventBridge default bus, recording the calls and
// the inputs of every write. It answers as EventBridge does where it matters:
// a rule that has targets cannot be deleted, deleting a missing rule
// succeeds, the target calls and the tag calls on a missing rule answer
// ResourceNotFoundException, and PutRule on an existing rule leaves its tags.
type fakeEvents struct {
	mu sync.Mutex // Find and Ensure call concurrently

	rules map[string]*fakeRule

	// dropCreateTags: PutRule accepts tags and keeps none, as a service (or
	// an emulator) that ignores tags on create would.
	dropCreateTags bool
	// pageSize bounds the targets ListTargetsByRule returns per page (0: all).
	pageSize int

	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds); always, the error every call returns once those are
	// used up.
	fail   map[string][]error
	always map[string]error
	// failEntries holds, per operation (PutTargets, RemoveTargets), the
	// error code its next call reports for every entry, in a 200 answer.
	failEntries map[string]string

	calls    []string
	rulesPut []*eventbridge.PutRuleInput
	put      []*eventbridge.PutTargetsInput
	removed  []*eventbridge.RemoveTargetsInput
	tagged   []*eventbridge.TagResourceInput
	untagged []*eventbridge.UntagResourceInput
}

type fakeRule struct {
	rule    eventbridge.DescribeRuleOutput
	targets []types.Target // in the order they were put
	tags    map[string]string
}

var _ API = (*fakeEvents)(nil)

func newFake() *fakeEvents {
	return &fakeEvents{rules: map[string]*fakeRule{}, fail: map[string][]error{}, always: map[string]error{}, failEntries: map[string]string{}}
}

func ruleARN(name string) string { return "arn:aws:events:us-east-1:123456789012:rule/" + name }

// apiError is the error EventBridge answers with code: the SDK's typed error
// where EventBridge has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	if code == "ResourceNotFoundException" {
		return &types.ResourceNotFoundException{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

func (f *fakeEvents) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeEvents) count(op string) int {
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

// writes lists the calls that change something, in order.
func (f *fakeEvents) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Describe") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeEvents) get(name *string) (*fakeRule, error) {
	r, ok := f.rules[aws.ToString(name)]
	if !ok {
		return nil, apiError("ResourceNotFoundException")
	}
	return r, nil
}

func (f *fakeEvents) byARN(arn *string) (*fakeRule, error) {
	for _, r := range f.rules {
		if aws.ToString(r.rule.Arn) == aws.ToString(arn) {
			return r, nil
		}
	}
	return nil, apiError("ResourceNotFoundException")
}

func (f *fakeEvents) PutRule(_ context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutRule"); err != nil {
		return nil, err
	}
	f.rulesPut = append(f.rulesPut, in)
	name := aws.ToString(in.Name)
	r, ok := f.rules[name]
	if !ok {
		r = &fakeRule{tags: map[string]string{}}
		if !f.dropCreateTags {
			for _, t := range in.Tags {
				r.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		f.rules[name] = r
	}
	state := in.State
	if state == "" {
		state = types.RuleStateEnabled
	}
	r.rule = eventbridge.DescribeRuleOutput{Name: in.Name, Arn: aws.String(ruleARN(name)), EventPattern: in.EventPattern, State: state,
		Description: in.Description, EventBusName: aws.String("default")}
	return &eventbridge.PutRuleOutput{RuleArn: aws.String(ruleARN(name))}, nil
}

func (f *fakeEvents) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeRule"); err != nil {
		return nil, err
	}
	r, err := f.get(in.Name)
	if err != nil {
		return nil, err
	}
	out := r.rule
	return &out, nil
}

func (f *fakeEvents) DeleteRule(_ context.Context, in *eventbridge.DeleteRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteRule"); err != nil {
		return nil, err
	}
	r, ok := f.rules[aws.ToString(in.Name)]
	if !ok {
		return &eventbridge.DeleteRuleOutput{}, nil
	}
	if len(r.targets) > 0 {
		return nil, apiError("ValidationException")
	}
	delete(f.rules, aws.ToString(in.Name))
	return &eventbridge.DeleteRuleOutput{}, nil
}

func (f *fakeEvents) PutTargets(_ context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutTargets"); err != nil {
		return nil, err
	}
	f.put = append(f.put, in)
	r, err := f.get(in.Rule)
	if err != nil {
		return nil, err
	}
	out := &eventbridge.PutTargetsOutput{}
	if code := f.failEntries["PutTargets"]; code != "" {
		delete(f.failEntries, "PutTargets")
		for _, t := range in.Targets {
			out.FailedEntries = append(out.FailedEntries, types.PutTargetsResultEntry{TargetId: t.Id, ErrorCode: aws.String(code), ErrorMessage: aws.String("refused (fake)")})
		}
		out.FailedEntryCount = int32(len(out.FailedEntries))
		return out, nil
	}
	for _, t := range in.Targets {
		r.targets = slices.DeleteFunc(r.targets, func(have types.Target) bool { return aws.ToString(have.Id) == aws.ToString(t.Id) })
		r.targets = append(r.targets, t)
	}
	return out, nil
}

func (f *fakeEvents) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTargetsByRule"); err != nil {
		return nil, err
	}
	r, err := f.get(in.Rule)
	if err != nil {
		return nil, err
	}
	start := 0
	if in.NextToken != nil {
		start = len(aws.ToString(in.NextToken)) // the token is as many dots as targets already listed
	}
	end := len(r.targets)
	if f.pageSize > 0 {
		end = min(end, start+f.pageSize)
	}
	out := &eventbridge.ListTargetsByRuleOutput{Targets: slices.Clone(r.targets[start:end])}
	if end < len(r.targets) {
		out.NextToken = aws.String(strings.Repeat(".", end))
	}
	return out, nil
}

func (f *fakeEvents) RemoveTargets(_ context.Context, in *eventbridge.RemoveTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RemoveTargets"); err != nil {
		return nil, err
	}
	f.removed = append(f.removed, in)
	r, err := f.get(in.Rule)
	if err != nil {
		return nil, err
	}
	out := &eventbridge.RemoveTargetsOutput{}
	if code := f.failEntries["RemoveTargets"]; code != "" {
		delete(f.failEntries, "RemoveTargets")
		for _, id := range in.Ids {
			out.FailedEntries = append(out.FailedEntries, types.RemoveTargetsResultEntry{TargetId: aws.String(id), ErrorCode: aws.String(code), ErrorMessage: aws.String("refused (fake)")})
		}
		out.FailedEntryCount = int32(len(out.FailedEntries))
		return out, nil
	}
	r.targets = slices.DeleteFunc(r.targets, func(t types.Target) bool { return slices.Contains(in.Ids, aws.ToString(t.Id)) })
	return out, nil
}

func (f *fakeEvents) ListTagsForResource(_ context.Context, in *eventbridge.ListTagsForResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTagsForResource"); err != nil {
		return nil, err
	}
	r, err := f.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	out := &eventbridge.ListTagsForResourceOutput{}
	for _, k := range slices.Sorted(maps.Keys(r.tags)) {
		out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(r.tags[k])})
	}
	return out, nil
}

func (f *fakeEvents) TagResource(_ context.Context, in *eventbridge.TagResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagResource"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	r, err := f.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		r.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &eventbridge.TagResourceOutput{}, nil
}

func (f *fakeEvents) UntagResource(_ context.Context, in *eventbridge.UntagResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.UntagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagResource"); err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, in)
	r, err := f.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.tags, k)
	}
	return &eventbridge.UntagResourceOutput{}, nil
}
