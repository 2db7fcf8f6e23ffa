// Package audit reads a Terraform state backend made by anyone (by hand, by
// cloudposse's tfstate-backend module, by terragrunt's bootstrap, or by
// securestate_backend) and measures it, control by control, against what
// securestate_backend enforces. It only reads: every call is a Get, Describe
// or List. The reads are the component packages' own Observe (Find's reads,
// keeping a failed read per control), and the measures are their Posture
// functions, so an audit and a backend's drift report come from one
// implementation of each read.
package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// Target is what to audit. Only Bucket is required.
type Target struct {
	Bucket string
	// LockTable is the lock table's name or ARN; "" when the backend has
	// none (S3-native locking): its controls are then not applicable.
	LockTable string
	// KMSKey is the key's ID, ARN or alias name ("alias/…"); "" to use the
	// key of the bucket's default encryption.
	KMSKey string
	// Policies maps environment → the ARN of its state access policy.
	Policies map[string]string
}

// Clients are the AWS clients an audit reads with.
type Clients struct {
	S3        statebucket.API
	KMS       kmskey.API
	DynamoDB  locktable.API
	IAM       accesspolicy.API
	Partition string
}

// Report is an audit's outcome: one result per control, and what was found.
type Report struct {
	Controls map[string]posture.Result
	KeyARN   string // the key audited; "" when none was found or named
	TableARN string
}

// ErrBucketNotFound is returned when the bucket does not exist (or is not visible to the
// caller as existing).
var ErrBucketNotFound = errors.New("bucket not found")

// Run audits the target. The bucket, the table and the policies are read
// concurrently; the key after the bucket (when not named, it comes from the
// bucket's encryption). A read that failed makes its
// controls unknown, not the audit fail; only a missing bucket is an error.
func Run(ctx context.Context, c Clients, t Target) (Report, error) {
	rep := Report{Controls: map[string]posture.Result{}}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	put := func(results map[string]posture.Result) {
		mu.Lock()
		defer mu.Unlock()
		maps.Copy(rep.Controls, results)
	}
	if t.LockTable == "" {
		put(all(locktable.ControlNames(), posture.Skipped("no lock table was given: the backend locks with S3 (use_lockfile) or not at all")))
	}
	for env, policyARN := range t.Policies {
		wg.Go(func() { put(map[string]posture.Result{accesspolicy.Control(env): policy(ctx, c, policyARN)}) })
	}

	// The table is read beside the bucket and the key; it is measured once
	// the key (its expected encryption) is known.
	var (
		table           *locktable.Observed
		tableUnreadable map[string]error
		tableErr        error
		tableRead       sync.WaitGroup
	)
	if t.LockTable != "" {
		tableARN := ""
		if strings.HasPrefix(t.LockTable, "arn:") {
			tableARN = t.LockTable
		}
		tableRead.Go(func() { table, tableUnreadable, tableErr = locktable.Observe(ctx, c.DynamoDB, t.LockTable, tableARN) })
	}

	var bucketErr error
	bucket, unreadable, err := statebucket.Observe(ctx, c.S3, t.Bucket)
	switch {
	case awserr.IsNotFound(err):
		wg.Wait()
		tableRead.Wait()
		return rep, fmt.Errorf("%w: S3 bucket %s does not exist", ErrBucketNotFound, t.Bucket)
	case err != nil:
		bucketErr = err
	}
	keyRef, alias := t.KMSKey, ""
	if strings.HasPrefix(keyRef, "alias/") || strings.Contains(keyRef, ":alias/") {
		alias = keyRef
	}
	if keyRef == "" && bucket != nil {
		keyRef, alias = keyFromEncryption(bucket.SSEKey)
	}
	var key *kmskey.Observed
	switch {
	case keyRef == "" && bucketErr == nil && unreadable[statebucket.ControlEncryption] == nil:
		why := "no customer-managed KMS key encrypts the states: the bucket's default encryption is " + encryptionWords(bucket)
		put(map[string]posture.Result{kmskey.ControlState: posture.Failed(why), kmskey.ControlRotation: posture.Failed(why),
			kmskey.ControlPolicy: posture.Failed(why), kmskey.ControlAlias: posture.Skipped("there is no key to name")})
	case keyRef == "":
		put(all(kmskey.PostureControls(), posture.Result{Status: posture.Unknown, Observed: "no key was named and the bucket's encryption could not be read"}))
	default:
		var keyUnreadable map[string]error
		key, keyUnreadable, err = kmskey.Observe(ctx, c.KMS, keyRef, alias)
		if awserr.IsNotFound(err) && alias != "" && bucket != nil && bucket.SSEKey != "" && bucket.SSEKey != alias {
			// The alias is gone: the key the bucket names is audited, its
			// alias reported missing.
			key, keyUnreadable, err = kmskey.Observe(ctx, c.KMS, bucket.SSEKey, alias)
		}
		switch {
		case awserr.IsNotFound(err):
			put(all(kmskey.PostureControls(), posture.Failed("KMS key "+keyRef+" does not exist")))
		case err != nil:
			put(all(kmskey.PostureControls(), posture.Unreadable("the key (kms:DescribeKey)", err)))
		default:
			rep.KeyARN = key.ARN
			put(kmskey.Posture(key, keyUnreadable, alias))
		}
	}
	if bucketErr != nil {
		put(all(statebucket.PostureControls(), posture.Unreadable("the bucket (s3:HeadBucket)", bucketErr)))
	} else {
		a := statebucket.Audit{Partition: c.Partition, AWSManagedKey: key != nil && key.Manager == kmstypes.KeyManagerTypeAws}
		var keyErr error
		if t.KMSKey != "" && key != nil && bucket.SSEKey != "" {
			// The key named must be the one the bucket encrypts with.
			var same bool
			if same, keyErr = sameKey(ctx, c, bucket.SSEKey, key, t.KMSKey); keyErr == nil && !same {
				a.OtherKey = fmt.Sprintf("default encryption uses KMS key %s, not the kms_key given", bucket.SSEKey)
			}
		}
		results := statebucket.Posture(bucket, unreadable, a)
		if keyErr != nil {
			results[statebucket.ControlEncryption] = posture.Unreadable("the bucket's key (kms:DescribeKey)", keyErr)
		}
		put(results)
	}
	if t.LockTable != "" {
		tableRead.Wait()
		switch {
		case awserr.IsNotFound(tableErr):
			put(all(locktable.ControlNames(), posture.Failed("DynamoDB table "+t.LockTable+" does not exist")))
		case tableErr != nil:
			put(all(locktable.ControlNames(), posture.Unreadable("the table (dynamodb:DescribeTable)", tableErr)))
		default:
			rep.TableARN = table.ARN
			awsManaged, err := tableKeyAWSManaged(ctx, c, table, rep.KeyARN)
			if err != nil && tableUnreadable[locktable.ControlEncryption] == nil {
				tableUnreadable[locktable.ControlEncryption] = err
			}
			put(locktable.Posture(table, tableUnreadable, rep.KeyARN, awsManaged))
		}
	}
	wg.Wait()
	return rep, nil
}

