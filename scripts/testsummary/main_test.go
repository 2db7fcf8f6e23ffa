package main

import (
	"strings"
	"testing"
)

// Counting goes by the events' Action and Test, not by text: output that
// looks like a result is not counted, a package-level event is not a test,
// and a test run again keeps its last result.
func TestSummaryCountsEventsNotText(t *testing.T) {
	events := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestFake (0.00s)\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"pass","Package":"p","Test":"TestAccB/sub"}`,
		`{"Action":"fail","Package":"p","Test":"TestAccB"}`,
		`{"Action":"skip","Package":"q","Test":"TestAccC"}`,
		`{"Action":"skip","Package":"q","Test":"TestD"}`,
		`{"Action":"fail","Package":"q","Test":"TestE"}`,
		`{"Action":"pass","Package":"q","Test":"TestE"}`,
		`{"Action":"pass","Package":"q"}`,
		`# a build error printed as text`,
	}, "\n")
	s, err := read(strings.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action string
		acc    bool
		want   int
	}{
		{"pass", false, 3}, {"fail", false, 1}, {"skip", false, 2},
		{"pass", true, 1}, {"fail", true, 1}, {"skip", true, 1},
	} {
		if got := s.count(c.action, c.acc); got != c.want {
			t.Errorf("count(%s, acceptance %v) = %d, want %d", c.action, c.acc, got, c.want)
		}
	}
	if got := s.list("skip", true); len(got) != 1 || got[0] != "q TestAccC" {
		t.Errorf("skipped acceptance tests = %v, want [q TestAccC]", got)
	}
}

// The CLI counts come from the use records, for passed acceptance tests
// only, by top-level test (a subtest's record counts for its test).
func TestCLICounts(t *testing.T) {
	events := strings.Join([]string{
		`{"Action":"pass","Package":"p","Test":"TestAccBoth"}`,
		`{"Action":"pass","Package":"p","Test":"TestAccBoth/sub"}`,
		`{"Action":"pass","Package":"p","Test":"TestAccTerraformOnly"}`,
		`{"Action":"fail","Package":"p","Test":"TestAccFailed"}`,
		`{"Action":"pass","Package":"p","Test":"TestUnit"}`,
	}, "\n")
	s, err := read(strings.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	uses := []use{
		{"TestAccBoth/sub", "terraform", "1.11.4"}, {"TestAccBoth", "tofu", "1.10.10"},
		{"TestAccTerraformOnly", "terraform", "1.11.4"},
		{"TestAccFailed", "terraform", "1.11.4"}, {"TestAccFailed", "tofu", "1.10.10"},
		{"TestUnit", "tofu", "1.10.10"},
	}
	want := "1 acceptance tests ran both Terraform 1.11.4 and OpenTofu 1.10.10 (1 ran OpenTofu)"
	if got, both := s.cliCounts(uses); got != want || both != 1 {
		t.Errorf("cliCounts = %q, %d, want %q, 1", got, both, want)
	}
}
