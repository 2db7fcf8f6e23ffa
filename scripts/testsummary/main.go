// Command testsummary reads `go test -json` events (test2json) on standard
// input and prints the figures `make test` ends on: tests passed, failed and
// skipped (subtests included), and how many acceptance tests (TestAcc…)
// passed. It counts the events' Action and Test fields, never output text, so
// a test that prints "--- PASS" cannot fool it. It exits 1 when an acceptance
// test was skipped, or (with -require-acc) when none passed: a missing
// emulator is a failure, not a skip.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
}

// summary holds the final result of each test, by package and name: a test
// run again (-count) keeps its last result.
type summary struct {
	result map[string]string
}

func read(r io.Reader) (*summary, error) {
	s := &summary{result: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue // not an event (a build error printed as text)
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("reading a test event: %w", err)
		}
		if e.Test == "" {
			continue
		}
		switch e.Action {
		case "pass", "fail", "skip":
			s.result[e.Package+" "+e.Test] = e.Action
		}
	}
	return s, sc.Err()
}

// count returns how many tests ended with action; acc limits it to
// acceptance tests and their subtests.
func (s *summary) count(action string, acc bool) int { return len(s.list(action, acc)) }

func (s *summary) list(action string, acc bool) []string {
	var out []string
	for id, a := range s.result {
		if a == action && (!acc || isAcceptance(id)) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func isAcceptance(id string) bool {
	_, test, _ := strings.Cut(id, " ")
	return strings.HasPrefix(test, "TestAcc")
}

func main() {
	requireAcc := flag.Bool("require-acc", false, "fail when no acceptance test passed")
	endpoint := flag.String("endpoint", "", "the emulator endpoint, for the report")
	cliLog := flag.String("clis", "", "the CLI use records (SECURESTATE_CLI_LOG): count the acceptance tests that ran each CLI")
	out := flag.String("o", "", "also write the summary line to this file")
	flag.Parse()

	s, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	passed, failed, skipped := s.count("pass", false), s.count("fail", false), s.count("skip", false)
	fmt.Printf("test: %d acceptance tests passed against the emulator over TLS (%s)\n", s.count("pass", true), *endpoint)
	line := fmt.Sprintf("test: %d passed, %d failed, %d skipped", passed, failed, skipped)
	bothCLIs := -1
	if *cliLog != "" {
		uses, err := readUses(*cliLog)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		text, both := s.cliCounts(uses)
		line += "; " + text
		bothCLIs = both
	}
	line += "\n"
	fmt.Print(line)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(line), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
	}
	for _, id := range s.list("fail", false) {
		fmt.Println("test: FAILED", id)
	}
	status := 0
	if accSkipped := s.list("skip", true); len(accSkipped) > 0 {
		fmt.Fprintln(os.Stderr, "test: acceptance tests were skipped, which counts as failure:")
		for _, id := range accSkipped {
			fmt.Fprintln(os.Stderr, "  "+id)
		}
		status = 1
	}
	if *requireAcc && s.count("pass", true) == 0 {
		fmt.Fprintln(os.Stderr, "test: no acceptance test ran")
		status = 1
	}
	if *requireAcc && bothCLIs == 0 {
		fmt.Fprintln(os.Stderr, "test: no acceptance test ran both Terraform and OpenTofu")
		status = 1
	}
	os.Exit(status)
}

// use is one record of acctest.recordUse: a test ran a CLI.
type use struct {
	Test    string `json:"test"`
	CLI     string `json:"cli"`
	Version string `json:"version"`
}

func readUses(path string) ([]use, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []use
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var u use
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			return nil, fmt.Errorf("reading a CLI use record %q: %w", line, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// cliCounts says how many passed acceptance tests ran each CLI, and how many
// ran both, by top-level test name (a record from a subtest counts for its
// test; a test name is matched in any package), and how many ran both.
func (s *summary) cliCounts(uses []use) (string, int) {
	passed := map[string]bool{}
	for _, id := range s.list("pass", true) {
		_, test, _ := strings.Cut(id, " ")
		if !strings.Contains(test, "/") {
			passed[test] = true
		}
	}
	ran := map[string]map[string]bool{} // CLI → tests
	versions := map[string]string{}
	for _, u := range uses {
		top, _, _ := strings.Cut(u.Test, "/")
		if !passed[top] {
			continue
		}
		if ran[u.CLI] == nil {
			ran[u.CLI] = map[string]bool{}
		}
		ran[u.CLI][top] = true
		versions[u.CLI] = u.Version
	}
	both := 0
	for test := range ran["terraform"] {
		if ran["tofu"][test] {
			both++
		}
	}
	return fmt.Sprintf("%d acceptance tests ran both Terraform %s and OpenTofu %s (%d ran OpenTofu)",
		both, orNone(versions["terraform"]), orNone(versions["tofu"]), len(ran["tofu"])), both
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
