package locks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

const (
	bucket = "acme-tfstate-111122223333"
	table  = "acme-tflock"
)

var (
	now   = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	hours = func(n float64) time.Time { return now.Add(-time.Duration(n * float64(time.Hour))) }
)

// record is a lock record as Terraform writes it.
func lockRecord(id, op, who, version string, created time.Time, path string) string {
	return fmt.Sprintf(`{"ID":%q,"Operation":%q,"Info":"","Who":%q,"Version":%q,"Created":%q,"Path":%q}`,
		id, op, who, version, created.Format(time.RFC3339Nano), path)
}

// got is what a test compares of a lock.
type got struct {
	Kind, Path, Source, ID, Who, Operation, Version string
	Created                                         time.Time
	Age                                             time.Duration
	Stale                                           bool
	Err                                             string
}

func summary(r Report) []got {
	var out []got
	for _, l := range r.Locks {
		out = append(out, got(l))
	}
	return out
}

func check(t *testing.T, rep Report, want []got) {
	t.Helper()
	have := summary(rep)
	if !slices.Equal(have, want) {
		t.Errorf("locks:\n%s\nwant:\n%s", lines(have), lines(want))
	}
}

func lines(gs []got) string {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "  %+v\n", g)
	}
	return b.String()
}

// A backend locked with both a lock file and a DynamoDB item, beside
// everything that is no lock of it: states, backups, the digest items, the
// lock items of another bucket sharing the table. Each lock is read with its
// record; digests and other buckets' items are left out; several pages of
// each listing are read.
func TestListReadsLockFilesAndLockItems(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, pageSize: 2, objects: map[string]fakeObject{
		"dev/terraform.tfstate":                         {body: "{}", modified: hours(30)},
		"dev/terraform.tfstate.tflock":                  {body: lockRecord("a1", "OperationTypeApply", "ci@runner-7", "1.11.4", hours(5), bucket+"/dev/terraform.tfstate"), modified: hours(4.9)},
		"dev/terraform.tfstate.backup":                  {body: "{}"},
		"prod/terraform.tfstate":                        {body: "{}"},
		"prod/workspaces/blue/terraform.tfstate.tflock": {body: lockRecord("b2", "OperationTypePlan", "ana@laptop", "1.10.10", hours(0.5), ""), modified: hours(0.5)},
		"notes/readme.txt":                              {body: "hello"},
		"prod/terraform.tflock.txt":                     {body: "x"},
	}}
	ddb := &fakeDynamoDB{table: table, pageSize: 1, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/dev/terraform.tfstate", "Info", lockRecord("a1", "OperationTypeApply", "ci@runner-7", "1.11.4", hours(5), bucket+"/dev/terraform.tfstate")),
		item("LockID", bucket+"/dev/terraform.tfstate-md5", "Digest", "0cc175b9c0f1b6a831c399e269772661"),
		item("LockID", bucket+"/prod/terraform.tfstate-md5", "Digest", "92eb5ffee6ae2fec3ad71c777531578f"),
		item("LockID", "other-bucket/dev/terraform.tfstate", "Info", lockRecord("c3", "OperationTypeApply", "x@y", "1.9.0", hours(50), "")),
	}}
	rep, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: table, StaleAfter: 4 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, []got{
		{Kind: KindDynamoDB, Path: "dev/terraform.tfstate", Source: bucket + "/dev/terraform.tfstate", ID: "a1", Who: "ci@runner-7", Operation: "OperationTypeApply", Version: "1.11.4", Created: hours(5), Age: 5 * time.Hour, Stale: true},
		{Kind: KindLockFile, Path: "dev/terraform.tfstate", Source: "dev/terraform.tfstate.tflock", ID: "a1", Who: "ci@runner-7", Operation: "OperationTypeApply", Version: "1.11.4", Created: hours(5), Age: 5 * time.Hour, Stale: true},
		{Kind: KindLockFile, Path: "prod/workspaces/blue/terraform.tfstate", Source: "prod/workspaces/blue/terraform.tfstate.tflock", ID: "b2", Who: "ana@laptop", Operation: "OperationTypePlan", Version: "1.10.10", Created: hours(0.5), Age: 30 * time.Minute},
	})
	if rep.StaleCount() != 2 || len(rep.Unreadable()) != 0 {
		t.Errorf("stale %d, unreadable %v; want 2 and none", rep.StaleCount(), rep.Unreadable())
	}
	if len(s3.lists) < 4 || len(ddb.scans) != 4 {
		t.Errorf("%d ListObjectsV2 and %d Scan pages read; want every page (4 and 4)", len(s3.lists), len(ddb.scans))
	}
	slices.Sort(s3.gets)
	if want := []string{"dev/terraform.tfstate.tflock", "prod/workspaces/blue/terraform.tfstate.tflock"}; !slices.Equal(s3.gets, want) {
		t.Errorf("objects read %v, want only the lock files %v", s3.gets, want)
	}
	for _, in := range ddb.scans {
		if !aws.ToBool(in.ConsistentRead) {
			t.Error("Scan without ConsistentRead: a lock taken a moment before may be missed")
		}
	}
}

