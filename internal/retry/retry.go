// Package retry is the one place that decides when a failed AWS call is tried
// again beyond the SDK's own retryer: only on named error codes (eventual
// consistency, such as a new IAM principal not yet visible to KMS), and only
// until a bound that never outlives the request's context (the resource timeout).
package retry

import (
	"context"
	"errors"
	"time"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

// PropagationTimeout bounds waits for IAM and key-policy propagation.
const PropagationTimeout = 2 * time.Minute

// Codes lists AWS error codes worth retrying for one call.
type Codes []string

// PrincipalPropagation are the codes KMS and S3 return while a principal named
// in a policy is not yet visible to them.
var PrincipalPropagation = Codes{"MalformedPolicyDocumentException", "MalformedPolicy"}

// TrailPropagation are the codes CloudTrail returns while what a trail needs,
// written moments before, is not yet visible to it: the delivery role, the log
// bucket policy and the key policy grant.
var TrailPropagation = Codes{"InvalidCloudWatchLogsRoleArnException", "InsufficientS3BucketPolicyException", "InsufficientEncryptionPolicyException"}

// OnCodes calls f until it succeeds or fails with a code not in codes; it gives
// up after timeout or when ctx ends, returning the last error.
func OnCodes(ctx context.Context, timeout time.Duration, codes Codes, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 250 * time.Millisecond
	for {
		err := f()
		if err == nil || !awserr.HasCode(err, codes...) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
}
