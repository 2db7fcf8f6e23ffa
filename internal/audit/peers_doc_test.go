package audit_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The guide's side-by-side table shows, for every control on which the
// audited shapes differ, each shape's status as testdata/peers.json (which
// the acceptance test TestAccAudit_peers and the securestate_backend audit
// test prove) gives it; controls on which they agree are named below it.
func TestPeersTableInGuide(t *testing.T) {
	want := loadPeers(t)
	raw, err := os.ReadFile("../../templates/guides/audit-existing-backend.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	columns := []string{"handmade", "cloudposse", "terragrunt", "securestate_backend"}
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| (.*) \\|$")
	shown := map[string]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || strings.Count(line, "|") != 6 {
			continue
		}
		control := m[1]
		shown[control] = true
		cells := strings.Split(m[2], "|")
		for i, peer := range columns {
			status, _, _ := strings.Cut(strings.TrimSpace(cells[i]), ":")
			if status != want.Peers[peer][control] {
				t.Errorf("guide: %s for %s reads %q, testdata/peers.json says %q", control, peer, status, want.Peers[peer][control])
			}
		}
	}
	for _, control := range want.Controls {
		same := true
		for _, peer := range columns[1:] {
			same = same && want.Peers[peer][control] == want.Peers[columns[0]][control]
		}
		if same == shown[control] {
			t.Errorf("guide: %s is shown: %v, but the shapes agree on it: %v", control, shown[control], same)
		}
		if same && !strings.Contains(string(raw), "`"+control+"`") {
			t.Errorf("guide: %s, on which all agree, is not named", control)
		}
	}
}
