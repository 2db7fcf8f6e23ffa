// Package audittrail manages the CloudTrail trail that records data events on
// a backend's state bucket and lock table: ensure (create or adopt, harden,
// start logging), find, drift and delete.
package audittrail

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the CloudTrail client this package uses.
type API interface {
	CreateTrail(context.Context, *cloudtrail.CreateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error)
	GetTrail(context.Context, *cloudtrail.GetTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
	UpdateTrail(context.Context, *cloudtrail.UpdateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	DeleteTrail(context.Context, *cloudtrail.DeleteTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.DeleteTrailOutput, error)
	StartLogging(context.Context, *cloudtrail.StartLoggingInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
	GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	PutEventSelectors(context.Context, *cloudtrail.PutEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
	GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	ListTags(context.Context, *cloudtrail.ListTagsInput, ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
	AddTags(context.Context, *cloudtrail.AddTagsInput, ...func(*cloudtrail.Options)) (*cloudtrail.AddTagsOutput, error)
}

// Spec is the trail a backend wants.
type Spec struct {
	Backend        string
	Name           string
	ARN            string
	LogBucket      string
	KeyARN         string
	StateBucketARN string
	TableARN       string // "" without a lock table
	LogGroupARN    string // CloudWatch Logs delivery (alarms); "" without
	LogRoleARN     string
	Tags           map[string]string
}

// Controls named in drift reports.
const (
	ControlLogging     = "trail_logging"
	ControlValidation  = "trail_log_file_validation"
	ControlDestination = "trail_destination"
	ControlSelectors   = "trail_event_selectors"
)

// ControlNames lists the trail's controls.
func ControlNames() []string {
	return []string{ControlDestination, ControlSelectors, ControlValidation, ControlLogging}
}

// Observed is what exists.
type Observed struct {
	ARN        string
	Bucket     string
	Prefix     string
	KeyARN     string
	Validation bool
	Logging    bool
	Selectors  []string // normalised "ReadWriteType type value" entries
	LogGroup   string
	LogRole    string
	Tags       map[string]string
}

// selectors is the wanted set of data-event selectors, normalised.
func (s Spec) selectors() []string {
	out := []string{"All AWS::S3::Object " + s.StateBucketARN + "/"}
	if s.TableARN != "" {
		out = append(out, "All AWS::DynamoDB::Table "+s.TableARN)
	}
	sort.Strings(out)
	return out
}

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	out := map[string]string{ControlLogging: "", ControlValidation: "", ControlDestination: "", ControlSelectors: ""}
	if !o.Logging {
		out[ControlLogging] = "the trail is not logging"
	}
	if !o.Validation {
		out[ControlValidation] = "log file validation is off"
	}
	switch {
	case o.Bucket != spec.LogBucket || o.Prefix != naming.TrailPrefix || o.KeyARN != spec.KeyARN:
		out[ControlDestination] = fmt.Sprintf("the trail delivers to s3://%s/%s encrypted with %q", o.Bucket, o.Prefix, o.KeyARN)
	case o.LogGroup != spec.LogGroupARN || o.LogRole != spec.LogRoleARN:
		out[ControlDestination] = fmt.Sprintf("the trail sends events to CloudWatch Logs group %q", o.LogGroup)
	}
	if strings.Join(o.Selectors, "|") != strings.Join(spec.selectors(), "|") {
		out[ControlSelectors] = "data event selectors differ: " + strings.Join(o.Selectors, "; ")
	}
	return out
}

// Find reads the trail; a missing trail is awserr.ErrNotFound.
func Find(ctx context.Context, api API, name string) (*Observed, error) {
	t, err := api.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &name})
	if awserr.HasCode(err, "TrailNotFoundException") {
		return nil, awserr.NotFound("CloudTrail trail %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("cloudtrail:GetTrail %s: %w", name, err)
	}
	tr := t.Trail
	o := &Observed{ARN: aws.ToString(tr.TrailARN), Bucket: aws.ToString(tr.S3BucketName), Prefix: aws.ToString(tr.S3KeyPrefix),
		KeyARN: aws.ToString(tr.KmsKeyId), Validation: aws.ToBool(tr.LogFileValidationEnabled), Tags: map[string]string{},
		LogGroup: aws.ToString(tr.CloudWatchLogsLogGroupArn), LogRole: aws.ToString(tr.CloudWatchLogsRoleArn)}
	st, err := api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &name})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail:GetTrailStatus %s: %w", name, err)
	}
	o.Logging = aws.ToBool(st.IsLogging)
	sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &name})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail:GetEventSelectors %s: %w", name, err)
	}
	for _, es := range sel.EventSelectors {
		for _, dr := range es.DataResources {
			for _, v := range dr.Values {
				o.Selectors = append(o.Selectors, string(es.ReadWriteType)+" "+aws.ToString(dr.Type)+" "+v)
			}
		}
	}
	sort.Strings(o.Selectors)
	listed, err := api.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{o.ARN}})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail:ListTags %s: %w", name, err)
	}
	for _, rt := range listed.ResourceTagList {
		for _, tg := range rt.TagsList {
			o.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return o, nil
}

// Ensure creates the trail (or adopts one carrying the ownership tag), points
// it at the log bucket with the backend key, sets the data-event selectors and
// starts logging.
func Ensure(ctx context.Context, api API, spec Spec, tracked bool) (*Observed, error) {
	o, err := Find(ctx, api, spec.Name)
	switch {
	case awserr.IsNotFound(err):
		in := &cloudtrail.CreateTrailInput{
			Name: &spec.Name, S3BucketName: &spec.LogBucket, S3KeyPrefix: aws.String(naming.TrailPrefix), KmsKeyId: &spec.KeyARN,
			EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(false), IsMultiRegionTrail: aws.Bool(false),
			TagsList: trailTags(spec.Tags),
		}
		if spec.LogGroupARN != "" {
			in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn = &spec.LogGroupARN, &spec.LogRoleARN
		}
		// A role, bucket policy or key grant written moments ago may not be
		// visible to CloudTrail yet.
		err := retry.OnCodes(ctx, retry.PropagationTimeout, retry.TrailPropagation, func() error {
			_, err := api.CreateTrail(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("cloudtrail:CreateTrail %s: %w", spec.Name, err)
		}
		if o, err = Find(ctx, api, spec.Name); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !tracked && o.Tags[naming.OwnerTagKey] != spec.Backend:
		return nil, fmt.Errorf("CloudTrail trail %s already exists and was not created by this backend (no %s=%s tag); rename or delete it",
			spec.Name, naming.OwnerTagKey, spec.Backend)
	}
	drift := Drift(spec, o)
	if drift[ControlDestination] != "" || drift[ControlValidation] != "" {
		// Empty strings remove CloudWatch Logs delivery when alarms were removed.
		in := &cloudtrail.UpdateTrailInput{Name: &spec.Name, S3BucketName: &spec.LogBucket,
			S3KeyPrefix: aws.String(naming.TrailPrefix), KmsKeyId: &spec.KeyARN, EnableLogFileValidation: aws.Bool(true),
			CloudWatchLogsLogGroupArn: aws.String(spec.LogGroupARN), CloudWatchLogsRoleArn: aws.String(spec.LogRoleARN)}
		err := retry.OnCodes(ctx, retry.PropagationTimeout, retry.TrailPropagation, func() error {
			_, err := api.UpdateTrail(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("cloudtrail:UpdateTrail %s: %w", spec.Name, err)
		}
	}
	if drift[ControlSelectors] != "" {
		resources := []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{spec.StateBucketARN + "/"}}}
		if spec.TableARN != "" {
			resources = append(resources, types.DataResource{Type: aws.String("AWS::DynamoDB::Table"), Values: []string{spec.TableARN}})
		}
		if _, err := api.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: &spec.Name, EventSelectors: []types.EventSelector{{
			ReadWriteType: types.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(false), DataResources: resources,
		}}}); err != nil {
			return nil, fmt.Errorf("cloudtrail:PutEventSelectors %s: %w", spec.Name, err)
		}
	}
	if drift[ControlLogging] != "" {
		if _, err := api.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &spec.Name}); err != nil {
			return nil, fmt.Errorf("cloudtrail:StartLogging %s: %w", spec.Name, err)
		}
	}
	if _, set := tags.Diff(o.Tags, spec.Tags); len(set) > 0 {
		if _, err := api.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: &o.ARN, TagsList: trailTags(set)}); err != nil {
			return nil, fmt.Errorf("cloudtrail:AddTags %s: %w", spec.Name, err)
		}
	}
	return Find(ctx, api, spec.Name)
}

func trailTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// Delete removes the trail; a trail already gone counts as deleted.
func Delete(ctx context.Context, api API, name string) error {
	_, err := api.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: &name})
	if err != nil && !awserr.HasCode(err, "TrailNotFoundException") {
		return fmt.Errorf("cloudtrail:DeleteTrail %s: %w", name, err)
	}
	return nil
}
