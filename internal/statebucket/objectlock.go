package statebucket

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
)

// ObjectLock is a bucket's default retention: every new object version is
// retained for Days in Mode (GOVERNANCE: no one without
// s3:BypassGovernanceRetention may delete or overwrite it early; COMPLIANCE:
// no one at all).
type ObjectLock struct {
	Mode string // "GOVERNANCE" or "COMPLIANCE"
	Days int32
}

// ControlObjectLock names the Object Lock control: present when the spec
// wants a default retention.
const ControlObjectLock = "bucket_object_lock"

// versioningNotYetEnabled are the codes S3 answers PutObjectLockConfiguration
// with while the bucket's versioning, enabled moments before, does not show
// as Enabled to it yet.
var versioningNotYetEnabled = retry.Codes{"InvalidBucketState"}

// objectLockProblem: "" when Object Lock is on with exactly the wanted
// default retention.
func objectLockProblem(want ObjectLock, o *Observed) string {
	wanted := retentionWords(want.Mode, want.Days, 0)
	switch {
	case !o.ObjectLockEnabled:
		return "object lock is off"
	case o.ObjectLockMode == "":
		return "no default retention, want " + wanted
	case o.ObjectLockMode != want.Mode || o.ObjectLockYears != 0 || o.ObjectLockDays != want.Days:
		return fmt.Sprintf("default retention is %s, want %s", retentionWords(o.ObjectLockMode, o.ObjectLockDays, o.ObjectLockYears), wanted)
	}
	return ""
}

// retentionWords says "GOVERNANCE 10 days" (or "COMPLIANCE 1 year" for a
// rule in years).
func retentionWords(mode string, days, years int32) string {
	if years > 0 {
		return fmt.Sprintf("%s %d %s", mode, years, plural(years, "year", "years"))
	}
	return fmt.Sprintf("%s %d %s", mode, days, plural(days, "day", "days"))
}

func plural(n int32, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// observeObjectLock copies what GetObjectLockConfiguration answered.
func observeObjectLock(o *Observed, c *types.ObjectLockConfiguration) {
	if c == nil {
		return
	}
	o.ObjectLockEnabled = c.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	if c.Rule == nil || c.Rule.DefaultRetention == nil || c.Rule.DefaultRetention.Mode == "" {
		return
	}
	r := c.Rule.DefaultRetention
	o.ObjectLockMode = string(r.Mode)
	o.ObjectLockDays = aws.ToInt32(r.Days)
	if years := aws.ToInt32(r.Years); years > 0 {
		o.ObjectLockYears, o.ObjectLockDays = years, 365*years
	}
}

// putObjectLock switches Object Lock on with the default retention l (nil:
// none), retrying while S3 does not see the bucket's versioning as Enabled yet.
func putObjectLock(ctx context.Context, api API, bucket string, l *ObjectLock) error {
	cfg := &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}
	if l != nil {
		cfg.Rule = &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionMode(l.Mode), Days: aws.Int32(l.Days)}}
	}
	if err := retry.OnCodes(ctx, retry.PropagationTimeout, versioningNotYetEnabled, func() error {
		_, err := api.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &bucket, ObjectLockConfiguration: cfg})
		return err
	}); err != nil {
		return fmt.Errorf("s3:PutObjectLockConfiguration %s: %w", bucket, err)
	}
	return nil
}

// ClearDefaultRetention removes the bucket's default retention rule, keeping
// Object Lock on (S3 cannot switch it off): new versions are no longer
// retained; the versions written keep their retention. S3 refuses to remove a
// COMPLIANCE rule no more than a GOVERNANCE one: refusing that is the
// caller's decision.
func ClearDefaultRetention(ctx context.Context, api API, bucket string) error {
	return putObjectLock(ctx, api, bucket, nil)
}

// retentionReaders bounds the concurrent per-version reads of Retained.
const retentionReaders = 8