// The prefix narrows both listings: S3 lists only under it, and only lock
// items of states under it are reported.
func TestPrefixNarrowsBoth(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{
		"dev/terraform.tfstate.tflock":  {body: lockRecord("a1", "OperationTypeApply", "w", "1.11.4", hours(1), "")},
		"prod/terraform.tfstate.tflock": {body: lockRecord("b2", "OperationTypeApply", "w", "1.11.4", hours(2), "")},
	}}
	ddb := &fakeDynamoDB{table: table, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/dev/terraform.tfstate", "Info", lockRecord("a1", "OperationTypeApply", "w", "1.11.4", hours(1), "")),
		item("LockID", bucket+"/prod/terraform.tfstate", "Info", lockRecord("b2", "OperationTypeApply", "w", "1.11.4", hours(2), "")),
	}}
	rep, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, Prefix: "prod/", LockTable: table, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Locks {
		if !strings.HasPrefix(l.Path, "prod/") {
			t.Errorf("a lock outside the prefix: %+v", l)
		}
	}
	if len(rep.Locks) != 2 {
		t.Errorf("%d locks, want prod's lock file and item", len(rep.Locks))
	}
	if p := aws.ToString(s3.lists[0].Prefix); p != "prod/" {
		t.Errorf("ListObjectsV2 prefix %q, want prod/", p)
	}
}

// Without a lock table only lock files are read; the table is never
// scanned.
func TestWithoutTableOnlyLockFiles(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{
		"dev/terraform.tfstate.tflock": {body: lockRecord("a1", "OperationTypeApply", "w", "1.11.4", hours(1), "")},
	}}
	ddb := &fakeDynamoDB{table: table}
	rep, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Locks) != 1 || rep.Locks[0].Kind != KindLockFile || len(ddb.scans) != 0 {
		t.Errorf("locks %v, %d scans; want the lock file and no scan", summary(rep), len(ddb.scans))
	}
}

// A table named by ARN is scanned by that ARN (a table of another account).
func TestTableByARN(t *testing.T) {
	tableARN := "arn:aws:dynamodb:us-east-1:222222222222:table/" + table
	ddb := &fakeDynamoDB{table: tableARN, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/dev/terraform.tfstate", "Info", lockRecord("a1", "OperationTypeApply", "w", "1.11.4", hours(1), "")),
	}}
	rep, err := List(context.Background(), Clients{S3: &fakeS3{bucket: bucket}, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: tableARN, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Locks) != 1 || rep.Locks[0].ID != "a1" {
		t.Errorf("locks %v, want the item", summary(rep))
	}
}

