package audittrail

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
)

// fakeCloudTrail is an in-memory CloudTrail holding at most one trail,
// recording the calls and the inputs of every write.
type fakeCloudTrail struct {
	mu sync.Mutex // the finders call concurrently

	trail *fakeTrail // nil: no trail

	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds).
	fail map[string][]error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a trail CloudTrail never sees.
	always map[string]error
	// dropCreateTags: CreateTrail accepts tags and keeps none, as a service
	// (or an emulator) that ignores tags on create would.
	dropCreateTags bool

	calls     []string
	created   []*cloudtrail.CreateTrailInput
	updated   []*cloudtrail.UpdateTrailInput
	selectors []*cloudtrail.PutEventSelectorsInput
	started   int
	added     []*cloudtrail.AddTagsInput
	removed   []*cloudtrail.RemoveTagsInput
}

type fakeTrail struct {
	trail     types.Trail
	logging   bool
	selectors []types.EventSelector
	tags      map[string]string
}

var _ API = (*fakeCloudTrail)(nil)

func newFake() *fakeCloudTrail {
	return &fakeCloudTrail{fail: map[string][]error{}, always: map[string]error{}}
}

// apiError is the error CloudTrail answers with code: the SDK's typed error
// where CloudTrail has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "TrailNotFoundException":
		return &types.TrailNotFoundException{Message: msg}
	case "TrailAlreadyExistsException":
		return &types.TrailAlreadyExistsException{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

func (f *fakeCloudTrail) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeCloudTrail) count(op string) int {
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

func (f *fakeCloudTrail) get(name *string) (*fakeTrail, error) {
	if f.trail == nil || aws.ToString(f.trail.trail.Name) != aws.ToString(name) && aws.ToString(f.trail.trail.TrailARN) != aws.ToString(name) {
		return nil, apiError("TrailNotFoundException")
	}
	return f.trail, nil
}

// writes lists the calls that change something, in order.
func (f *fakeCloudTrail) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

// set applies the fields of a create or update that are given; an empty
// string clears CloudWatch Logs delivery, as CloudTrail does.
func set(t *types.Trail, bucket, prefix, key *string, validation *bool, group, role *string) {
	if bucket != nil {
		t.S3BucketName = bucket
	}
	if prefix != nil {
		t.S3KeyPrefix = prefix
	}
	if key != nil {
		t.KmsKeyId = key
	}
	if validation != nil {
		t.LogFileValidationEnabled = validation
	}
	if group != nil {
		t.CloudWatchLogsLogGroupArn = group
		if *group == "" {
			t.CloudWatchLogsLogGroupArn = nil
		}
	}
	if role != nil {
		t.CloudWatchLogsRoleArn = role
		if *role == "" {
			t.CloudWatchLogsRoleArn = nil
		}
	}
}

func (f *fakeCloudTrail) CreateTrail(_ context.Context, in *cloudtrail.CreateTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateTrail"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	if f.trail != nil {
		return nil, apiError("TrailAlreadyExistsException")
	}
	t := &fakeTrail{trail: types.Trail{Name: in.Name, TrailARN: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:trail/" + aws.ToString(in.Name))}, tags: map[string]string{}}
	set(&t.trail, in.S3BucketName, in.S3KeyPrefix, in.KmsKeyId, in.EnableLogFileValidation, in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn)
	for _, tg := range in.TagsList {
		if !f.dropCreateTags {
			t.tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	f.trail = t
	return &cloudtrail.CreateTrailOutput{TrailARN: t.trail.TrailARN}, nil
}

func (f *fakeCloudTrail) GetTrail(_ context.Context, in *cloudtrail.GetTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetTrail"); err != nil {
		return nil, err
	}
	t, err := f.get(in.Name)
	if err != nil {
		return nil, err
	}
	tr := t.trail
	return &cloudtrail.GetTrailOutput{Trail: &tr}, nil
}

func (f *fakeCloudTrail) UpdateTrail(_ context.Context, in *cloudtrail.UpdateTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateTrail"); err != nil {
		return nil, err
	}
	f.updated = append(f.updated, in)
	t, err := f.get(in.Name)
	if err != nil {
		return nil, err
	}
	set(&t.trail, in.S3BucketName, in.S3KeyPrefix, in.KmsKeyId, in.EnableLogFileValidation, in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn)
	return &cloudtrail.UpdateTrailOutput{}, nil
}

func (f *fakeCloudTrail) DeleteTrail(_ context.Context, in *cloudtrail.DeleteTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.DeleteTrailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteTrail"); err != nil {
		return nil, err
	}
	if _, err := f.get(in.Name); err != nil {
		return nil, err
	}
	f.trail = nil
	return &cloudtrail.DeleteTrailOutput{}, nil
}

func (f *fakeCloudTrail) StartLogging(_ context.Context, in *cloudtrail.StartLoggingInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("StartLogging"); err != nil {
		return nil, err
	}
	t, err := f.get(in.Name)
	if err != nil {
		return nil, err
	}
	f.started++
	t.logging = true
	return &cloudtrail.StartLoggingOutput{}, nil
}

func (f *fakeCloudTrail) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetTrailStatus"); err != nil {
		return nil, err
	}
	t, err := f.get(in.Name)
	if err != nil {
		return nil, err
	}
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(t.logging)}, nil
}

func (f *fakeCloudTrail) PutEventSelectors(_ context.Context, in *cloudtrail.PutEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutEventSelectors"); err != nil {
		return nil, err
	}
	f.selectors = append(f.selectors, in)
	t, err := f.get(in.TrailName)
	if err != nil {
		return nil, err
	}
	t.selectors = in.EventSelectors
	return &cloudtrail.PutEventSelectorsOutput{}, nil
}

func (f *fakeCloudTrail) GetEventSelectors(_ context.Context, in *cloudtrail.GetEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetEventSelectors"); err != nil {
		return nil, err
	}
	t, err := f.get(in.TrailName)
	if err != nil {
		return nil, err
	}
	return &cloudtrail.GetEventSelectorsOutput{EventSelectors: t.selectors}, nil
}

func (f *fakeCloudTrail) ListTags(_ context.Context, in *cloudtrail.ListTagsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTags"); err != nil {
		return nil, err
	}
	out := &cloudtrail.ListTagsOutput{}
	for _, id := range in.ResourceIdList {
		t, err := f.get(&id)
		if err != nil {
			return nil, err
		}
		rt := types.ResourceTag{ResourceId: aws.String(id)}
		for k, v := range t.tags {
			rt.TagsList = append(rt.TagsList, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out.ResourceTagList = append(out.ResourceTagList, rt)
	}
	return out, nil
}

func (f *fakeCloudTrail) AddTags(_ context.Context, in *cloudtrail.AddTagsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.AddTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("AddTags"); err != nil {
		return nil, err
	}
	f.added = append(f.added, in)
	t, err := f.get(in.ResourceId)
	if err != nil {
		return nil, err
	}
	for _, tg := range in.TagsList {
		t.tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return &cloudtrail.AddTagsOutput{}, nil
}

func (f *fakeCloudTrail) RemoveTags(_ context.Context, in *cloudtrail.RemoveTagsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.RemoveTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RemoveTags"); err != nil {
		return nil, err
	}
	f.removed = append(f.removed, in)
	t, err := f.get(in.ResourceId)
	if err != nil {
		return nil, err
	}
	for _, tg := range in.TagsList {
		delete(t.tags, aws.ToString(tg.Key))
	}
	return &cloudtrail.RemoveTagsOutput{}, nil
}
