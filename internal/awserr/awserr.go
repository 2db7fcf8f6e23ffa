// Package awserr classifies AWS errors: one typed "not found", and error codes
// read through smithy's API error interface.
package awserr

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrNotFound is wrapped by finders when the AWS object does not exist (or, for
// KMS keys, is pending deletion).
var ErrNotFound = errors.New("not found")

// NotFound wraps ErrNotFound with what was looked for.
func NotFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Code returns the AWS error code of err, or "".
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// HasCode reports whether err carries one of the codes.
func HasCode(err error, codes ...string) bool {
	c := Code(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// HTTPStatus returns the HTTP status of a failed call, or 0.
func HTTPStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// IsHTTPNotFound reports a 404 without a usable code (HeadBucket has no body).
func IsHTTPNotFound(err error) bool { return HTTPStatus(err) == http.StatusNotFound }

// JoinByName joins errors kept by name (the failed reads of a component's
// Observe, by control) in the order of their names, so that the same
// failures always read the same; nil when there are none.
func JoinByName(errs map[string]error) error {
	joined := make([]error, 0, len(errs))
	for _, name := range slices.Sorted(maps.Keys(errs)) {
		joined = append(joined, errs[name])
	}
	return errors.Join(joined...)
}
