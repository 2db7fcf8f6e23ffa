// Package alarms manages what turns a backend's trail into alerts: a CloudWatch
// Logs group the trail delivers to, encrypted with the backend's key (with the
// IAM role CloudTrail uses to write to it),
// metric filters for deleted *.tfstate objects and for access denied on the
// state bucket, and one CloudWatch alarm each, notifying an SNS topic. With
// replication, one more alarm watches S3's own replication metric
// (OperationsFailedReplication of the replication rule) and notifies the same
// topic; S3 reports that metric only for a rule with replication metrics
// enabled.
package alarms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// LogsAPI is the part of the CloudWatch Logs client this package uses.
type LogsAPI interface {
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	AssociateKmsKey(context.Context, *cloudwatchlogs.AssociateKmsKeyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.AssociateKmsKeyOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	DeleteLogGroup(context.Context, *cloudwatchlogs.DeleteLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
	PutMetricFilter(context.Context, *cloudwatchlogs.PutMetricFilterInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutMetricFilterOutput, error)
	DescribeMetricFilters(context.Context, *cloudwatchlogs.DescribeMetricFiltersInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatchlogs.TagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error)
	UntagResource(context.Context, *cloudwatchlogs.UntagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.UntagResourceOutput, error)
}

// MetricAlarmsAPI is the part of the CloudWatch client this package uses.
type MetricAlarmsAPI interface {
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatch.TagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
	UntagResource(context.Context, *cloudwatch.UntagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error)
}

// RoleAPI is the part of the IAM client this package uses.
type RoleAPI interface {
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	UntagRole(context.Context, *iam.UntagRoleInput, ...func(*iam.Options)) (*iam.UntagRoleOutput, error)
}

// Clients bundles the three services.
type Clients struct {
	Logs   LogsAPI
	Alarms MetricAlarmsAPI
	IAM    RoleAPI
}

// Namespace is the CloudWatch namespace of the metrics.
const Namespace = "SecureState"

const rolePolicyName = "cloudtrail-to-cloudwatch-logs"

// Spec is what a backend's alarms need.
type Spec struct {
	Backend       string
	Partition     string
	Region        string
	AccountID     string
	StateBucket   string
	TrailARN      string
	KeyARN        string // the backend key; the log group is encrypted with it
	TopicARN      string
	RetentionDays int32
	Tags          map[string]string
	// Replication is the replication whose failures raise an alarm; nil
	// without replication (an alarm of this backend left from before is then
	// deleted).
	Replication *ReplicationAlarm
}

// ReplicationAlarm names what S3 reports replication metrics by: the state
// bucket, the replica bucket and the replication rule's ID.
type ReplicationAlarm struct {
	SourceBucket, DestinationBucket, RuleID string
}

// S3Namespace is the CloudWatch namespace of S3's replication metrics.
const S3Namespace = "AWS/S3"

// ReplicationMetric counts the operations S3 failed to replicate.
const ReplicationMetric = "OperationsFailedReplication"

// Controls named in drift reports.
const (
	ControlDelivery      = "alarm_log_delivery"
	ControlStateDeletion = "alarm_state_deletion"
	ControlAccessDenied  = "alarm_access_denied"
	// ControlReplication is compliant without replication when no alarm of
	// this backend is left from it.
	ControlReplication = "alarm_replication_failed"
)

// ControlNames lists the alarm controls.
func ControlNames() []string {
	return []string{ControlAccessDenied, ControlDelivery, ControlReplication, ControlStateDeletion}
}

// LogGroup is the log group the trail delivers to.
func (s Spec) LogGroup() string { return naming.AlarmLogGroup(s.Backend) }

// GroupARN is the log group's ARN, as the key policy names it.
func (s Spec) GroupARN() string {
	return arn.ARN{Partition: s.Partition, Service: "logs", Region: s.Region, AccountID: s.AccountID, Resource: "log-group:" + s.LogGroup()}.String()
}

// LogGroupARN is the ARN CloudTrail is given (with its ":*" stream suffix).
func (s Spec) LogGroupARN() string { return s.GroupARN() + ":*" }

// AlarmARN is the ARN of one of the alarms, by name (its tags are read and
// written by ARN).
func (s Spec) AlarmARN(name string) string {
	return arn.ARN{Partition: s.Partition, Service: "cloudwatch", Region: s.Region, AccountID: s.AccountID, Resource: "alarm:" + name}.String()
}

// RoleName is the role CloudTrail assumes to write to the log group.
func (s Spec) RoleName() string { return naming.TrailLogsRole(s.Backend) }

// RoleARN is that role's ARN.
func (s Spec) RoleARN() string {
	return arn.ARN{Partition: s.Partition, Service: "iam", AccountID: s.AccountID, Resource: "role" + naming.PolicyPath + s.RoleName()}.String()
}

// alarm is one alarm: on a metric the trail's log group counts through a
// metric filter (pattern), or on a metric an AWS service reports (no pattern,
// its dimensions).
type alarm struct {
	control, name, description string
	namespace, metric          string
	pattern                    string // the metric filter's; "" for a service's metric
	dimensions                 []cwtypes.Dimension
	threshold                  float64
	comparison                 cwtypes.ComparisonOperator
}

// alarms are the alarms the spec wants.
func (s Spec) alarms() []alarm {
	b := s.StateBucket
	out := []alarm{
		{control: ControlStateDeletion, name: naming.StateDeletedAlarm(s.Backend), namespace: Namespace, metric: naming.StateDeletedMetric(s.Backend),
			// A DeleteObject event names its key; a DeleteObjects (batch) event
			// may not name the keys it deleted, so every batch delete counts.
			pattern:     fmt.Sprintf(`{ ($.eventSource = "s3.amazonaws.com") && ($.requestParameters.bucketName = "%s") && ((($.eventName = "DeleteObject") && ($.requestParameters.key = "*.tfstate")) || ($.eventName = "DeleteObjects")) }`, b),
			description: "A Terraform state object (*.tfstate) was deleted from " + b + ", or objects were deleted from it in a batch",
			threshold:   1, comparison: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold},
		{control: ControlAccessDenied, name: naming.AccessDeniedAlarm(s.Backend), namespace: Namespace, metric: naming.AccessDeniedMetric(s.Backend),
			pattern:     fmt.Sprintf(`{ ($.errorCode = "AccessDenied") && ($.requestParameters.bucketName = "%s") }`, b),
			description: "A request to the state bucket " + b + " was denied",
			threshold:   1, comparison: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold},
	}
	if r := s.Replication; r != nil {
		out = append(out, alarm{control: ControlReplication, name: naming.ReplicationFailedAlarm(s.Backend), namespace: S3Namespace, metric: ReplicationMetric,
			dimensions: []cwtypes.Dimension{
				{Name: aws.String("SourceBucket"), Value: aws.String(r.SourceBucket)},
				{Name: aws.String("DestinationBucket"), Value: aws.String(r.DestinationBucket)},
				{Name: aws.String("RuleId"), Value: aws.String(r.RuleID)},
			},
			description: "S3 failed to replicate objects of the state bucket " + r.SourceBucket + " to " + r.DestinationBucket + " (rule " + r.RuleID + ")",
			threshold:   0, comparison: cwtypes.ComparisonOperatorGreaterThanThreshold})
	}
	return out
}

// allAlarmNames are the names of every alarm a backend may have, wanted by
// the spec or not: Find reads them all, so that an alarm left from before
// (replication removed) is seen and deleted, and Delete deletes them all.
func (s Spec) allAlarmNames() []string {
	return []string{naming.StateDeletedAlarm(s.Backend), naming.AccessDeniedAlarm(s.Backend), naming.ReplicationFailedAlarm(s.Backend)}
}

// unwanted lists the alarms of o the spec does not want, sorted. Find keeps
// only those that carry this backend's ownership tag.
func (s Spec) unwanted(o *Observed) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(o.Alarms)) {
		if !slices.Contains(s.alarmNames(), name) {
			out = append(out, name)
		}
	}
	return out
}

