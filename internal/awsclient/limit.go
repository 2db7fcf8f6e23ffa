package awsclient

import (
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// DefaultMaxInFlight bounds the AWS requests one provider configuration has
// waiting for a response at any moment.
//
// Terraform applies up to 10 resources at once, and one backend's steps fan
// out to about ten independent calls (a new bucket's settings, a key's
// settings, every read of a refresh). Unbounded, a configuration with several
// backends bursts a hundred calls at once into control-plane APIs (S3 bucket
// configuration, KMS, IAM) whose per-account quotas are a few to a few dozen
// requests per second, and a throttled burst only comes back as retries. 32
// lets three backends run at full width, so a single backend never waits on
// the bound, while a burst stays near what those quotas absorb. The SDK's
// standard retryer stays on behind it for the throttling that still happens:
// each attempt takes a slot only for its own round trip, and gives it back
// while the retryer backs off.
const DefaultMaxInFlight = 32

// limitedTransport is an http.RoundTripper that lets at most cap(slots)
// requests through to base at once. A request waiting for a slot gives up
// with its context's error when that context ends.
type limitedTransport struct {
	base  http.RoundTripper
	slots chan struct{}
}

// newLimitedTransport bounds base to n concurrent round trips.
func newLimitedTransport(base http.RoundTripper, n int) *limitedTransport {
	return &limitedTransport{base: base, slots: make(chan struct{}, n)}
}

// RoundTrip waits for a slot, then hands req to the wrapped transport. The
// slot is held until the response headers arrive (or the round trip fails),
// not while the caller reads the body: AWS API responses are small, and a
// body left unclosed must not hold a slot for ever.
func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		// A RoundTripper closes the request body, even when it fails.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, ctx.Err()
	}
	defer func() { <-t.slots }()
	return t.base.RoundTrip(req)
}

// limitInFlight returns an HTTP client for the SDK that sends requests like c
// (the SDK's client, with the CA bundle and TLS settings LoadDefaultConfig
// gave it) but at most n at once. The SDK's buildable client is frozen into
// the plain *http.Client it builds, whose transport is then wrapped.
func limitInFlight(c aws.HTTPClient, n int) (aws.HTTPClient, error) {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	if b, ok := c.(*awshttp.BuildableClient); ok {
		c = b.Freeze()
	}
	hc, ok := c.(*http.Client)
	if !ok {
		return nil, fmt.Errorf("bounding concurrent AWS requests: unexpected HTTP client type %T", c)
	}
	limited := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	limited.Transport = newLimitedTransport(base, n)
	return &limited, nil
}