// encryptionWords describes a bucket's default encryption when it names no
// customer-managed key.
func encryptionWords(b *statebucket.Observed) string {
	switch b.SSEAlgorithm {
	case "":
		return "not configured"
	case "aws:kms", "aws:kms:dsse":
		return "SSE-KMS with the AWS managed key aws/s3"
	default:
		return b.SSEAlgorithm + " (SSE-S3)"
	}
}

// tableKeyAWSManaged reports whether the table is encrypted with an AWS
// managed key (aws/dynamodb), which the audit must tell from a customer's
// when it has no backend key to compare with; a key it cannot describe is
// an error, which makes the table's encryption unknown.
func tableKeyAWSManaged(ctx context.Context, c Clients, t *locktable.Observed, keyARN string) (bool, error) {
	if t.SSEKey == "" || t.SSEKey == keyARN {
		return false, nil
	}
	_, m, err := kmskey.Identify(ctx, c.KMS, t.SSEKey)
	return m == kmstypes.KeyManagerTypeAws, err
}

// sameKey reports whether the key a bucket's default encryption names (an
// ID, ARN, alias name or alias ARN) is key, which the audit was given as
// named; an alias that does not spell out the key is resolved.
func sameKey(ctx context.Context, c Clients, bucketKey string, key *kmskey.Observed, named string) (bool, error) {
	switch {
	case bucketKey == key.ARN || bucketKey == key.KeyID || bucketKey == named:
		return true, nil
	case strings.HasPrefix(named, "alias/") && strings.HasSuffix(bucketKey, ":"+named):
		return true, nil
	case !strings.Contains(bucketKey, "alias/"):
		return strings.HasSuffix(key.ARN, ":key/"+bucketKey), nil
	}
	arn, _, err := kmskey.Identify(ctx, c.KMS, bucketKey)
	return arn == key.ARN, err
}

// policy audits one environment's access policy.
func policy(ctx context.Context, c Clients, policyARN string) posture.Result {
	o, err := accesspolicy.Find(ctx, c.IAM, policyARN)
	switch {
	case awserr.IsNotFound(err):
		return posture.Failed("IAM policy " + policyARN + " does not exist")
	case err != nil:
		return posture.Unreadable("the policy (iam:GetPolicy, iam:GetPolicyVersion)", err)
	}
	return accesspolicy.Posture(o)
}

// keyFromEncryption turns the key a bucket's default encryption names (a key
// ID, a key ARN, an alias name or an alias ARN) into a reference for
// kmskey.Observe and the alias to check ("" when the bucket names the key
// itself).
func keyFromEncryption(ref string) (keyRef, alias string) {
	if ref == "" {
		return "", ""
	}
	if strings.HasPrefix(ref, "alias/") {
		return ref, ref
	}
	if a, err := arn.Parse(ref); err == nil && strings.HasPrefix(a.Resource, "alias/") {
		// Kept whole: an alias of another account is found only by its
		// ARN (Observe describes it, then reads the key by the key's ARN).
		return ref, ref
	}
	return ref, ""
}

func all(controls []string, r posture.Result) map[string]posture.Result {
	out := make(map[string]posture.Result, len(controls))
	for _, c := range controls {
		out[c] = r
	}
	return out
}

// Summary counts the report's statuses.
type Summary struct {
	Passed, Failed, NotApplicable, Unknown int
	// Score is the share of the controls that apply (passed, failed or
	// unknown) which pass, in percent, rounded down; 0 when none applies.
	Score int
}

// Summarize counts the report's statuses and scores it.
func (r Report) Summarize() Summary {
	var s Summary
	for _, res := range r.Controls {
		switch res.Status {
		case posture.Pass:
			s.Passed++
		case posture.Fail:
			s.Failed++
		case posture.NotApplicable:
			s.NotApplicable++
		case posture.Unknown:
			s.Unknown++
		}
	}
	if applies := s.Passed + s.Failed + s.Unknown; applies > 0 {
		s.Score = s.Passed * 100 / applies
	}
	return s
}

// Satisfied lists the controls that pass, sorted.
func (r Report) Satisfied() []string {
	var out []string
	for _, c := range slices.Sorted(maps.Keys(r.Controls)) {
		if r.Controls[c].Status == posture.Pass {
			out = append(out, c)
		}
	}
	return out
}