func (s Spec) trustPolicy() string { return policies.Render(policies.TrailLogsTrustPolicy(s.TrailARN)) }

func (s Spec) rolePolicy() string {
	return policies.Render(policies.TrailLogsRolePolicy(s.LogGroupARN()))
}

// Observed is what exists.
type Observed struct {
	LogGroup   bool
	Retention  int32
	KeyARN     string // the key the log group is encrypted with ("" when none)
	Role       bool
	RoleOwner  string
	Trust      string
	RolePolicy string
	Filters    map[string]string              // filter name -> pattern
	Alarms     map[string]cwtypes.MetricAlarm // alarm name -> alarm
	// The tags of each part that exists: the log group's (nil without it),
	// the role's (nil without it) and each alarm's, by name.
	GroupTags map[string]string
	RoleTags  map[string]string
	AlarmTags map[string]map[string]string
}

// TagSets lists the tags of every part that exists (log group, role, each
// alarm by name), so that a tag changed on any of them shows.
func (o *Observed) TagSets() []map[string]string {
	var out []map[string]string
	if o.LogGroup {
		out = append(out, o.GroupTags)
	}
	if o.Role {
		out = append(out, o.RoleTags)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Alarms)) {
		out = append(out, o.AlarmTags[name])
	}
	return out
}

