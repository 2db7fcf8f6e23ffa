package alarms

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// fakeAWS is an in-memory CloudWatch Logs, CloudWatch and IAM for one
// backend's alarms, recording the calls and the inputs of every write.
type fakeAWS struct {
	mu sync.Mutex // Find and Ensure call concurrently

	groups  map[string]*cwltypes.LogGroup
	filters map[string]map[string]cwltypes.MetricFilter // group → name → filter
	alarms  map[string]cwtypes.MetricAlarm
	roles   map[string]*fakeRole
	// tags of log groups and alarms, by ARN
	tags map[string]map[string]string
	// dropCreateTags: CreateLogGroup, CreateRole and PutMetricAlarm accept
	// tags and keep none, as a service (or an emulator) that ignores tags on
	// create would.
	dropCreateTags bool

	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds). lostGroups holds errors CreateLogGroup returns after
	// making the group anyway.
	fail       map[string][]error
	lostGroups []error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a part its service never sees.
	always map[string]error

	calls       []string
	groupsMade  []*cloudwatchlogs.CreateLogGroupInput
	keys        []*cloudwatchlogs.AssociateKmsKeyInput
	retention   []*cloudwatchlogs.PutRetentionPolicyInput
	filtersPut  []*cloudwatchlogs.PutMetricFilterInput
	alarmsPut   []*cloudwatch.PutMetricAlarmInput
	rolesMade   []*iam.CreateRoleInput
	trusts      []*iam.UpdateAssumeRolePolicyInput
	rolePolicy  []*iam.PutRolePolicyInput
	alarmsGone  []*cloudwatch.DeleteAlarmsInput
	tagged      []string // "ARN or role name: key=value ..."
	untagged    []string // "ARN or role name: key ..."
	describedAs []*cloudwatchlogs.DescribeLogGroupsInput
}

type fakeRole struct {
	role     iamtypes.Role
	policies map[string]string
}

var (
	_ LogsAPI         = (*fakeAWS)(nil)
	_ MetricAlarmsAPI = fakeAlarmTags{}
	_ RoleAPI         = (*fakeAWS)(nil)
)

func newFake() *fakeAWS {
	return &fakeAWS{groups: map[string]*cwltypes.LogGroup{}, filters: map[string]map[string]cwltypes.MetricFilter{},
		alarms: map[string]cwtypes.MetricAlarm{}, roles: map[string]*fakeRole{}, fail: map[string][]error{}, always: map[string]error{},
		tags: map[string]map[string]string{}}
}

func (f *fakeAWS) clients() Clients { return Clients{Logs: f, Alarms: fakeAlarmTags{f}, IAM: f} }

// apiError is the error the services answer with code: the SDK's typed
// error where the service has one, as the SDK's deserializer returns it.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "NoSuchEntity":
		return &iamtypes.NoSuchEntityException{Message: msg}
	case "EntityAlreadyExists":
		return &iamtypes.EntityAlreadyExistsException{Message: msg}
	case "DeleteConflict":
		return &iamtypes.DeleteConflictException{Message: msg}
	case "ResourceAlreadyExistsException":
		return &cwltypes.ResourceAlreadyExistsException{Message: msg}
	case "ResourceNotFoundException":
		return &cwltypes.ResourceNotFoundException{Message: msg}
	case "ResourceNotFound":
		return &cwtypes.ResourceNotFound{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

func (f *fakeAWS) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeAWS) count(op string) int {
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
func (f *fakeAWS) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "Describe") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAWS) CreateLogGroup(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateLogGroup"); err != nil {
		return nil, err
	}
	f.groupsMade = append(f.groupsMade, in)
	name := aws.ToString(in.LogGroupName)
	if _, ok := f.groups[name]; ok {
		return nil, apiError("ResourceAlreadyExistsException")
	}
	f.groups[name] = &cwltypes.LogGroup{LogGroupName: in.LogGroupName, KmsKeyId: in.KmsKeyId}
	if !f.dropCreateTags {
		f.tags[groupARN(name)] = maps.Clone(in.Tags)
	}
	if len(f.lostGroups) > 0 {
		err := f.lostGroups[0]
		f.lostGroups = f.lostGroups[1:]
		return nil, err
	}
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

