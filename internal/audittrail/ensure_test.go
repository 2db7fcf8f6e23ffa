package audittrail

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func testSpec() Spec {
	return Spec{Backend: "acme", Name: "acme-tfstate-audit", ARN: trailARN, LogBucket: "acme-tfstate-123456789012-logs",
		KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k", StateBucketARN: "arn:aws:s3:::acme-tfstate-123456789012",
		TableARN:    "arn:aws:dynamodb:us-east-1:123456789012:table/acme-tflock",
		LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:acme:*", LogRoleARN: "arn:aws:iam::123456789012:role/acme",
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"}}
}

const trailARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/acme-tfstate-audit"

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeCloudTrail, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f, spec.Name, spec.ARN)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

// hardenedTrail stores a trail that matches spec.
func (f *fakeCloudTrail) hardenedTrail(spec Spec) *fakeTrail {
	f.trail = &fakeTrail{trail: types.Trail{
		Name: aws.String(spec.Name), TrailARN: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:trail/" + spec.Name),
		S3BucketName: aws.String(spec.LogBucket), S3KeyPrefix: aws.String(naming.TrailPrefix), KmsKeyId: aws.String(spec.KeyARN),
		LogFileValidationEnabled: aws.Bool(true), CloudWatchLogsLogGroupArn: aws.String(spec.LogGroupARN), CloudWatchLogsRoleArn: aws.String(spec.LogRoleARN),
	}, logging: true, tags: maps.Clone(spec.Tags)}
	f.trail.selectors = []types.EventSelector{{ReadWriteType: types.ReadWriteTypeAll, DataResources: []types.DataResource{
		{Type: aws.String("AWS::DynamoDB::Table"), Values: []string{spec.TableARN}},
		{Type: aws.String("AWS::S3::Object"), Values: []string{spec.StateBucketARN + "/"}},
	}}}
	return f.trail
}

