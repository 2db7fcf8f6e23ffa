// Package audittrail manages the CloudTrail trail that records data events on
// a backend's state bucket and lock table: ensure (create or adopt, harden,
// start logging), find, drift and delete.
package audittrail

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

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
	RemoveTags(context.Context, *cloudtrail.RemoveTagsInput, ...func(*cloudtrail.Options)) (*cloudtrail.RemoveTagsOutput, error)
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
	slices.Sort(out)
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

// Find reads the trail, its status, its event selectors and its tags; a
// missing trail is awserr.ErrNotFound, whatever else failed. With the trail's
// ARN the four reads run concurrently (one round trip); without it (import
// knows only the name) the tags are read after GetTrail, with its ARN.
func Find(ctx context.Context, api API, name, arn string) (*Observed, error) {
	var (
		wg                                 sync.WaitGroup
		t                                  *cloudtrail.GetTrailOutput
		st                                 *cloudtrail.GetTrailStatusOutput
		sel                                *cloudtrail.GetEventSelectorsOutput
		listed                             *cloudtrail.ListTagsOutput
		getErr, statusErr, selErr, tagsErr error
	)
	listTags := func(arn string) {
		if listed, tagsErr = api.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}}); tagsErr != nil {
			tagsErr = fmt.Errorf("cloudtrail:ListTags %s: %w", name, tagsErr)
		}
	}
	wg.Go(func() { t, getErr = api.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &name}) })
	wg.Go(func() {
		if st, statusErr = api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &name}); statusErr != nil {
			statusErr = fmt.Errorf("cloudtrail:GetTrailStatus %s: %w", name, statusErr)
		}
	})
	wg.Go(func() {
		if sel, selErr = api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &name}); selErr != nil {
			selErr = fmt.Errorf("cloudtrail:GetEventSelectors %s: %w", name, selErr)
		}
	})
	if arn != "" {
		wg.Go(func() { listTags(arn) })
	}
	wg.Wait()
	var notFound *types.TrailNotFoundException
	switch {
	case errors.As(getErr, &notFound):
		return nil, awserr.NotFound("CloudTrail trail %s", name)
	case getErr != nil:
		getErr = fmt.Errorf("cloudtrail:GetTrail %s: %w", name, getErr)
	case arn == "":
		listTags(aws.ToString(t.Trail.TrailARN))
	}
	if err := errors.Join(getErr, statusErr, selErr, tagsErr); err != nil {
		return nil, err
	}
	tr := t.Trail
	o := &Observed{ARN: aws.ToString(tr.TrailARN), Bucket: aws.ToString(tr.S3BucketName), Prefix: aws.ToString(tr.S3KeyPrefix),
		KeyARN: aws.ToString(tr.KmsKeyId), Validation: aws.ToBool(tr.LogFileValidationEnabled), Tags: map[string]string{},
		LogGroup: aws.ToString(tr.CloudWatchLogsLogGroupArn), LogRole: aws.ToString(tr.CloudWatchLogsRoleArn), Logging: aws.ToBool(st.IsLogging)}
	for _, es := range sel.EventSelectors {
		for _, dr := range es.DataResources {
			for _, v := range dr.Values {
				o.Selectors = append(o.Selectors, string(es.ReadWriteType)+" "+aws.ToString(dr.Type)+" "+v)
			}
		}
	}
	slices.Sort(o.Selectors)
	for _, rt := range listed.ResourceTagList {
		for _, tg := range rt.TagsList {
			o.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return o, nil
}

// Check refuses to adopt a trail that does not carry the backend's ownership
// tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("CloudTrail trail %s already exists and was not created by this backend (no %s=%s tag); rename or delete it",
		spec.Name, naming.OwnerTagKey, spec.Backend)
}