// Find reads every part: the log group (with its tags) and then its metric
// filters, the role (with its tags) and then its policy, and the alarms with
// each alarm's tags, the three concurrently (two round trips). Every failure
// is reported.
func Find(ctx context.Context, c Clients, spec Spec) (*Observed, error) {
	o := &Observed{Filters: map[string]string{}, Alarms: map[string]cwtypes.MetricAlarm{}, AlarmTags: map[string]map[string]string{}}
	var (
		wg                       sync.WaitGroup
		groupErr, roleErr, alErr error
	)
	wg.Go(func() { groupErr = findGroup(ctx, c.Logs, spec, o) })
	wg.Go(func() { roleErr = findRole(ctx, c.IAM, spec, o) })
	wg.Go(func() { alErr = findAlarms(ctx, c.Alarms, spec, o) })
	wg.Wait()
	if err := errors.Join(groupErr, roleErr, alErr); err != nil {
		return nil, err
	}
	return o, nil
}

// findAlarms fills the alarms of o and their tags: DescribeAlarms and each
// alarm's tags (by the ARN the name gives) at once.
func findAlarms(ctx context.Context, api MetricAlarmsAPI, spec Spec, o *Observed) error {
	names := spec.allAlarmNames()
	var (
		wg      sync.WaitGroup
		al      *cloudwatch.DescribeAlarmsOutput
		descErr error
		tagged  = make([]map[string]string, len(names))
		tagErrs = make([]error, len(names))
	)
	wg.Go(func() {
		if al, descErr = api.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names}); descErr != nil {
			descErr = fmt.Errorf("cloudwatch:DescribeAlarms: %w", descErr)
		}
	})
	for i, name := range names {
		wg.Go(func() {
			out, err := api.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(spec.AlarmARN(name))})
			var gone *cwtypes.ResourceNotFoundException
			switch {
			case errors.As(err, &gone):
				// No alarm: its tags do not matter.
			case err != nil:
				tagErrs[i] = fmt.Errorf("cloudwatch:ListTagsForResource %s: %w", name, err)
			default:
				tagged[i] = map[string]string{}
				for _, t := range out.Tags {
					tagged[i][aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append([]error{descErr}, tagErrs...)...); err != nil {
		return err
	}
	wanted := spec.alarmNames()
	for _, a := range al.MetricAlarms {
		name := aws.ToString(a.AlarmName)
		i := slices.Index(names, name)
		if i < 0 {
			continue
		}
		// An alarm the spec does not want counts only if it is this
		// backend's: only then is it deleted.
		if !slices.Contains(wanted, name) && tagged[i][naming.OwnerTagKey] != spec.Backend {
			continue
		}
		o.Alarms[name] = a
		o.AlarmTags[name] = tagged[i]
		if o.AlarmTags[name] == nil {
			o.AlarmTags[name] = map[string]string{}
		}
	}
	return nil
}

// findGroup fills the log group's fields of o, its tags (read at once with
// the group, by the ARN its name gives) and then its filters.
func findGroup(ctx context.Context, api LogsAPI, spec Spec, o *Observed) error {
	var (
		wg              sync.WaitGroup
		lg              *cloudwatchlogs.DescribeLogGroupsOutput
		tagged          *cloudwatchlogs.ListTagsForResourceOutput
		descErr, tagErr error
	)
	wg.Go(func() {
		if lg, descErr = api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(spec.LogGroup())}); descErr != nil {
			descErr = fmt.Errorf("logs:DescribeLogGroups %s: %w", spec.LogGroup(), descErr)
		}
	})
	wg.Go(func() {
		tagged, tagErr = api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(spec.GroupARN())})
		var gone *cwltypes.ResourceNotFoundException
		switch {
		case errors.As(tagErr, &gone):
			tagged, tagErr = nil, nil // no group: its tags do not matter
		case tagErr != nil:
			tagErr = fmt.Errorf("logs:ListTagsForResource %s: %w", spec.LogGroup(), tagErr)
		}
	})
	wg.Wait()
	if err := errors.Join(descErr, tagErr); err != nil {
		return err
	}
	for _, g := range lg.LogGroups {
		if aws.ToString(g.LogGroupName) == spec.LogGroup() {
			o.LogGroup, o.Retention, o.KeyARN = true, aws.ToInt32(g.RetentionInDays), aws.ToString(g.KmsKeyId)
		}
	}
	if !o.LogGroup {
		return nil
	}
	o.GroupTags = map[string]string{}
	if tagged != nil {
		maps.Copy(o.GroupTags, tagged.Tags)
	}
	mf, err := api.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(spec.LogGroup())})
	if err != nil {
		return fmt.Errorf("logs:DescribeMetricFilters %s: %w", spec.LogGroup(), err)
	}
	for _, f := range mf.MetricFilters {
		o.Filters[aws.ToString(f.FilterName)] = aws.ToString(f.FilterPattern)
	}
	return nil
}

