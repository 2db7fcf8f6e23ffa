package compliance

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
	"github.com/securestate/terraform-provider-securestate/internal/statevents"
)

// keyControls are the controls of a customer managed key.
var keyControls = []string{kmskey.ControlState, kmskey.ControlRotation, kmskey.ControlPolicy, kmskey.ControlAlias}

// replicaKeyPrefix starts the replica key's controls: the backend reports the
// key controls of the replica key under it (internal/backend, which imports
// this package, so its constant cannot be used here).
const replicaKeyPrefix = "replica_"

// definedControls are the names of every control the component packages
// report, each component specified with everything that adds controls: the
// state bucket with server access logging, Object Lock and EventBridge; the
// replica bucket with Object Lock. The log bucket is gathered as the backend
// specifies it: without server access logging of its own (S3.9 itself says
// to suppress the finding for a logging target bucket), so it has no
// log_bucket_access_logging; nor has the replica bucket, whose events go
// nowhere either.
func definedControls() []string {
	var names []string
	lock := &statebucket.ObjectLock{Mode: "GOVERNANCE", Days: 30}
	names = append(names, statebucket.ControlNames(statebucket.Spec{Logging: &statebucket.Logging{}, ObjectLock: lock, EventBridge: true})...)
	names = append(names, statebucket.ControlNames(statebucket.Spec{Role: statebucket.RoleAccessLogs})...)
	names = append(names, statebucket.ControlNames(statebucket.Spec{Role: statebucket.RoleReplica, ObjectLock: lock})...)
	names = append(names, keyControls...)
	for _, c := range keyControls {
		names = append(names, replicaKeyPrefix+c)
	}
	names = append(names, locktable.ControlNames()...)
	names = append(names, audittrail.ControlNames()...)
	names = append(names, alarms.ControlNames()...)
	names = append(names, replication.ControlRole, replication.ControlRule, statevents.Control)
	names = append(names, accesspolicy.Control("dev"), accesspolicy.Control("prod_eu-1"))
	return names
}

// The gathering reaches every kind of control issue 16 added, so a component
// that stopped reporting one (or a spec here that stopped asking for it)
// fails here rather than silently shrinking the table's check.
func TestDefinedControlsIncludeReplicationAndTamperResistance(t *testing.T) {
	names := definedControls()
	for _, want := range []string{
		statebucket.ControlObjectLock, statebucket.ControlEventNotifications,
		"replica_bucket_encryption", "replica_bucket_object_lock", "replica_" + kmskey.ControlAlias,
		replication.ControlRole, replication.ControlRule, statevents.Control, alarms.ControlReplication,
	} {
		if !slices.Contains(names, want) {
			t.Errorf("definedControls lacks %s: %v", want, names)
		}
	}
	if slices.Contains(names, "replica_bucket_access_logging") || slices.Contains(names, "replica_bucket_event_notifications") {
		t.Errorf("the replica bucket is gathered with controls the backend does not give it: %v", names)
	}
}

// The replica bucket and key are held to their state-side counterparts'
// settings, so each replica control carries exactly its counterpart's IDs
// (and its own Why: the copy's reason is not the original's).
func TestReplicaControlsMirrorTheirCounterparts(t *testing.T) {
	pairs := 0
	for _, c := range Controls() {
		rest, ok := strings.CutPrefix(c, replicaKeyPrefix)
		if !ok || strings.HasPrefix(c, "replication_") {
			continue
		}
		pairs++
		if _, ok := table[rest]; !ok {
			t.Errorf("%s has no counterpart %s in the table", c, rest)
			continue
		}
		if got, want := IDs(c), IDs(rest); !slices.Equal(got, want) {
			t.Errorf("IDs(%s) = %v, want %s's %v", c, got, rest, want)
		}
		if table[c].Why == table[rest].Why {
			t.Errorf("%s repeats %s's Why", c, rest)
		}
	}
	if pairs != 11 {
		t.Errorf("%d replica controls in the table, want 7 bucket and 4 key controls", pairs)
	}
}

func TestEveryDefinedControlHasReferences(t *testing.T) {
	names := definedControls()
	if len(names) < 30 {
		t.Fatalf("only %d controls gathered: %v", len(names), names)
	}
	for _, name := range names {
		r, ok := Lookup(name)
		switch {
		case !ok:
			t.Errorf("%s: no entry", name)
		case strings.TrimSpace(r.Why) == "" || strings.TrimSpace(r.Remediation) == "":
			t.Errorf("%s: Why %q, Remediation %q", name, r.Why, r.Remediation)
		}
	}
}

// Every key of the table is a control some component reports, so a renamed
// control cannot leave a stale entry behind.
func TestEveryEntryIsADefinedControl(t *testing.T) {
	defined := definedControls()
	for _, c := range Controls() {
		if c == accessPolicyFamily {
			c = accesspolicy.Control("dev")
		}
		if !slices.Contains(defined, c) {
			t.Errorf("table entry %q names no control", c)
		}
	}
}

