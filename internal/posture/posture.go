// Package posture is the vocabulary of an audit: how one control of a backend
// made by anyone measures up against what securestate_backend enforces. The
// component packages assess their own Observed values in these terms (next to
// their Drift, from the same reads), and securestate_backend_audit reports them.
package posture

import (
	"fmt"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

// Status is the outcome of one control.
type Status string

// The statuses an audit reports.
const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	NotApplicable Status = "not_applicable"
	// Unknown: the setting could not be read (access denied, or another
	// error); the observed text names the AWS error code.
	Unknown Status = "unknown"
)

// Statuses lists every status in the order the documentation gives them.
func Statuses() []Status { return []Status{Pass, Fail, NotApplicable, Unknown} }

// Result is one control's outcome and what was observed, in words. Observed
// never holds a secret: it describes settings, not data.
type Result struct {
	Status   Status
	Observed string
}

// Passed is a passing result.
func Passed(observed string) Result { return Result{Pass, observed} }

// Failed is a failing result.
func Failed(observed string) Result { return Result{Fail, observed} }

// Skipped is a control that does not apply to this backend.
func Skipped(why string) Result { return Result{NotApplicable, why} }

// Unreadable is a control whose setting could not be read: err's AWS error
// code (AccessDenied and the like) is named, not its whole text.
func Unreadable(what string, err error) Result {
	code := awserr.Code(err)
	if code == "" {
		code = "error"
	}
	return Result{Unknown, fmt.Sprintf("%s could not be read (%s)", what, code)}
}

// Of is a result from a problem text as Drift reports it: "" passes with
// the compliant description, anything else fails with the problem.
func Of(problem, compliant string) Result {
	if problem == "" {
		return Passed(compliant)
	}
	return Failed(problem)
}