// A lock file or item that cannot be read as a lock is reported with what
// is known and why, never dropped: denied reads, broken or foreign bodies,
// an item without Info. Their errors never quote the body.
func TestUnreadableLocksAreReported(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	at := hours(2)
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{
		"a/terraform.tfstate.tflock": {modified: at, getErr: denied},
		"b/terraform.tfstate.tflock": {modified: at, body: "password=hunter2"},
		"c/terraform.tfstate.tflock": {modified: at, body: ""},
		"d/terraform.tfstate.tflock": {modified: at, body: `{"ID": 42}`},
		"e/terraform.tfstate.tflock": {modified: at, body: `["hunter2"]`},
		"f/terraform.tfstate.tflock": {modified: at, body: `{"Who":"ci@runner"}`},
		"g/terraform.tfstate.tflock": {modified: at, body: `{"ID":"g7","Created":"yesterday hunter2"}`},
		"h/terraform.tfstate.tflock": {modified: at, body: `{"ID":"h8","Created":"` + strings.Repeat("x", maxRecordBytes)},
		"i/terraform.tfstate.tflock": {modified: at, body: `{"ID":"i9"`, readErr: &smithy.GenericAPIError{Code: "RequestTimeout"}},
	}}
	ddb := &fakeDynamoDB{table: table, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/x/terraform.tfstate"),
		item("LockID", bucket+"/y/terraform.tfstate", "Info", "{hunter2"),
		{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/z/terraform.tfstate"}, "Info": &ddbtypes.AttributeValueMemberN{Value: "7"}},
	}}
	rep, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: table, StaleAfter: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	file := func(p, id, who, msg string) got {
		return got{Kind: KindLockFile, Path: p + "/terraform.tfstate", Source: p + "/terraform.tfstate.tflock", ID: id, Who: who, Created: at, Age: 2 * time.Hour, Stale: true, Err: msg}
	}
	itemLock := func(p, msg string) got {
		return got{Kind: KindDynamoDB, Path: p + "/terraform.tfstate", Source: bucket + "/" + p + "/terraform.tfstate", Err: msg}
	}
	check(t, rep, []got{
		file("a", "", "", "s3:GetObject failed (AccessDenied)"),
		file("b", "", "", "not a lock record: invalid JSON at byte 1"),
		file("c", "", "", "not a lock record: empty"),
		file("d", "", "", "not a lock record: ID is not a string"),
		file("e", "", "", "not a lock record: not a JSON object"),
		file("f", "", "ci@runner", "not a lock record: no ID"),
		file("g", "g7", "", "the lock record's Created is not an RFC 3339 time"),
		file("h", "", "", "not a lock record: larger than 64 KiB"),
		file("i", "", "", "reading the lock file failed after 10 bytes (RequestTimeout)"),
		itemLock("x", "not a lock record: the item has no Info string"),
		itemLock("y", "not a lock record: invalid JSON at byte 2"),
		itemLock("z", "not a lock record: the item has no Info string"),
	})
	if n := len(rep.Unreadable()); n != 12 {
		t.Errorf("%d unreadable, want 12", n)
	}
	for _, l := range rep.Locks {
		if strings.Contains(l.Err, "hunter2") {
			t.Errorf("an error quotes the record: %q", l.Err)
		}
	}
}

// A lock file deleted between the listing and its read was released
// meanwhile: it is no lock, and no error.
func TestReleasedWhileListingIsLeftOut(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{
		"dev/terraform.tfstate.tflock": {body: lockRecord("a1", "OperationTypeApply", "w", "1.11.4", hours(1), "")},
	}}
	// Listed, then gone before GetObject.
	gone := &releasingS3{fakeS3: s3, release: "dev/terraform.tfstate.tflock"}
	rep, err := List(context.Background(), Clients{S3: gone}, Query{Bucket: bucket, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Locks) != 0 || len(s3.gets) != 1 {
		t.Errorf("locks %v after the lock file was released, %d reads; want none and one read", summary(rep), len(s3.gets))
	}
}