func TestLookup(t *testing.T) {
	dev, ok := Lookup(accesspolicy.Control("dev"))
	if !ok || !slices.Contains(dev.FSBP, "IAM.1") {
		t.Fatalf("access_policy_dev = %+v, %v", dev, ok)
	}
	if prod, _ := Lookup("access_policy_prod"); !slices.Equal(prod.Checkov, dev.Checkov) {
		t.Errorf("environments differ: %v, %v", prod.Checkov, dev.Checkov)
	}
	if logs, _ := Lookup("log_bucket_encryption"); slices.Contains(logs.Checkov, "CKV_AWS_145") || len(logs.SecurityHub) != 0 {
		t.Errorf("the SSE-S3 log bucket carries KMS checks: %+v", logs)
	}
	for _, name := range []string{"", "access_policy_", "bucket", "log_bucket_access_logging", "kms_key_rotation_x"} {
		if r, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v", name, r)
		}
	}
	// The slices are copies: changing them changes nothing for the next caller.
	r, _ := Lookup(kmskey.ControlRotation)
	r.Checkov[0] = "changed"
	if again, _ := Lookup(kmskey.ControlRotation); again.Checkov[0] != "CKV_AWS_7" {
		t.Errorf("Lookup returned the table's slice: %v", again.Checkov)
	}
}

var (
	securityHubID = regexp.MustCompile(`^[A-Za-z0-9]+\.\d+$`)
	cisID         = regexp.MustCompile(`^\d+(\.\d+)+$`)
	checkovID     = regexp.MustCompile(`^CKV2?_AWS_\d+$`)
)

// Every ID has its scheme's form, appears once per control, and is in the
// schemes' natural order in the table itself, so the table reads as IDs lists.
func TestIDsAreWellFormed(t *testing.T) {
	for _, c := range Controls() {
		r := table[c]
		for _, g := range []struct {
			scheme string
			ids    []string
			form   *regexp.Regexp
		}{{"FSBP", r.FSBP, securityHubID}, {"SecurityHub", r.SecurityHub, securityHubID}, {"CIS", r.CIS, cisID}, {"Checkov", r.Checkov, checkovID}} {
			for i, id := range g.ids {
				if !g.form.MatchString(id) {
					t.Errorf("%s: %s ID %q is malformed", c, g.scheme, id)
				}
				if slices.Contains(g.ids[i+1:], id) {
					t.Errorf("%s: %s ID %q appears twice", c, g.scheme, id)
				}
			}
			if !slices.IsSortedFunc(g.ids, naturalCompare) {
				t.Errorf("%s: %s IDs %v are not in natural order", c, g.scheme, g.ids)
			}
		}
		for _, id := range r.FSBP {
			if slices.Contains(r.SecurityHub, id) {
				t.Errorf("%s: %s is listed as FSBP and as another standard's", c, id)
			}
		}
		if ids := IDs(c); len(ids) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
			t.Errorf("%s: IDs has duplicates: %v", c, ids)
		}
	}
}

// Every ID of the table names where it was verified, and the ledger holds
// nothing else.
func TestEveryIDHasASource(t *testing.T) {
	used := map[string]bool{}
	for _, c := range Controls() {
		for _, id := range IDs(c) {
			used[id] = true
			if strings.TrimSpace(sources[id]) == "" {
				t.Errorf("%s: %s has no source", c, id)
			}
		}
	}
	for id := range sources {
		if !used[id] {
			t.Errorf("source for %s, which no control uses", id)
		}
	}
}