func TestEnsureCreatesTheTrail(t *testing.T) {
	for name, tc := range map[string]struct {
		spec  func() Spec
		retry bool // CreateTrail first refused while the bucket policy propagates
	}{
		"with alarms": {testSpec, false},
		"without alarms or lock table": {func() Spec {
			s := testSpec()
			s.LogGroupARN, s.LogRoleARN, s.TableARN = "", "", ""
			return s
		}, false},
		"after propagation": {testSpec, true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := tc.spec()
			if tc.retry {
				f.fail["CreateTrail"] = []error{apiError("InsufficientS3BucketPolicyException")}
			}
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			in := f.created[len(f.created)-1]
			if aws.ToString(in.Name) != spec.Name || aws.ToString(in.S3BucketName) != spec.LogBucket || aws.ToString(in.S3KeyPrefix) != naming.TrailPrefix ||
				aws.ToString(in.KmsKeyId) != spec.KeyARN || !aws.ToBool(in.EnableLogFileValidation) {
				t.Errorf("CreateTrail %+v, want %s delivering to s3://%s/%s with %s and validation", in, spec.Name, spec.LogBucket, naming.TrailPrefix, spec.KeyARN)
			}
			if in.IncludeGlobalServiceEvents == nil || *in.IncludeGlobalServiceEvents || in.IsMultiRegionTrail == nil || *in.IsMultiRegionTrail {
				t.Errorf("CreateTrail global %v multi-region %v, want both false", in.IncludeGlobalServiceEvents, in.IsMultiRegionTrail)
			}
			if aws.ToString(in.CloudWatchLogsLogGroupArn) != spec.LogGroupARN || aws.ToString(in.CloudWatchLogsRoleArn) != spec.LogRoleARN ||
				spec.LogGroupARN == "" && (in.CloudWatchLogsLogGroupArn != nil || in.CloudWatchLogsRoleArn != nil) {
				t.Errorf("CreateTrail log group %v role %v, want %q %q", in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn, spec.LogGroupARN, spec.LogRoleARN)
			}
			var sent []string
			for _, tg := range in.TagsList {
				sent = append(sent, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			if want := []string{naming.OwnerTagKey + "=acme", "team=platform"}; !slices.Equal(sent, want) {
				t.Errorf("CreateTrail tags %v, want %v", sent, want)
			}
			want := []string{"CreateTrail", "PutEventSelectors", "StartLogging"}
			if tc.retry {
				want = slices.Insert(want, 0, "CreateTrail")
			}
			if !slices.Equal(f.writes(), want) {
				t.Errorf("writes %v, want %v", f.writes(), want)
			}
			sel := f.selectors[0]
			if aws.ToString(sel.TrailName) != spec.Name || len(sel.EventSelectors) != 1 || sel.EventSelectors[0].ReadWriteType != types.ReadWriteTypeAll ||
				aws.ToBool(sel.EventSelectors[0].IncludeManagementEvents) {
				t.Errorf("PutEventSelectors %+v, want one read-write data-event selector without management events", sel)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
			if !maps.Equal(o.Tags, spec.Tags) || o.ARN == "" {
				t.Errorf("observed %+v, want the trail with the spec's tags", o)
			}
		})
	}
}

func TestEnsureHardensTheTrail(t *testing.T) {
	for name, tc := range map[string]struct {
		spec   func() Spec
		mutate func(*fakeTrail)
		writes []string
	}{
		"compliant":         {testSpec, func(*fakeTrail) {}, nil},
		"stopped":           {testSpec, func(t *fakeTrail) { t.logging = false }, []string{"StartLogging"}},
		"validation off":    {testSpec, func(t *fakeTrail) { t.trail.LogFileValidationEnabled = aws.Bool(false) }, []string{"UpdateTrail"}},
		"other bucket":      {testSpec, func(t *fakeTrail) { t.trail.S3BucketName = aws.String("elsewhere") }, []string{"UpdateTrail"}},
		"key removed":       {testSpec, func(t *fakeTrail) { t.trail.KmsKeyId = nil }, []string{"UpdateTrail"}},
		"log group gone":    {testSpec, func(t *fakeTrail) { t.trail.CloudWatchLogsLogGroupArn = nil }, []string{"UpdateTrail"}},
		"selectors gone":    {testSpec, func(t *fakeTrail) { t.selectors = nil }, []string{"PutEventSelectors"}},
		"tag changed":       {testSpec, func(t *fakeTrail) { t.tags["team"] = "x" }, []string{"AddTags"}},
		"extra tag removed": {testSpec, func(t *fakeTrail) { t.tags["other"] = "x" }, []string{"RemoveTags"}},
		"reserved tag kept": {testSpec, func(t *fakeTrail) { t.tags["aws:cloudformation:stack-name"] = "x" }, nil},
		"alarms removed": {func() Spec {
			s := testSpec()
			s.LogGroupARN, s.LogRoleARN = "", ""
			return s
		}, func(*fakeTrail) {}, []string{"UpdateTrail"}},
		"lock table removed": {func() Spec {
			s := testSpec()
			s.TableARN = ""
			return s
		}, func(*fakeTrail) {}, []string{"PutEventSelectors"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.mutate(f.hardenedTrail(testSpec()))
			spec := tc.spec()
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.writes(), tc.writes) {
				t.Errorf("writes %v, want %v", f.writes(), tc.writes)
			}
			for _, in := range f.updated {
				if aws.ToString(in.Name) != spec.Name || aws.ToString(in.S3BucketName) != spec.LogBucket || aws.ToString(in.S3KeyPrefix) != naming.TrailPrefix ||
					aws.ToString(in.KmsKeyId) != spec.KeyARN || !aws.ToBool(in.EnableLogFileValidation) ||
					in.CloudWatchLogsLogGroupArn == nil || *in.CloudWatchLogsLogGroupArn != spec.LogGroupARN ||
					in.CloudWatchLogsRoleArn == nil || *in.CloudWatchLogsRoleArn != spec.LogRoleARN {
					t.Errorf("UpdateTrail %+v, want every destination field of the spec (empty log group and role to remove them)", in)
				}
			}
			for _, in := range f.removed {
				if len(in.TagsList) != 1 || aws.ToString(in.TagsList[0].Key) != "other" || aws.ToString(in.ResourceId) != o.ARN {
					t.Errorf("RemoveTags(%s, %+v), want the other tag only removed from %s", aws.ToString(in.ResourceId), in.TagsList, o.ARN)
				}
			}
			for _, in := range f.added {
				if len(in.TagsList) != 1 || aws.ToString(in.TagsList[0].Key) != "team" || aws.ToString(in.ResourceId) != o.ARN {
					t.Errorf("AddTags(%s, %+v), want the team tag only on %s", aws.ToString(in.ResourceId), in.TagsList, o.ARN)
				}
			}
			drifttest.Compliant(t, name, Drift(spec, o))
		})
	}
}

func TestEnsureRefusesAnotherBackendsTrail(t *testing.T) {
	for name, tc := range map[string]struct {
		tags    map[string]string
		tracked bool
		wantErr bool
	}{
		"no ownership tag":  {map[string]string{}, false, true},
		"another backend's": {map[string]string{naming.OwnerTagKey: "acme-2"}, false, true},
		"tracked":           {map[string]string{}, true, false},
	} {
		f := newFake()
		f.hardenedTrail(testSpec()).tags = tc.tags
		_, err := observeAndEnsure(context.Background(), f, testSpec(), tc.tracked)
		if tc.wantErr != (err != nil) || tc.wantErr && !strings.Contains(err.Error(), "not created by this backend") {
			t.Errorf("%s: error %v, want a refusal: %v", name, err, tc.wantErr)
		}
		if tc.wantErr && len(f.writes()) != 0 {
			t.Errorf("%s: writes %v, want none", name, f.writes())
		}
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		exists bool
		mutate func(*fakeTrail)
		op     string
		want   string
	}{
		"create":      {false, nil, "CreateTrail", "cloudtrail:CreateTrail acme-tfstate-audit"},
		"get":         {true, nil, "GetTrail", "cloudtrail:GetTrail acme-tfstate-audit"},
		"status":      {true, nil, "GetTrailStatus", "cloudtrail:GetTrailStatus"},
		"selectors":   {true, nil, "GetEventSelectors", "cloudtrail:GetEventSelectors"},
		"tags":        {true, nil, "ListTags", "cloudtrail:ListTags"},
		"update":      {true, func(t *fakeTrail) { t.trail.S3KeyPrefix = nil }, "UpdateTrail", "cloudtrail:UpdateTrail"},
		"put":         {true, func(t *fakeTrail) { t.selectors = nil }, "PutEventSelectors", "cloudtrail:PutEventSelectors"},
		"start":       {true, func(t *fakeTrail) { t.logging = false }, "StartLogging", "cloudtrail:StartLogging"},
		"add tags":    {true, func(t *fakeTrail) { delete(t.tags, "team") }, "AddTags", "cloudtrail:AddTags"},
		"remove tags": {true, func(t *fakeTrail) { t.tags["other"] = "x" }, "RemoveTags", "cloudtrail:RemoveTags"},
		"read create": {false, nil, "ListTags", "cloudtrail:ListTags"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			if tc.exists {
				tr := f.hardenedTrail(testSpec())
				if tc.mutate != nil {
					tc.mutate(tr)
				}
			}
			f.fail[tc.op] = []error{boom}
			if !tc.exists && tc.op != "CreateTrail" {
				// Without a trail, the first read is the observation's.
				f.fail[tc.op] = []error{nil, boom}
			}
			_, err := observeAndEnsure(context.Background(), f, testSpec(), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
}

func TestFindAndDelete(t *testing.T) {
	f := newFake()
	if _, err := Find(context.Background(), f, "acme-tfstate-audit", ""); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing trail: %v, want not found", err)
	}
	f.hardenedTrail(testSpec())
	o, err := Find(context.Background(), f, "acme-tfstate-audit", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := testSpec().selectors(); !slices.Equal(o.Selectors, want) {
		t.Errorf("selectors %v, want %v (sorted)", o.Selectors, want)
	}
	if o.LogGroup != testSpec().LogGroupARN || o.LogRole != testSpec().LogRoleARN || !o.Validation || !o.Logging {
		t.Errorf("Find = %+v", o)
	}
	if err := Delete(context.Background(), f, "acme-tfstate-audit"); err != nil || f.trail != nil {
		t.Errorf("Delete: %v, trail left %v", err, f.trail)
	}
	if err := Delete(context.Background(), f, "acme-tfstate-audit"); err != nil {
		t.Errorf("Delete of a trail already gone: %v", err)
	}
	f.fail["DeleteTrail"] = []error{errors.New("boom")}
	if err := Delete(context.Background(), f, "acme-tfstate-audit"); err == nil || !strings.Contains(err.Error(), "cloudtrail:DeleteTrail") {
		t.Errorf("Delete when refused: %v", err)
	}
}

func TestControlNames(t *testing.T) {
	got := slices.Sorted(slices.Values(ControlNames()))
	want := slices.Sorted(maps.Keys(Drift(testSpec(), &Observed{})))
	if !slices.Equal(got, want) {
		t.Errorf("ControlNames = %v, want the controls of a drift report %v", got, want)
	}
}