// A digest item is recognised by its Digest attribute, not by its LockID
// alone: the lock item of a state whose own key ends in -md5 is reported.
func TestDigestItemsAreNotLocks(t *testing.T) {
	ddb := &fakeDynamoDB{table: table, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/backup-md5", "Info", lockRecord("m1", "OperationTypeApply", "w", "1.11.4", hours(1), "")),
		item("LockID", bucket+"/backup-md5-md5", "Digest", "d41d8cd98f00b204e9800998ecf8427e"),
		item("LockID", bucket+"/dev/terraform.tfstate-md5", "Digest", ""),
		item("LockID", bucket+"/odd-md5"),
	}}
	rep, err := List(context.Background(), Clients{S3: &fakeS3{bucket: bucket}, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: table, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, []got{
		{Kind: KindDynamoDB, Path: "backup-md5", Source: bucket + "/backup-md5", ID: "m1", Who: "w", Operation: "OperationTypeApply", Version: "1.11.4", Created: hours(1), Age: time.Hour},
		{Kind: KindDynamoDB, Path: "odd-md5", Source: bucket + "/odd-md5", Err: "not a lock record: the item has no Info string"},
	})
}

// Age and staleness at the injected clock: stale only when strictly older
// than stale_after; none stale without it; a lock dated in the future
// (clock skew) is 0 seconds old; a lock of unknown age is never stale.
func TestAgeAndStale(t *testing.T) {
	cases := []struct {
		name       string
		created    time.Time
		staleAfter time.Duration
		age        time.Duration
		stale      bool
	}{
		{"younger", now.Add(-59 * time.Minute), time.Hour, 59 * time.Minute, false},
		{"exactly the limit", now.Add(-time.Hour), time.Hour, time.Hour, false},
		{"a second older", now.Add(-time.Hour - time.Second), time.Hour, time.Hour + time.Second, true},
		{"no limit", now.Add(-1000 * time.Hour), 0, 1000 * time.Hour, false},
		{"in the future", now.Add(time.Minute), time.Nanosecond, 0, false},
		{"unknown", time.Time{}, time.Nanosecond, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := Lock{Created: c.created}
			judge(&l, Query{StaleAfter: c.staleAfter, Now: now})
			if l.Age != c.age || l.Stale != c.stale {
				t.Errorf("age %v, stale %v; want %v, %v", l.Age, l.Stale, c.age, c.stale)
			}
		})
	}
}