// DescribeLogGroups lists the groups whose names start with the prefix.
func (f *fakeAWS) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeLogGroups"); err != nil {
		return nil, err
	}
	f.describedAs = append(f.describedAs, in)
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	for name, g := range f.groups {
		if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) {
			out.LogGroups = append(out.LogGroups, *g)
		}
	}
	return out, nil
}

func (f *fakeAWS) group(name *string) (*cwltypes.LogGroup, error) {
	g, ok := f.groups[aws.ToString(name)]
	if !ok {
		return nil, apiError("ResourceNotFoundException")
	}
	return g, nil
}

func (f *fakeAWS) AssociateKmsKey(_ context.Context, in *cloudwatchlogs.AssociateKmsKeyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.AssociateKmsKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("AssociateKmsKey"); err != nil {
		return nil, err
	}
	f.keys = append(f.keys, in)
	g, err := f.group(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	g.KmsKeyId = in.KmsKeyId
	return &cloudwatchlogs.AssociateKmsKeyOutput{}, nil
}

func (f *fakeAWS) PutRetentionPolicy(_ context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutRetentionPolicy"); err != nil {
		return nil, err
	}
	f.retention = append(f.retention, in)
	g, err := f.group(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	g.RetentionInDays = in.RetentionInDays
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
}

func (f *fakeAWS) DeleteLogGroup(_ context.Context, in *cloudwatchlogs.DeleteLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteLogGroup"); err != nil {
		return nil, err
	}
	if _, err := f.group(in.LogGroupName); err != nil {
		return nil, err
	}
	delete(f.groups, aws.ToString(in.LogGroupName))
	delete(f.tags, groupARN(aws.ToString(in.LogGroupName)))
	delete(f.filters, aws.ToString(in.LogGroupName))
	return &cloudwatchlogs.DeleteLogGroupOutput{}, nil
}

func (f *fakeAWS) PutMetricFilter(_ context.Context, in *cloudwatchlogs.PutMetricFilterInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutMetricFilterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutMetricFilter"); err != nil {
		return nil, err
	}
	f.filtersPut = append(f.filtersPut, in)
	if _, err := f.group(in.LogGroupName); err != nil {
		return nil, err
	}
	g := aws.ToString(in.LogGroupName)
	if f.filters[g] == nil {
		f.filters[g] = map[string]cwltypes.MetricFilter{}
	}
	f.filters[g][aws.ToString(in.FilterName)] = cwltypes.MetricFilter{FilterName: in.FilterName, FilterPattern: in.FilterPattern, LogGroupName: in.LogGroupName}
	return &cloudwatchlogs.PutMetricFilterOutput{}, nil
}

func (f *fakeAWS) DescribeMetricFilters(_ context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeMetricFilters"); err != nil {
		return nil, err
	}
	out := &cloudwatchlogs.DescribeMetricFiltersOutput{}
	for _, mf := range f.filters[aws.ToString(in.LogGroupName)] {
		out.MetricFilters = append(out.MetricFilters, mf)
	}
	return out, nil
}