// findRole fills the role's fields of o.
func findRole(ctx context.Context, api RoleAPI, spec Spec, o *Observed) error {
	r, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.RoleName())})
	switch {
	case isNoSuchEntity(err):
		return nil
	case err != nil:
		return fmt.Errorf("iam:GetRole %s: %w", spec.RoleName(), err)
	}
	o.Role, o.Trust = true, aws.ToString(r.Role.AssumeRolePolicyDocument)
	o.RoleTags = map[string]string{}
	for _, t := range r.Role.Tags {
		o.RoleTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	o.RoleOwner = o.RoleTags[naming.OwnerTagKey]
	p, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(spec.RoleName()), PolicyName: aws.String(rolePolicyName)})
	switch {
	case isNoSuchEntity(err):
	case err != nil:
		return fmt.Errorf("iam:GetRolePolicy %s: %w", spec.RoleName(), err)
	default:
		o.RolePolicy = aws.ToString(p.PolicyDocument)
	}
	return nil
}

func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

func (s Spec) alarmNames() []string {
	var names []string
	for _, a := range s.alarms() {
		names = append(names, a.name)
	}
	return names
}

// Check refuses to adopt a role that does not carry the backend's ownership
// tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || !o.Role || o.RoleOwner == spec.Backend {
		return nil
	}
	return fmt.Errorf("IAM role %s already exists and was not created by this backend (no %s=%s tag); rename or delete it",
		spec.RoleName(), naming.OwnerTagKey, spec.Backend)
}

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	out := map[string]string{ControlDelivery: "", ControlStateDeletion: "", ControlAccessDenied: "", ControlReplication: ""}
	trustOK, _ := policydoc.Equivalent(o.Trust, spec.trustPolicy())
	roleOK, _ := policydoc.Equivalent(o.RolePolicy, spec.rolePolicy())
	switch {
	case !o.LogGroup:
		out[ControlDelivery] = "the log group " + spec.LogGroup() + " is missing"
	case o.KeyARN != spec.KeyARN:
		out[ControlDelivery] = "the log group is not encrypted with the backend key"
	case o.Retention != RetentionFor(spec.RetentionDays):
		out[ControlDelivery] = fmt.Sprintf("the log group keeps events %d days", o.Retention)
	case !o.Role:
		out[ControlDelivery] = "the role " + spec.RoleName() + " is missing"
	case o.Trust != "" && !trustOK:
		out[ControlDelivery] = "the role's trust policy differs"
	case !roleOK:
		out[ControlDelivery] = "the role's permissions differ"
	}
	for _, a := range spec.alarms() {
		got, ok := o.Alarms[a.name]
		switch {
		case a.pattern != "" && o.Filters[a.name] != a.pattern:
			out[a.control] = "the metric filter " + a.name + " is missing or changed"
		case !ok:
			out[a.control] = "the alarm " + a.name + " is missing"
		case aws.ToString(got.MetricName) != a.metric || aws.ToString(got.Namespace) != a.namespace || !sameDimensions(got.Dimensions, a.dimensions) ||
			len(got.AlarmActions) != 1 || got.AlarmActions[0] != spec.TopicARN || !aws.ToBool(got.ActionsEnabled):
			out[a.control] = "the alarm " + a.name + " is changed or does not notify " + spec.TopicARN
		}
	}
	for _, name := range spec.unwanted(o) {
		if name == naming.ReplicationFailedAlarm(spec.Backend) {
			out[ControlReplication] = "the alarm " + name + " is left from replication, which is off"
		}
	}
	return out
}

