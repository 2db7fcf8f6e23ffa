// Package drifttest checks the drift reports of the component packages
// (control name → problem, "" when compliant) in their unit tests.
package drifttest

import (
	"strings"
	"testing"
)

// Compliant fails the test when any control of the report names a problem.
func Compliant(t testing.TB, what string, drift map[string]string) {
	t.Helper()
	for control, problem := range drift {
		if problem != "" {
			t.Errorf("%s: %s reports %q", what, control, problem)
		}
	}
}

// Expect checks the report after one change: control names a problem that
// mentions want (or none when want is ""), and every other control is
// compliant, so a change is never blamed on the wrong control.
func Expect(t testing.TB, what string, drift map[string]string, control, want string) {
	t.Helper()
	got := drift[control]
	if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
		t.Errorf("%s: %s = %q, want it to mention %q", what, control, got, want)
	}
	for other, problem := range drift {
		if other != control && problem != "" {
			t.Errorf("%s: unrelated control %s reports %q", what, other, problem)
		}
	}
}