// Oldest first; unknown age last; ties by path, kind and source; whatever
// order the listings come in.
func TestSortedOldestFirst(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{
		"b/terraform.tfstate.tflock": {body: lockRecord("b", "OperationTypeApply", "w", "1", hours(3), "")},
		"a/terraform.tfstate.tflock": {body: lockRecord("a", "OperationTypeApply", "w", "1", hours(1), "")},
		"c/terraform.tfstate.tflock": {body: lockRecord("c", "OperationTypeApply", "w", "1", hours(3), "")},
	}}
	ddb := &fakeDynamoDB{table: table, items: []map[string]ddbtypes.AttributeValue{
		item("LockID", bucket+"/u/terraform.tfstate", "Info", `{"ID":"u"}`),
		item("LockID", bucket+"/c/terraform.tfstate", "Info", lockRecord("c", "OperationTypeApply", "w", "1", hours(3), "")),
		item("LockID", bucket+"/t/terraform.tfstate", "Info", `{"ID":"t"}`),
		item("LockID", bucket+"/a/terraform.tfstate", "Info", lockRecord("a", "OperationTypeApply", "w", "1", hours(9), "")),
	}}
	for range 5 {
		rep, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: table, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, l := range rep.Locks {
			order = append(order, l.Kind+":"+l.Path)
		}
		want := []string{
			"dynamodb:a/terraform.tfstate", // 9 h
			"lockfile:b/terraform.tfstate", // 3 h, by path
			"dynamodb:c/terraform.tfstate", // 3 h, by kind
			"lockfile:c/terraform.tfstate",
			"lockfile:a/terraform.tfstate", // 1 h
			"dynamodb:t/terraform.tfstate", // unknown age, by path
			"dynamodb:u/terraform.tfstate",
		}
		if !slices.Equal(order, want) {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

// Lock files are read at most `workers` at a time, and all of them.
func TestLockFilesReadConcurrentlyBounded(t *testing.T) {
	s3 := &fakeS3{bucket: bucket, objects: map[string]fakeObject{}}
	for i := range 20 {
		key := fmt.Sprintf("s%02d/terraform.tfstate", i)
		s3.objects[key+LockFileSuffix] = fakeObject{body: lockRecord(fmt.Sprint(i), "OperationTypeApply", "w", "1", hours(1), "")}
	}
	rep, err := List(context.Background(), Clients{S3: s3}, Query{Bucket: bucket, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Locks) != 20 || s3.most > workers || s3.most < 2 {
		t.Errorf("%d locks, at most %d reads at once; want 20, between 2 and %d", len(rep.Locks), s3.most, workers)
	}
}

// A failed listing fails the read, naming the listing and the AWS error:
// the bucket's, the table's, or both at once.
func TestListingErrors(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	cases := map[string]struct {
		s3Err, scanErr, table string
		bucket, tableErr      bool
	}{
		"bucket":        {s3Err: "x", table: table, bucket: true},
		"table":         {scanErr: "x", table: table, tableErr: true},
		"both":          {s3Err: "x", scanErr: "x", table: table, bucket: true, tableErr: true},
		"missing table": {table: "no-such-tflock", tableErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s3 := &fakeS3{bucket: bucket}
			ddb := &fakeDynamoDB{table: table}
			if c.s3Err != "" {
				s3.listErr = denied
			}
			if c.scanErr != "" {
				ddb.scanErr = denied
			}
			_, err := List(context.Background(), Clients{S3: s3, DynamoDB: ddb}, Query{Bucket: bucket, LockTable: c.table, Now: now})
			var le *ListError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *ListError", err)
			}
			if (le.Bucket != nil) != c.bucket || (le.Table != nil) != c.tableErr {
				t.Errorf("bucket error %v, table error %v", le.Bucket, le.Table)
			}
			if c.bucket && !strings.HasPrefix(le.Bucket.Error(), "s3:ListObjectsV2 "+bucket+": ") {
				t.Errorf("bucket error %q does not name the listing and the bucket", le.Bucket)
			}
			if c.tableErr && !strings.HasPrefix(le.Table.Error(), "dynamodb:Scan "+c.table+": ") {
				t.Errorf("table error %q does not name the scan and the table", le.Table)
			}
			if c.s3Err != "" && !errors.Is(err, denied) {
				t.Errorf("%v does not wrap the AWS error", err)
			}
			if len(le.Unwrap()) != btoi(c.bucket)+btoi(c.tableErr) || !strings.Contains(err.Error(), "dynamodb:Scan") == c.tableErr {
				t.Errorf("error %q, unwraps to %v", err, le.Unwrap())
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// An empty bucket and table: no lock, an empty (not nil) list.
func TestNoLocks(t *testing.T) {
	rep, err := List(context.Background(), Clients{S3: &fakeS3{bucket: bucket}, DynamoDB: &fakeDynamoDB{table: table}}, Query{Bucket: bucket, LockTable: table, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Locks == nil || len(rep.Locks) != 0 || rep.StaleCount() != 0 || rep.Unreadable() != nil {
		t.Errorf("report %+v, want an empty list", rep)
	}
}

func TestParseStaleAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"4h": 4 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "1s": time.Second} {
		if got, err := ParseStaleAfter(in); err != nil || got != want {
			t.Errorf("ParseStaleAfter(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"4":   "is not a duration",
		"4d":  "is not a duration",
		"":    "is not a duration",
		"-1h": "is not a positive duration",
		"0s":  "is not a positive duration",
	} {
		if _, err := ParseStaleAfter(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseStaleAfter(%q) error %v, want %q", in, err, msg)
		}
	}
}