// sameDimensions reports whether two dimension lists hold the same
// name-value pairs, in any order.
func sameDimensions(a, b []cwtypes.Dimension) bool {
	pairs := func(ds []cwtypes.Dimension) []string {
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			out = append(out, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(pairs(a), pairs(b))
}

// retentions are the values CloudWatch Logs accepts.
var retentions = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// RetentionFor is the shortest accepted retention that keeps events at least days.
func RetentionFor(days int32) int32 {
	for _, r := range retentions {
		if r >= days {
			return r
		}
	}
	return retentions[len(retentions)-1]
}

// Ensure creates or repairs every part, starting from have, what Find
// observed (nil: nothing observed, everything is made). tracked says the role
// was created by this backend before (otherwise a role without the ownership
// tag is refused, before anything is written). Four chains run concurrently,
// each writing only what differs: the log group, then its retention and
// filters; the role, then its policy; the alarms; the tags of the parts that
// exist. New parts are made with their tags; the writes that follow the
// making of a part (retention, filters, role policy, tags) are retried while
// its service does not see it yet. The result is one Find; parts
// whose tags it shows missing or different (a service that ignores tags on
// create) are tagged and read again.
func Ensure(ctx context.Context, c Clients, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	if have == nil {
		have = &Observed{Filters: map[string]string{}, Alarms: map[string]cwtypes.MetricAlarm{}}
	}
	if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	drift := Drift(spec, have)
	var (
		wg                sync.WaitGroup
		groupErr, roleErr error
	)
	var tagErr error
	wg.Go(func() { groupErr = ensureGroup(ctx, c.Logs, spec, have) })
	wg.Go(func() { roleErr = ensureRole(ctx, c.IAM, spec, have) })
	wg.Go(func() { tagErr = syncTags(ctx, c, spec, have, have) })
	alarmErrs := make([]error, len(spec.alarms()))
	for i, a := range spec.alarms() {
		if drift[a.control] == "" {
			continue
		}
		// Filters are the log group's; a changed alarm is repaired alone.
		wg.Go(func() {
			if _, err := c.Alarms.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(a.name), AlarmDescription: aws.String(a.description),
				MetricName: aws.String(a.metric), Namespace: aws.String(a.namespace), Dimensions: a.dimensions, Statistic: cwtypes.StatisticSum, Period: aws.Int32(300),
				EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(a.threshold), ComparisonOperator: a.comparison,
				TreatMissingData: aws.String("notBreaching"), ActionsEnabled: aws.Bool(true), AlarmActions: []string{spec.TopicARN},
				Tags: cwTags(spec.Tags)}); err != nil {
				alarmErrs[i] = fmt.Errorf("cloudwatch:PutMetricAlarm %s: %w", a.name, err)
			}
		})
	}
	// Alarms of this backend the spec no longer wants (replication removed).
	var removeErr error
	if names := spec.unwanted(have); len(names) > 0 {
		wg.Go(func() { removeErr = deleteAlarms(ctx, c.Alarms, names) })
	}
	wg.Wait()
	if err := errors.Join(append([]error{groupErr, roleErr, tagErr, removeErr}, alarmErrs...)...); err != nil {
		return nil, err
	}
	o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, c, spec) })
	if err != nil || !tagsDiffer(spec, o) {
		return o, err
	}
	// Parts this Ensure made moments ago are tagged as soon as their service
	// sees them.
	if err := syncTags(ctx, c, spec, o, have); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, c, spec) })
}

// tagsDiffer reports whether any part that exists has other tags than the spec's.
func tagsDiffer(spec Spec, o *Observed) bool {
	return slices.ContainsFunc(o.TagSets(), func(have map[string]string) bool { return tags.Differ(have, spec.Tags) })
}