// noObjectLock are the codes S3 answers a version's retention or legal hold
// read with when it has none: NoSuchObjectLockConfiguration for the version,
// InvalidRequest (or ObjectLockConfigurationNotFoundError) for a bucket
// without Object Lock.
var noObjectLock = []string{"NoSuchObjectLockConfiguration", "InvalidRequest", "ObjectLockConfigurationNotFoundError"}

// versionGone are the codes of a version deleted since it was listed.
var versionGone = []string{"NoSuchVersion", "NoSuchKey"}

// Retained reports how many object versions in the bucket cannot be deleted
// at now: under a retention that ends after now, or under a legal hold; and
// the latest date a retention among them ends (zero when only legal holds
// keep them: those last until someone lifts them). A bucket without Object
// Lock holds none (one GetObjectLockConfiguration, nothing listed).
// Otherwise every version is read (GetObjectRetention, and
// GetObjectLegalHold for one not retained), retentionReaders at a time;
// delete markers are never retained. A read that fails is an error, as a
// version that could not be read may be retained.
func Retained(ctx context.Context, api API, bucket string, now time.Time) (n int, until time.Time, err error) {
	_, err = api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &bucket})
	switch {
	case awserr.HasCode(err, "ObjectLockConfigurationNotFoundError", "NoSuchBucket"):
		// No Object Lock, or no bucket (a destroy that stopped part-way
		// deleted it): nothing retained.
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, fmt.Errorf("s3:GetObjectLockConfiguration %s: %w", bucket, err)
	}
	var versions []types.ObjectVersion
	p := s3.NewListObjectVersionsPaginator(api, &s3.ListObjectVersionsInput{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("s3:ListObjectVersions %s: %w", bucket, err)
		}
		versions = append(versions, page.Versions...)
	}
	type verdict struct {
		kept  bool
		until time.Time
		err   error
	}
	verdicts := make([]verdict, len(versions))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(retentionReaders, len(versions)) {
		wg.Go(func() {
			for i := range next {
				kept, until, err := versionRetained(ctx, api, bucket, versions[i], now)
				verdicts[i] = verdict{kept, until, err}
			}
		})
	}
	for i := range versions {
		next <- i
	}
	close(next)
	wg.Wait()
	var errs []error
	for _, v := range verdicts {
		switch {
		case v.err != nil:
			errs = append(errs, v.err)
		case v.kept:
			n++
			if v.until.After(until) {
				until = v.until
			}
		}
	}
	if len(errs) > 0 {
		return 0, time.Time{}, fmt.Errorf("reading the retention of %d of the %d object versions in %s failed, the first: %w", len(errs), len(versions), bucket, errs[0])
	}
	return n, until, nil
}

// versionRetained reads whether one version cannot be deleted at now, and
// until when its retention lasts (zero for a legal hold alone).
func versionRetained(ctx context.Context, api API, bucket string, v types.ObjectVersion, now time.Time) (bool, time.Time, error) {
	which := fmt.Sprintf("%s/%s (version %s)", bucket, aws.ToString(v.Key), aws.ToString(v.VersionId))
	ret, err := api.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
	switch {
	case awserr.HasCode(err, versionGone...):
		return false, time.Time{}, nil
	case awserr.HasCode(err, noObjectLock...):
	case err != nil:
		return false, time.Time{}, fmt.Errorf("s3:GetObjectRetention %s: %w", which, err)
	case ret.Retention != nil && ret.Retention.RetainUntilDate != nil && ret.Retention.RetainUntilDate.After(now):
		return true, *ret.Retention.RetainUntilDate, nil
	}
	hold, err := api.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
	switch {
	case awserr.HasCode(err, versionGone...), awserr.HasCode(err, noObjectLock...):
		return false, time.Time{}, nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("s3:GetObjectLegalHold %s: %w", which, err)
	}
	return hold.LegalHold != nil && hold.LegalHold.Status == types.ObjectLockLegalHoldStatusOn, time.Time{}, nil
}
