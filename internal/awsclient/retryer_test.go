package awsclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The retryer tries again the conflicts AWS answers while another change to
// the same object is in progress, keeps the SDK's own retryable codes, and
// does not retry what a caller must see at once.
func TestRetryerRetriesConflicts(t *testing.T) {
	r := newRetryer(4)
	if r.MaxAttempts() != 4 {
		t.Errorf("MaxAttempts = %d, want 4", r.MaxAttempts())
	}
	for code, want := range map[string]bool{
		"ConcurrentModification": true,
		"ConflictException":      true,
		"OperationAborted":       true,
		"ThrottlingException":    true, // the SDK's defaults are kept
		"RequestTimeout":         true,
		// CreateTable's "table already exists", adopted by the lock table.
		"ResourceInUseException": false,
		"AccessDenied":           false,
		"NoSuchEntity":           false,
	} {
		err := &smithy.GenericAPIError{Code: code, Message: "fake"}
		if got := r.IsErrorRetryable(err); got != want {
			t.Errorf("IsErrorRetryable(%s) = %v, want %v", code, got, want)
		}
	}
}

// conflictTransport answers the first calls with status and body (an AWS
// error), and every later call with 200 and ok.
type conflictTransport struct {
	conflicts                  int32
	status                     int
	body, ok                   string
	contentType, okContentType string
	calls                      atomic.Int32
}

func (c *conflictTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := c.calls.Add(1)
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	status, body, ct := http.StatusOK, c.ok, c.okContentType
	if n <= c.conflicts {
		status, body, ct = c.status, c.body, c.contentType
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// fastRetryer is newRetryer with short delays, so the tests wait little.
func fastRetryer() aws.Retryer { return retry.AddWithMaxBackoffDelay(newRetryer(3), time.Millisecond) }

// The SDK's deserializers give the codes ConflictCodes names: an IAM
// ConcurrentModification (409), an S3 OperationAborted (409) and a CloudTrail
// ConflictException (400) are retried
// by a client with the provider's retryer, and the call succeeds.
func TestRetryerRetriesConflictsOverHTTP(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	t.Run("iam", func(t *testing.T) {
		tr := &conflictTransport{conflicts: 1, status: http.StatusConflict, contentType: "text/xml", okContentType: "text/xml",
			body: `<ErrorResponse><Error><Type>Sender</Type><Code>ConcurrentModification</Code><Message>busy</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
			ok:   `<TagRoleResponse><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></TagRoleResponse>`}
		c := iam.New(iam.Options{Region: "us-east-1", Credentials: creds, Retryer: fastRetryer(), HTTPClient: &http.Client{Transport: tr}})
		if _, err := c.TagRole(context.Background(), &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
			t.Fatalf("TagRole: %v", err)
		}
		if n := tr.calls.Load(); n != 2 {
			t.Errorf("%d requests, want 2 (the conflict, then the retry)", n)
		}
	})
	t.Run("s3", func(t *testing.T) {
		tr := &conflictTransport{conflicts: 1, status: http.StatusConflict, contentType: "application/xml", okContentType: "application/xml",
			body: `<Error><Code>OperationAborted</Code><Message>A conflicting conditional operation is currently in progress against this resource. Please try again.</Message></Error>`}
		c := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, Retryer: fastRetryer(), HTTPClient: &http.Client{Transport: tr}})
		if _, err := c.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{Bucket: aws.String("b"),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatalf("PutBucketVersioning: %v", err)
		}
		if n := tr.calls.Load(); n != 2 {
			t.Errorf("%d requests, want 2 (the conflict, then the retry)", n)
		}
	})
	t.Run("cloudtrail", func(t *testing.T) {
		tr := &conflictTransport{conflicts: 1, status: http.StatusBadRequest, contentType: "application/x-amz-json-1.1", okContentType: "application/x-amz-json-1.1",
			body: `{"__type":"ConflictException","Message":"busy"}`, ok: `{}`}
		c := cloudtrail.New(cloudtrail.Options{Region: "us-east-1", Credentials: creds, Retryer: fastRetryer(), HTTPClient: &http.Client{Transport: tr}})
		if _, err := c.StartLogging(context.Background(), &cloudtrail.StartLoggingInput{Name: aws.String("t")}); err != nil {
			t.Fatalf("StartLogging: %v", err)
		}
		if n := tr.calls.Load(); n != 2 {
			t.Errorf("%d requests, want 2 (the conflict, then the retry)", n)
		}
	})
	t.Run("not a conflict", func(t *testing.T) {
		tr := &conflictTransport{conflicts: 1, status: http.StatusForbidden, contentType: "text/xml",
			body: `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`}
		c := iam.New(iam.Options{Region: "us-east-1", Credentials: creds, Retryer: fastRetryer(), HTTPClient: &http.Client{Transport: tr}})
		_, err := c.TagRole(context.Background(), &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || tr.calls.Load() != 1 {
			t.Errorf("TagRole = %v after %d requests, want AccessDenied at once", err, tr.calls.Load())
		}
	})
}