// syncTags gives every part that exists in o (the log group, the role, each
// alarm) the spec's tags, concurrently: tags added out of band are removed,
// removed or changed ones written again. Parts o does not have are left to
// their create, which carries the tags. Parts before (what Ensure started
// from) does not have were made moments ago: their tag calls are retried
// while their service does not see them yet.
func syncTags(ctx context.Context, c Clients, spec Spec, o, before *Observed) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	run := func(have map[string]string, created bool, untag func([]string) error, tag func(map[string]string) error) {
		wg.Go(func() {
			err := tags.Apply(have, spec.Tags, func(keys []string) error {
				return retry.AfterCreate(ctx, created, func() error { return untag(keys) })
			}, func(set map[string]string) error {
				return retry.AfterCreate(ctx, created, func() error { return tag(set) })
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	if o.LogGroup {
		group := aws.String(spec.GroupARN())
		run(o.GroupTags, !before.LogGroup, func(keys []string) error {
			if _, err := c.Logs.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: group, TagKeys: keys}); err != nil {
				return fmt.Errorf("logs:UntagResource %s: %w", spec.LogGroup(), err)
			}
			return nil
		}, func(set map[string]string) error {
			if _, err := c.Logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: group, Tags: set}); err != nil {
				return fmt.Errorf("logs:TagResource %s: %w", spec.LogGroup(), err)
			}
			return nil
		})
	}
	if o.Role {
		role := aws.String(spec.RoleName())
		run(o.RoleTags, !before.Role, func(keys []string) error {
			if _, err := c.IAM.UntagRole(ctx, &iam.UntagRoleInput{RoleName: role, TagKeys: keys}); err != nil {
				return fmt.Errorf("iam:UntagRole %s: %w", spec.RoleName(), err)
			}
			return nil
		}, func(set map[string]string) error {
			if _, err := c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: role, Tags: iamTags(set)}); err != nil {
				return fmt.Errorf("iam:TagRole %s: %w", spec.RoleName(), err)
			}
			return nil
		})
	}
	for _, name := range slices.Sorted(maps.Keys(o.Alarms)) {
		if !slices.Contains(spec.alarmNames(), name) {
			continue // being deleted
		}
		alarm := aws.String(spec.AlarmARN(name))
		_, existed := before.Alarms[name]
		run(o.AlarmTags[name], !existed, func(keys []string) error {
			if _, err := c.Alarms.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: alarm, TagKeys: keys}); err != nil {
				return fmt.Errorf("cloudwatch:UntagResource %s: %w", name, err)
			}
			return nil
		}, func(set map[string]string) error {
			if _, err := c.Alarms.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: alarm, Tags: cwTags(set)}); err != nil {
				return fmt.Errorf("cloudwatch:TagResource %s: %w", name, err)
			}
			return nil
		})
	}
	wg.Wait()
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