// Ensure makes the trail match the spec, starting from have, what Find
// observed (nil: the trail does not exist and is created). Without tracked
// (the trail is not in state yet) a trail without the ownership tag is
// refused. Only what differs is written: the destination and the event
// selectors before logging is started, the tags meanwhile (added, changed and
// removed ones). The result is one Find after the writes; a new trail whose
// tags it shows missing (a service that ignores tags on create) is tagged and
// read again. The writes to a trail this Ensure created are retried while
// CloudTrail does not see it yet (TrailNotFoundException).
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	created := have == nil
	if created {
		created, err := create(ctx, api, spec)
		if err != nil {
			return nil, err
		}
		have = created
	} else if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	drift := Drift(spec, have)
	var (
		wg                              sync.WaitGroup
		destErr, selErr, logErr, tagErr error
	)
	wg.Go(func() { tagErr = syncTags(ctx, api, spec.Name, have.ARN, have.Tags, spec.Tags, created) })
	// The destination and the selectors first, concurrently; logging is
	// started after both, so no event goes where it should not.
	var first sync.WaitGroup
	if drift[ControlDestination] != "" || drift[ControlValidation] != "" {
		first.Go(func() {
			// Empty strings remove CloudWatch Logs delivery when alarms were removed.
			in := &cloudtrail.UpdateTrailInput{Name: &spec.Name, S3BucketName: &spec.LogBucket,
				S3KeyPrefix: aws.String(naming.TrailPrefix), KmsKeyId: &spec.KeyARN, EnableLogFileValidation: aws.Bool(true),
				CloudWatchLogsLogGroupArn: aws.String(spec.LogGroupARN), CloudWatchLogsRoleArn: aws.String(spec.LogRoleARN)}
			err := retry.AfterCreate(ctx, created, func() error {
				return retry.OnCodes(ctx, retry.PropagationTimeout, retry.TrailPropagation, func() error {
					_, err := api.UpdateTrail(ctx, in)
					return err
				})
			})
			if err != nil {
				destErr = fmt.Errorf("cloudtrail:UpdateTrail %s: %w", spec.Name, err)
			}
		})
	}
	if drift[ControlSelectors] != "" {
		first.Go(func() {
			resources := []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{spec.StateBucketARN + "/"}}}
			if spec.TableARN != "" {
				resources = append(resources, types.DataResource{Type: aws.String("AWS::DynamoDB::Table"), Values: []string{spec.TableARN}})
			}
			if err := retry.AfterCreate(ctx, created, func() error {
				_, err := api.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: &spec.Name, EventSelectors: []types.EventSelector{{
					ReadWriteType: types.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(false), DataResources: resources,
				}}})
				return err
			}); err != nil {
				selErr = fmt.Errorf("cloudtrail:PutEventSelectors %s: %w", spec.Name, err)
			}
		})
	}
	first.Wait()
	if drift[ControlLogging] != "" && destErr == nil && selErr == nil {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &spec.Name})
			return err
		}); err != nil {
			logErr = fmt.Errorf("cloudtrail:StartLogging %s: %w", spec.Name, err)
		}
	}
	wg.Wait()
	if err := errors.Join(destErr, selErr, logErr, tagErr); err != nil {
		return nil, err
	}
	o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Name, have.ARN) })
	if err != nil || !tags.Differ(o.Tags, spec.Tags) {
		return o, err
	}
	// CreateTrail carried the tags; a service that dropped them (an
	// emulator) gets them again.
	if err := syncTags(ctx, api, spec.Name, o.ARN, o.Tags, spec.Tags, created); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Name, o.ARN) })
}

// syncTags turns the trail's tags from have into want: a tag added out of
// band is removed, a removed or changed one written again. created says the
// trail was made moments ago by this Ensure (see write).
func syncTags(ctx context.Context, api API, name, arn string, have, want map[string]string, created bool) error {
	return tags.Apply(have, want, func(keys []string) error {
		list := make([]types.Tag, 0, len(keys))
		for _, k := range keys {
			list = append(list, types.Tag{Key: aws.String(k)})
		}
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: &arn, TagsList: list})
			return err
		}); err != nil {
			return fmt.Errorf("cloudtrail:RemoveTags %s: %w", name, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: &arn, TagsList: trailTags(set)})
			return err
		}); err != nil {
			return fmt.Errorf("cloudtrail:AddTags %s: %w", name, err)
		}
		return nil
	})
}

// create makes the trail with its destination, validation and tags (in the
// CreateTrail request itself: an organisation may deny creating an untagged
// trail), and returns it as made: not logging yet, without event selectors.
func create(ctx context.Context, api API, spec Spec) (*Observed, error) {
	in := &cloudtrail.CreateTrailInput{
		Name: &spec.Name, S3BucketName: &spec.LogBucket, S3KeyPrefix: aws.String(naming.TrailPrefix), KmsKeyId: &spec.KeyARN,
		EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(false), IsMultiRegionTrail: aws.Bool(false),
		TagsList: trailTags(spec.Tags),
	}
	if spec.LogGroupARN != "" {
		in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn = &spec.LogGroupARN, &spec.LogRoleARN
	}
	var out *cloudtrail.CreateTrailOutput
	// A role, bucket policy or key grant written moments ago may not be
	// visible to CloudTrail yet.
	err := retry.OnCodes(ctx, retry.PropagationTimeout, retry.TrailPropagation, func() (err error) {
		out, err = api.CreateTrail(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail:CreateTrail %s: %w", spec.Name, err)
	}
	arn := aws.ToString(out.TrailARN)
	if arn == "" {
		arn = spec.ARN
	}
	return &Observed{ARN: arn, Bucket: spec.LogBucket, Prefix: naming.TrailPrefix, KeyARN: spec.KeyARN, Validation: true,
		LogGroup: spec.LogGroupARN, LogRole: spec.LogRoleARN, Tags: maps.Clone(spec.Tags)}, nil
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
	var notFound *types.TrailNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("cloudtrail:DeleteTrail %s: %w", name, err)
	}
	return nil
}