// Well-known mappings an auditor will look for first.
func TestGoldenMappings(t *testing.T) {
	for _, tc := range []struct {
		control, id string
	}{
		{kmskey.ControlRotation, "SecurityHub KMS.4"},
		{kmskey.ControlRotation, "CIS 3.6"},
		{kmskey.ControlRotation, "CKV_AWS_7"},
		{statebucket.ControlPolicy, "FSBP S3.5"},
		{statebucket.ControlPolicy, "CIS 2.1.1"},
		{statebucket.ControlPublicAccess, "FSBP S3.8"},
		{statebucket.ControlVersioning, "CKV_AWS_21"},
		{statebucket.ControlEncryption, "CKV_AWS_145"},
		{statebucket.ControlAccessLogging, "CKV_AWS_18"},
		{locktable.ControlPITR, "FSBP DynamoDB.2"},
		{locktable.ControlPITR, "CKV_AWS_28"},
		{locktable.ControlDeletionProtection, "FSBP DynamoDB.6"},
		{locktable.ControlEncryption, "CKV_AWS_119"},
		{audittrail.ControlValidation, "FSBP CloudTrail.4"},
		{audittrail.ControlValidation, "CKV_AWS_36"},
		{accesspolicy.Control("dev"), "FSBP IAM.1"},
		{statebucket.ControlObjectLock, "SecurityHub S3.15"},
		{statebucket.ControlObjectLock, "CKV_AWS_143"},
		{statebucket.ControlEventNotifications, "SecurityHub S3.11"},
		{statebucket.ControlEventNotifications, "CKV2_AWS_62"},
		{replication.ControlRule, "SecurityHub S3.7"},
		{replication.ControlRule, "CKV_AWS_144"},
		{alarms.ControlReplication, "CKV_AWS_319"},
	} {
		if ids := IDs(tc.control); !slices.Contains(ids, tc.id) {
			t.Errorf("IDs(%s) = %v, want %s among them", tc.control, ids, tc.id)
		}
	}
	// KMS.4 is a Security Hub control of the CIS and NIST standards, not of
	// FSBP: it must not be labelled FSBP.
	if ids := IDs(kmskey.ControlRotation); slices.Contains(ids, "FSBP KMS.4") {
		t.Errorf("KMS.4 labelled FSBP: %v", ids)
	}
	// Nor are S3.7, S3.11 and S3.15 (NIST and PCI DSS only).
	for _, c := range []string{replication.ControlRule, statebucket.ControlEventNotifications, statebucket.ControlObjectLock, "replica_bucket_object_lock"} {
		for _, id := range IDs(c) {
			if strings.HasPrefix(id, labelFSBP) {
				t.Errorf("%s: %s labelled FSBP", c, id)
			}
		}
	}
}

func TestIDsOrder(t *testing.T) {
	want := []string{"FSBP S3.8", "CIS 2.1.4", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"}
	if got := IDs(statebucket.ControlPublicAccess); !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	want = []string{"FSBP IAM.1", "FSBP IAM.21", "FSBP KMS.1", "CIS 1.16", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_288", "CKV_AWS_290", "CKV_AWS_355"}
	if got := IDs("access_policy_prod"); !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	if got := IDs(kmskey.ControlAlias); got == nil || len(got) != 0 {
		t.Errorf("IDs of a control without references = %#v, want empty", got)
	}
	if got := IDs("no_such_control"); got != nil {
		t.Errorf("IDs of an unknown control = %v", got)
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"CKV2_AWS_6", "CKV_AWS_28", "CKV_AWS_7", "S3.13", "S3.5", "1.2", "1.16", "3.9", "2.1.4", "CloudWatch.17", "CloudTrail.5", "CloudWatch.15"}
	// Text sorts before a number at the same position: schemes never mix in
	// one list, but the order is total.
	want := []string{"CKV_AWS_7", "CKV_AWS_28", "CKV2_AWS_6", "CloudTrail.5", "CloudWatch.15", "CloudWatch.17", "S3.5", "S3.13", "1.2", "1.16", "2.1.4", "3.9"}
	slices.SortFunc(in, naturalCompare)
	if !slices.Equal(in, want) {
		t.Errorf("sorted = %v, want %v", in, want)
	}
	for _, tc := range []struct {
		a, b string
		sign int
	}{{"S3", "S3", 0}, {"S3", "S3.1", -1}, {"S", "S3", -1}, {"07", "7", 0}, {"a", "b", -1}} {
		if got := naturalCompare(tc.a, tc.b); sign(got) != tc.sign {
			t.Errorf("naturalCompare(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestMarkdown(t *testing.T) {
	md := Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if len(lines) != len(Controls())+2 {
		t.Fatalf("%d lines for %d controls:\n%s", len(lines), len(Controls()), md)
	}
	if !strings.Contains(lines[0], "CIS "+CISVersion) {
		t.Errorf("header %q does not state the CIS version", lines[0])
	}
	for i, c := range Controls() {
		row := lines[i+2]
		if !strings.HasPrefix(row, "| `"+c+"` |") {
			t.Errorf("row %d is %q, want control %s", i, row, c)
		}
		if got := strings.Count(row, " | "); got != 5 {
			t.Errorf("row %q has %d inner separators, want 5", row, got)
		}
		for _, id := range IDs(c) {
			bare := id[strings.LastIndex(id, " ")+1:]
			if !strings.Contains(row, bare) {
				t.Errorf("row for %s lacks %s", c, id)
			}
		}
	}
}

// The committed guide template is what Guide generates (make docs-check
// checks the same for the generated docs/).
func TestGuideIsGenerated(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", "..", GuidePath))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Guide() {
		t.Errorf("%s is stale: run make docs", GuidePath)
	}
	for _, c := range Controls() {
		if !strings.Contains(string(got), "`"+c+"`") {
			t.Errorf("the guide misses %s", c)
		}
	}
}