func cwTags(m map[string]string) []cwtypes.Tag {
	out := make([]cwtypes.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, cwtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func iamTags(m map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// ensureGroup makes the log group (or gives it the backend key), then sets
// its retention and writes the missing or changed metric filters (retried
// while CloudWatch Logs does not see a group made moments ago).
func ensureGroup(ctx context.Context, api LogsAPI, spec Spec, have *Observed) error {
	group := aws.String(spec.LogGroup())
	// A group found to exist on create did not a moment ago: it is as new.
	created := !have.LogGroup
	var exists *cwltypes.ResourceAlreadyExistsException
	if !have.LogGroup {
		if _, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group, KmsKeyId: aws.String(spec.KeyARN), Tags: spec.Tags}); err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("logs:CreateLogGroup %s: %w", spec.LogGroup(), err)
		}
	} else if have.KeyARN != spec.KeyARN {
		// Events already in the group stay readable; new ones use the backend key.
		if _, err := api.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: group, KmsKeyId: aws.String(spec.KeyARN)}); err != nil {
			return fmt.Errorf("logs:AssociateKmsKey %s: %w", spec.LogGroup(), err)
		}
	}
	// The retention and the filters are independent writes: at once.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	if have.Retention != RetentionFor(spec.RetentionDays) {
		wg.Go(func() {
			if err := retry.AfterCreate(ctx, created, func() error {
				_, err := api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(RetentionFor(spec.RetentionDays))})
				return err
			}); err != nil {
				fail(fmt.Errorf("logs:PutRetentionPolicy %s: %w", spec.LogGroup(), err))
			}
		})
	}
	for _, a := range spec.alarms() {
		if a.pattern == "" || have.Filters[a.name] == a.pattern {
			continue
		}
		wg.Go(func() {
			if err := retry.AfterCreate(ctx, created, func() error {
				_, err := api.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: group, FilterName: aws.String(a.name),
					FilterPattern: aws.String(a.pattern), MetricTransformations: []cwltypes.MetricTransformation{{
						MetricName: aws.String(a.metric), MetricNamespace: aws.String(Namespace), MetricValue: aws.String("1")}}})
				return err
			}); err != nil {
				fail(fmt.Errorf("logs:PutMetricFilter %s: %w", a.name, err))
			}
		})
	}
	wg.Wait()
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// ensureRole makes the role (or repairs its trust policy), then its policy
// (retried while IAM does not see a role made moments ago).
func ensureRole(ctx context.Context, api RoleAPI, spec Spec, have *Observed) error {
	role := aws.String(spec.RoleName())
	if !have.Role {
		if _, err := api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, Path: aws.String(naming.PolicyPath),
			AssumeRolePolicyDocument: aws.String(spec.trustPolicy()), Tags: iamTags(spec.Tags),
			Description: aws.String("Lets the trail of backend " + spec.Backend + " write to its log group (managed by securestate)")}); err != nil {
			return fmt.Errorf("iam:CreateRole %s: %w", spec.RoleName(), err)
		}
	} else if ok, _ := policydoc.Equivalent(have.Trust, spec.trustPolicy()); !ok {
		if _, err := api.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: role, PolicyDocument: aws.String(spec.trustPolicy())}); err != nil {
			return fmt.Errorf("iam:UpdateAssumeRolePolicy %s: %w", spec.RoleName(), err)
		}
	}
	if ok, _ := policydoc.Equivalent(have.RolePolicy, spec.rolePolicy()); !ok {
		if err := retry.AfterCreate(ctx, !have.Role, func() error {
			_, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String(rolePolicyName), PolicyDocument: aws.String(spec.rolePolicy())})
			return err
		}); err != nil {
			return fmt.Errorf("iam:PutRolePolicy %s: %w", spec.RoleName(), err)
		}
	}
	return nil
}

// Delete removes alarms, the log group (with its filters) and the role; parts
// already gone count as deleted.
func Delete(ctx context.Context, c Clients, spec Spec) error {
	var (
		wg                          sync.WaitGroup
		alarmErr, groupErr, roleErr error
	)
	// Three independent chains, at once.
	wg.Go(func() { alarmErr = deleteAlarms(ctx, c.Alarms, spec.allAlarmNames()) })
	wg.Go(func() {
		var gone *cwltypes.ResourceNotFoundException
		if _, err := c.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(spec.LogGroup())}); err != nil && !errors.As(err, &gone) {
			groupErr = fmt.Errorf("logs:DeleteLogGroup %s: %w", spec.LogGroup(), err)
		}
	})
	wg.Go(func() {
		role := aws.String(spec.RoleName())
		if _, err := c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String(rolePolicyName)}); err != nil && !isNoSuchEntity(err) {
			roleErr = fmt.Errorf("iam:DeleteRolePolicy %s: %w", spec.RoleName(), err)
			return
		}
		if _, err := c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); err != nil && !isNoSuchEntity(err) {
			roleErr = fmt.Errorf("iam:DeleteRole %s: %w", spec.RoleName(), err)
		}
	})
	wg.Wait()
	return errors.Join(alarmErr, groupErr, roleErr)
}

// deleteAlarms deletes each named alarm with a call of its own, at once: in
// the event of an error DeleteAlarms deletes none of the alarms it is given,
// and a name that does not exist may be that error. An alarm already gone
// counts as deleted.
func deleteAlarms(ctx context.Context, api MetricAlarmsAPI, names []string) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			var gone *cwtypes.ResourceNotFound
			if _, err := api.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil && !errors.As(err, &gone) {
				errs[i] = fmt.Errorf("cloudwatch:DeleteAlarms %s: %w", name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
