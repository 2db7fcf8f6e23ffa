// Package retry is the one place that decides when a failed AWS call is tried
// again beyond the SDK's own retryer, and how long the provider waits for its
// own writes to show (AWS is eventually consistent): only on named error codes
// (such as a new IAM principal not yet visible to KMS, or an object just
// created not yet visible to reads), and only until a bound that never
// outlives the request's context (the resource timeout).
package retry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

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
// made or written moments before, is not yet visible to it: the delivery role
// and log group, the log bucket and its policy, the key and its policy grant.
var TrailPropagation = Codes{"InvalidCloudWatchLogsRoleArnException", "InvalidCloudWatchLogsLogGroupArnException",
	"InsufficientS3BucketPolicyException", "S3BucketDoesNotExistException", "InsufficientEncryptionPolicyException", "KmsKeyNotFoundException"}

// LoggingTargetPropagation are the codes S3 returns to PutBucketLogging while
// the log bucket, or its policy granting log delivery, written moments
// before, is not yet visible to it.
var LoggingTargetPropagation = Codes{"InvalidTargetBucketForLogging"}

// OnCodes calls f until it succeeds or fails with a code not in codes; it gives
// up after timeout or when ctx ends, returning the last error.
func OnCodes(ctx context.Context, timeout time.Duration, codes Codes, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return poll(ctx, func() (bool, error) {
		err := f()
		return err == nil || !awserr.HasCode(err, codes...), err
	})
}

// maxDelay is the longest pause between two tries of a wait.
const maxDelay = 5 * time.Second

// poll calls f until it says done, with a delay that doubles from 250 ms up
// to maxDelay between calls; when ctx ends first it returns the last error joined
// with the context's.
func poll(ctx context.Context, f func() (done bool, err error)) error {
	delay := 250 * time.Millisecond
	for {
		done, err := f()
		if done {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, maxDelay)
	}
}

// reserve is kept from an operation's deadline when a propagation wait is
// bounded by it, so that what was done can still be saved and reported.
const reserve = 10 * time.Second

// bound is how long a propagation wait may take: PropagationTimeout, or less
// when the operation's own deadline (the resource timeout) comes sooner,
// keeping a quarter of the time left, at most reserve, for afterwards.
func bound(ctx context.Context) time.Duration {
	d := PropagationTimeout
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		left -= min(reserve, left/4)
		d = min(d, left)
	}
	return max(d, 0)
}

// NotVisible are the codes AWS answers a read with while an object written
// moments before is not yet visible to it (finders also report a missing
// object as awserr.ErrNotFound).
var NotVisible = Codes{"NoSuchBucket", "NotFoundException", "ResourceNotFoundException", "NoSuchEntity", "TrailNotFoundException"}

// notVisible reports whether a read failed only because what it reads is not
// visible yet.
func notVisible(err error) bool {
	return awserr.IsNotFound(err) || awserr.HasCode(err, NotVisible...) || awserr.IsHTTPNotFound(err)
}

// WriteNotVisible are the codes AWS answers a write to an object created
// moments before with, while the service that takes the write does not see
// the object yet: the read codes, and DynamoDB's refusal to turn on
// point-in-time recovery on a table that has only just become ACTIVE.
var WriteNotVisible = append(Codes{"ContinuousBackupsUnavailableException", "TableNotFoundException"}, NotVisible...)

// AfterCreate calls a write to an object created moments before (created)
// until it stops failing with one of WriteNotVisible's codes, within the
// propagation bound (as the hashicorp/aws provider retries such writes); a
// write to an object that existed before is called once.
func AfterCreate(ctx context.Context, created bool, write func() error) error {
	if !created {
		return write()
	}
	return OnCodes(ctx, bound(ctx), WriteNotVisible, write)
}

// Visible reads until the object a write just created or changed can be read:
// it retries "not found", and nothing else, until the propagation bound.
func Visible[T any](ctx context.Context, read func() (T, error)) (T, error) {
	var v T
	ctx, cancel := context.WithTimeout(ctx, bound(ctx))
	defer cancel()
	err := poll(ctx, func() (bool, error) {
		var err error
		v, err = read()
		if err != nil && notVisible(err) {
			return false, err
		}
		return true, err
	})
	return v, err
}

// ConsistentReads is how many reads in a row must show a component's writes
// once one read has shown them missing: AWS answers reads from replicas, and
// a read that has the change may be followed by one that has not. When the
// first read after the writes already shows them, it is taken as it is.
const ConsistentReads = 2

// NotSettledError says that a component's controls still read differently
// from what was written when the propagation bound was reached.
type NotSettledError struct {
	Component string
	Pending   map[string]string // control → problem, as last read
	Waited    time.Duration
}

func (e *NotSettledError) Error() string {
	names := slices.Sorted(maps.Keys(e.Pending))
	lines := make([]string, 0, len(names))
	for _, n := range names {
		lines = append(lines, n+": "+e.Pending[n])
	}
	return fmt.Sprintf("%s: after writing, %s still read differently %s later:\n  %s", e.Component,
		plural(len(names), "this control", "these controls"), e.Waited.Round(time.Second), strings.Join(lines, "\n  "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Settle waits until what a component's writes set shows in its reads.
// pending says, from the last read, which controls still differ (control →
// problem; "" is compliant); read reads the component again. The first check
// uses the read the component's ensure ended with. Each wait is logged at
// debug with the component and control. Settle gives up at the propagation
// bound with *NotSettledError, and returns the error of a read that fails
// other than with "not found".
func Settle(ctx context.Context, component string, read func(context.Context) error, pending func() map[string]string) error {
	start := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, bound(ctx))
	defer cancel()
	delay := 250 * time.Millisecond
	inconsistent, clean, missing := false, 0, false
	var differ map[string]string
	for {
		differ = map[string]string{}
		for control, problem := range pending() {
			if problem != "" {
				differ[control] = problem
			}
		}
		switch {
		case missing:
			// The last read did not find the object: what pending judged is
			// the read before it, which proves nothing now.
			inconsistent, clean = true, 0
			differ[component] = "not visible to reads yet"
		case len(differ) == 0:
			clean++
			if !inconsistent || clean >= ConsistentReads {
				return nil
			}
		default:
			inconsistent, clean = true, 0
		}
		for control, problem := range differ {
			tflog.Debug(ctx, "waiting for a write to propagate", map[string]any{"component": component, "control": control, "problem": problem})
		}
		select {
		case <-waitCtx.Done():
			return settleEnd(ctx, component, differ, start)
		case <-time.After(delay):
		}
		if len(differ) == 0 {
			delay = 250 * time.Millisecond
		} else {
			delay = min(2*delay, maxDelay)
		}
		err := read(waitCtx)
		missing = err != nil && notVisible(err)
		if err != nil && !missing {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				// The bound ended the read: judge by the last one.
				return settleEnd(ctx, component, differ, start)
			}
			return err
		}
	}
}

// settleEnd is Settle's answer when its bound ends: nil when the last read
// showed every write (the bound only cut the confirmation short), the
// caller's context error when the operation itself ended, else the controls
// that still differ.
func settleEnd(ctx context.Context, component string, differ map[string]string, start time.Time) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case len(differ) == 0:
		return nil
	}
	return &NotSettledError{Component: component, Pending: differ, Waited: time.Since(start)}
}