func (f *fakeAWS) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutMetricAlarm"); err != nil {
		return nil, err
	}
	f.alarmsPut = append(f.alarmsPut, in)
	// Tags count only when the alarm is new, as on AWS.
	if _, ok := f.alarms[aws.ToString(in.AlarmName)]; !ok && !f.dropCreateTags {
		f.tags[alarmARN(aws.ToString(in.AlarmName))] = map[string]string{}
		for _, t := range in.Tags {
			f.tags[alarmARN(aws.ToString(in.AlarmName))][aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	f.alarms[aws.ToString(in.AlarmName)] = cwtypes.MetricAlarm{AlarmName: in.AlarmName, MetricName: in.MetricName, Namespace: in.Namespace,
		Dimensions: in.Dimensions, Statistic: in.Statistic, Period: in.Period, EvaluationPeriods: in.EvaluationPeriods, Threshold: in.Threshold,
		ComparisonOperator: in.ComparisonOperator, TreatMissingData: in.TreatMissingData, AlarmActions: in.AlarmActions, ActionsEnabled: in.ActionsEnabled}
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func (f *fakeAWS) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DescribeAlarms"); err != nil {
		return nil, err
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, name := range in.AlarmNames {
		if a, ok := f.alarms[name]; ok {
			out.MetricAlarms = append(out.MetricAlarms, a)
		}
	}
	return out, nil
}

func (f *fakeAWS) DeleteAlarms(_ context.Context, in *cloudwatch.DeleteAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteAlarms"); err != nil {
		return nil, err
	}
	f.alarmsGone = append(f.alarmsGone, in)
	// As CloudWatch documents it: in the event of an error (here a name
	// that does not exist), no alarm is deleted.
	for _, name := range in.AlarmNames {
		if _, ok := f.alarms[name]; !ok {
			return nil, apiError("ResourceNotFound")
		}
	}
	for _, name := range in.AlarmNames {
		delete(f.alarms, name)
		delete(f.tags, alarmARN(name))
	}
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

func (f *fakeAWS) role(name *string) (*fakeRole, error) {
	r, ok := f.roles[aws.ToString(name)]
	if !ok {
		return nil, apiError("NoSuchEntity")
	}
	return r, nil
}

func (f *fakeAWS) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateRole"); err != nil {
		return nil, err
	}
	f.rolesMade = append(f.rolesMade, in)
	if _, ok := f.roles[aws.ToString(in.RoleName)]; ok {
		return nil, apiError("EntityAlreadyExists")
	}
	r := &fakeRole{role: iamtypes.Role{RoleName: in.RoleName, Path: in.Path, AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Tags: in.Tags}, policies: map[string]string{}}
	if f.dropCreateTags {
		r.role.Tags = nil
	}
	f.roles[aws.ToString(in.RoleName)] = r
	role := r.role
	return &iam.CreateRoleOutput{Role: &role}, nil
}

func (f *fakeAWS) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
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
	return &iam.GetRoleOutput{Role: &role}, nil
}

func (f *fakeAWS) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutRolePolicy"); err != nil {
		return nil, err
	}
	f.rolePolicy = append(f.rolePolicy, in)
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.policies[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *fakeAWS) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
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
		return nil, apiError("NoSuchEntity")
	}
	return &iam.GetRolePolicyOutput{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: aws.String(doc)}, nil
}

func (f *fakeAWS) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
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
		return nil, apiError("NoSuchEntity")
	}
	delete(r.policies, aws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeAWS) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
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
		return nil, apiError("DeleteConflict")
	}
	delete(f.roles, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

func (f *fakeAWS) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
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

func groupARN(name string) string { return "arn:aws:logs:us-east-1:123456789012:log-group:" + name }

func alarmARN(name string) string { return "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name }

func (f *fakeAWS) tagsOf(arn string) (map[string]string, bool) {
	for name := range f.groups {
		if groupARN(name) == arn {
			if f.tags[arn] == nil {
				f.tags[arn] = map[string]string{}
			}
			return f.tags[arn], true
		}
	}
	for name := range f.alarms {
		if alarmARN(name) == arn {
			if f.tags[arn] == nil {
				f.tags[arn] = map[string]string{}
			}
			return f.tags[arn], true
		}
	}
	return nil, false
}

func tagLine(id string, m map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kv = append(kv, k+"="+m[k])
	}
	return id + ": " + strings.Join(kv, " ")
}

func (f *fakeAWS) ListTagsForResource(_ context.Context, in *cloudwatchlogs.ListTagsForResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTagsForResource logs"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceArn))
	if !ok {
		return nil, apiError("ResourceNotFoundException")
	}
	return &cloudwatchlogs.ListTagsForResourceOutput{Tags: maps.Clone(t)}, nil
}

func (f *fakeAWS) TagResource(_ context.Context, in *cloudwatchlogs.TagResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagResource logs"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceArn))
	if !ok {
		return nil, apiError("ResourceNotFoundException")
	}
	f.tagged = append(f.tagged, tagLine(aws.ToString(in.ResourceArn), in.Tags))
	maps.Copy(t, in.Tags)
	return &cloudwatchlogs.TagResourceOutput{}, nil
}

func (f *fakeAWS) UntagResource(_ context.Context, in *cloudwatchlogs.UntagResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.UntagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagResource logs"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceArn))
	if !ok {
		return nil, apiError("ResourceNotFoundException")
	}
	f.untagged = append(f.untagged, aws.ToString(in.ResourceArn)+": "+strings.Join(in.TagKeys, " "))
	for _, k := range in.TagKeys {
		delete(t, k)
	}
	return &cloudwatchlogs.UntagResourceOutput{}, nil
}

// fakeAlarmTags is the fake's CloudWatch tagging API (its method names are
// the same as CloudWatch Logs').
type fakeAlarmTags struct{ *fakeAWS }

func (f fakeAlarmTags) ListTagsForResource(_ context.Context, in *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListTagsForResource cloudwatch"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceARN))
	if !ok {
		return nil, &cwtypes.ResourceNotFoundException{Message: aws.String("no such alarm (fake)")}
	}
	out := &cloudwatch.ListTagsForResourceOutput{}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		out.Tags = append(out.Tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(t[k])})
	}
	return out, nil
}

func (f fakeAlarmTags) TagResource(_ context.Context, in *cloudwatch.TagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagResource cloudwatch"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceARN))
	if !ok {
		return nil, &cwtypes.ResourceNotFoundException{Message: aws.String("no such alarm (fake)")}
	}
	set := map[string]string{}
	for _, tg := range in.Tags {
		set[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	f.tagged = append(f.tagged, tagLine(aws.ToString(in.ResourceARN), set))
	maps.Copy(t, set)
	return &cloudwatch.TagResourceOutput{}, nil
}

func (f fakeAlarmTags) UntagResource(_ context.Context, in *cloudwatch.UntagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagResource cloudwatch"); err != nil {
		return nil, err
	}
	t, ok := f.tagsOf(aws.ToString(in.ResourceARN))
	if !ok {
		return nil, &cwtypes.ResourceNotFoundException{Message: aws.String("no such alarm (fake)")}
	}
	f.untagged = append(f.untagged, aws.ToString(in.ResourceARN)+": "+strings.Join(in.TagKeys, " "))
	for _, k := range in.TagKeys {
		delete(t, k)
	}
	return &cloudwatch.UntagResourceOutput{}, nil
}

func (f *fakeAWS) TagRole(_ context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("TagRole"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, tg := range in.Tags {
		set[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	f.tagged = append(f.tagged, tagLine(aws.ToString(in.RoleName), set))
	r.role.Tags = slices.DeleteFunc(r.role.Tags, func(t iamtypes.Tag) bool { _, ok := set[aws.ToString(t.Key)]; return ok })
	for _, k := range slices.Sorted(maps.Keys(set)) {
		r.role.Tags = append(r.role.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(set[k])})
	}
	return &iam.TagRoleOutput{}, nil
}

func (f *fakeAWS) UntagRole(_ context.Context, in *iam.UntagRoleInput, _ ...func(*iam.Options)) (*iam.UntagRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UntagRole"); err != nil {
		return nil, err
	}
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	f.untagged = append(f.untagged, aws.ToString(in.RoleName)+": "+strings.Join(in.TagKeys, " "))
	r.role.Tags = slices.DeleteFunc(r.role.Tags, func(t iamtypes.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
	return &iam.UntagRoleOutput{}, nil
}
