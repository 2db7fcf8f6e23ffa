package stateversions

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const bucket = "acme-tfstate-111122223333"

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func minutes(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

func tfState(serial int) string {
	return fmt.Sprintf("{\n  \"version\": 4,\n  \"terraform_version\": \"1.11.4\",\n  \"serial\": %d,\n  \"lineage\": \"lin\",\n  \"resources\": [{\"mode\": \"managed\", \"instances\": [{}]}]\n}\n", serial)
}

func sum(body string) string {
	s := md5.Sum([]byte(body))
	return hex.EncodeToString(s[:])
}

// row is what a test compares of a version.
type row struct {
	ID            string
	Latest        bool
	Marker        bool
	Serial        int64
	Count         int64
	CLI           string
	MD5, Err      string
	Size          int64
	Modified      time.Time
	HasSerial     bool
	HasCount      bool
	TerraformVers string
}

func rows(r Report) []row {
	var out []row
	for _, v := range r.Versions {
		out = append(out, row{v.VersionID, v.IsLatest, v.DeleteMarker, v.Header.Serial, v.Header.ResourceCount, v.Header.CLI, v.MD5, v.Err,
			v.Size, v.LastModified, v.Header.HasSerial, v.Header.HasResourceCount, v.Header.TerraformVersion})
	}
	return out
}

func good(id string, latest bool, serial int, at time.Time) row {
	b := tfState(serial)
	return row{ID: id, Latest: latest, Serial: int64(serial), Count: 1, CLI: CLITerraform, MD5: sum(b), Size: int64(len(b)), Modified: at,
		HasSerial: true, HasCount: true, TerraformVers: "1.11.4"}
}

// The versions of exactly the state's key, newest first, across pages:
// its lock file, backup and another environment's state share the prefix
// or the bucket and are left out; a corrupted current version and a delete
// marker are listed, the bad one with its reason and its MD5; each version
// is read by its version ID.
func TestListVersionsOfTheKey(t *testing.T) {
	key := "dev/terraform.tfstate"
	f := &fakeS3{bucket: bucket, pageSize: 2, entries: []fakeEntry{
		{key: "dev/terraform.tfstate", id: "v5", body: "not json", modified: minutes(5)},
		{key: "dev/terraform.tfstate", id: "v4", marker: true, modified: minutes(4)},
		{key: "dev/terraform.tfstate", id: "v3", body: tfState(3), modified: minutes(3)},
		{key: "dev/terraform.tfstate", id: "v2", body: tfState(2), modified: minutes(2)},
		{key: "dev/terraform.tfstate", id: "v1", body: tfState(1), modified: minutes(1)},
		{key: "dev/terraform.tfstate.backup", id: "b1", body: tfState(9), modified: minutes(9)},
		{key: "dev/terraform.tfstate.tflock", id: "l2", marker: true, modified: minutes(8)},
		{key: "dev/terraform.tfstate.tflock", id: "l1", body: `{"ID":"x"}`, modified: minutes(7)},
		{key: "prod/terraform.tfstate", id: "p1", body: tfState(1), modified: minutes(6)},
	}}
	rep, err := List(context.Background(), f, Query{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{ID: "v5", Latest: true, MD5: sum("not json"), Err: "not JSON: invalid character at byte 1", Size: 8, Modified: minutes(5)},
		{ID: "v4", Marker: true, Modified: minutes(4)},
		good("v3", false, 3, minutes(3)), good("v2", false, 2, minutes(2)), good("v1", false, 1, minutes(1)),
	}
	if got := rows(rep); !slices.Equal(got, want) {
		t.Errorf("versions:\n%v\nwant\n%v", got, want)
	}
	if rep.Truncated {
		t.Error("truncated with 5 of 5 versions")
	}
	slices.Sort(f.gets)
	if !slices.Equal(f.gets, []string{"v1", "v2", "v3", "v5"}) {
		t.Errorf("read %v, want each version of the key but the marker, by ID", f.gets)
	}
	for _, in := range f.lists {
		if *in.Prefix != key || *in.Bucket != bucket {
			t.Errorf("listed %s prefix %s", *in.Bucket, *in.Prefix)
		}
	}
	// The listing stops at the first page past the key: the tflock versions
	// are never paged through.
	if len(f.lists) != 3 {
		t.Errorf("%d pages listed, want 3 (the third holds the first key after the state's)", len(f.lists))
	}
}

// MaxVersions keeps the newest and says more exist; the older pages are
// not listed and the versions left out are not read.
func TestListMaxVersions(t *testing.T) {
	var entries []fakeEntry
	for i := 10; i >= 1; i-- {
		entries = append(entries, fakeEntry{key: "k", id: fmt.Sprint("v", i), body: tfState(i), modified: minutes(i)})
	}
	for _, tc := range []struct {
		max, pages int
		want       []string
		truncated  bool
	}{
		{3, 2, []string{"v10", "v9", "v8"}, true},
		{4, 2, []string{"v10", "v9", "v8", "v7"}, true},
		{10, 4, []string{"v10", "v9", "v8", "v7", "v6", "v5", "v4", "v3", "v2", "v1"}, false},
		{50, 4, []string{"v10", "v9", "v8", "v7", "v6", "v5", "v4", "v3", "v2", "v1"}, false},
	} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			f := &fakeS3{bucket: bucket, pageSize: 3, entries: entries}
			rep, err := List(context.Background(), f, Query{Bucket: bucket, Key: "k", MaxVersions: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, v := range rep.Versions {
				ids = append(ids, v.VersionID)
			}
			if !slices.Equal(ids, tc.want) || rep.Truncated != tc.truncated {
				t.Errorf("versions %v truncated %v, want %v %v", ids, rep.Truncated, tc.want, tc.truncated)
			}
			if len(f.lists) != tc.pages || len(f.gets) != len(tc.want) {
				t.Errorf("%d pages listed and %d versions read, want %d and %d", len(f.lists), len(f.gets), tc.pages, len(tc.want))
			}
		})
	}
}

// The default is DefaultMaxVersions.
func TestListDefaultMax(t *testing.T) {
	var entries []fakeEntry
	for i := DefaultMaxVersions + 5; i >= 1; i-- {
		entries = append(entries, fakeEntry{key: "k", id: fmt.Sprint("v", i), marker: true, modified: minutes(i)})
	}
	rep, err := List(context.Background(), &fakeS3{bucket: bucket, entries: entries}, Query{Bucket: bucket, Key: "k"})
	if err != nil || len(rep.Versions) != DefaultMaxVersions || !rep.Truncated {
		t.Errorf("%d versions, truncated %v, err %v; want %d and truncated", len(rep.Versions), rep.Truncated, err, DefaultMaxVersions)
	}
}

// Newest first by time; within one second (S3's precision), the current one
// first, then S3's own order (newest first within versions and markers).
func TestCompareOrdersNewestFirst(t *testing.T) {
	f := &fakeS3{bucket: bucket, entries: []fakeEntry{
		{key: "k", id: "m2", marker: true, modified: minutes(5)},
		{key: "k", id: "m1", marker: true, modified: minutes(1)},
		{key: "k", id: "a", body: tfState(4), modified: minutes(5)},
		{key: "k", id: "b", body: tfState(3), modified: minutes(5)},
		{key: "k", id: "c", body: tfState(2), modified: minutes(7)},
	}}
	rep, err := List(context.Background(), f, Query{Bucket: bucket, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range rep.Versions {
		ids = append(ids, v.VersionID)
	}
	if want := []string{"c", "m2", "a", "b", "m1"}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

type apiErr struct{ code, msg string }

func (e apiErr) Error() string                 { return e.code + ": " + e.msg }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.msg }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// A version that cannot be read is listed with why, never dropped, and the
// others are read: access denied, KMS refusals, a body cut by the network,
// a version deleted after the listing, a 403 without a code.
func TestListUnreadableVersions(t *testing.T) {
	forbidden := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusForbidden}}, Err: errors.New("forbidden")}
	f := &fakeS3{bucket: bucket, entries: []fakeEntry{
		{key: "k", id: "denied", modified: minutes(9), getErr: apiErr{"AccessDenied", "Access Denied"}},
		{key: "k", id: "kms", modified: minutes(8), getErr: apiErr{"AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: kms:Decrypt"}},
		{key: "k", id: "disabled", modified: minutes(7), getErr: apiErr{"KMS.DisabledException", "key is disabled"}},
		{key: "k", id: "cut", modified: minutes(6), body: tfState(6)[:20], readErr: errors.New("connection reset")},
		{key: "k", id: "policy", modified: minutes(5), getErr: forbidden},
		{key: "k", id: "ok", modified: minutes(4), body: tfState(4)},
	}}
	// One more, listed but gone when read.
	lister := &vanishing{fakeS3: f, gone: "vanished"}
	f.entries = append(f.entries, fakeEntry{key: "k", id: "vanished", modified: minutes(3), body: tfState(3)})
	rep, err := List(context.Background(), lister, Query{Bucket: bucket, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"denied":   "s3:GetObject failed (AccessDenied)",
		"kms":      "s3:GetObject failed (AccessDenied): KMS denied decrypting the version with the bucket's key",
		"disabled": "s3:GetObject failed (KMS.DisabledException): the KMS key cannot decrypt the version",
		"cut":      "reading the version failed after 20 bytes (connection error)",
		"policy":   "s3:GetObject failed (HTTP 403)",
		"ok":       "",
		"vanished": "the version was deleted after it was listed",
	}
	if len(rep.Versions) != len(want) {
		t.Fatalf("%d versions, want %d", len(rep.Versions), len(want))
	}
	for _, v := range rep.Versions {
		if v.Err != want[v.VersionID] {
			t.Errorf("%s: error %q, want %q", v.VersionID, v.Err, want[v.VersionID])
		}
		if (v.Err == "") != (v.MD5 != "") || (v.Err == "") != v.Header.HasSerial {
			t.Errorf("%s: MD5 %q and header %+v with error %q: want both exactly when read", v.VersionID, v.MD5, v.Header, v.Err)
		}
	}
}

// vanishing deletes a version once the listing is done: a version purged
// between the listing and its read.
type vanishing struct {
	*fakeS3
	gone string
}

func (v *vanishing) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	v.mu.Lock()
	v.entries = slices.DeleteFunc(v.entries, func(e fakeEntry) bool { return e.id == v.gone })
	v.mu.Unlock()
	return v.fakeS3.GetObject(ctx, in, opts...)
}

// A failed listing is the only error, naming the bucket and key.
func TestListFailure(t *testing.T) {
	f := &fakeS3{bucket: bucket, listErr: apiErr{"AccessDenied", "Access Denied"}}
	_, err := List(context.Background(), f, Query{Bucket: bucket, Key: "dev/terraform.tfstate"})
	if err == nil || !strings.Contains(err.Error(), "s3:ListObjectVersions "+bucket+" (prefix dev/terraform.tfstate)") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("err %v", err)
	}
	if len(f.gets) != 0 {
		t.Errorf("read %v after a failed listing", f.gets)
	}
}

// At most `workers` versions are read at once, and all of them are.
func TestListBoundsConcurrency(t *testing.T) {
	var entries []fakeEntry
	for i := 40; i >= 1; i-- {
		entries = append(entries, fakeEntry{key: "k", id: fmt.Sprint("v", i), body: tfState(i), modified: minutes(i)})
	}
	f := &fakeS3{bucket: bucket, entries: entries}
	rep, err := List(context.Background(), f, Query{Bucket: bucket, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if f.most > workers || f.most < 2 || len(f.gets) != 40 || len(rep.Versions) != 40 {
		t.Errorf("%d reads at most at once (want 2..%d), %d reads, %d versions", f.most, workers, len(f.gets), len(rep.Versions))
	}
	for i, v := range rep.Versions {
		if v.Header.Serial != int64(40-i) {
			t.Fatalf("version %d has serial %d: results landed in the wrong place", i, v.Header.Serial)
		}
	}
}

// An empty history is an empty list, not nil.
func TestListNoVersions(t *testing.T) {
	rep, err := List(context.Background(), &fakeS3{bucket: bucket}, Query{Bucket: bucket, Key: "k"})
	if err != nil || rep.Versions == nil || len(rep.Versions) != 0 || rep.Truncated {
		t.Errorf("%+v %v", rep, err)
	}
}

func TestValidKey(t *testing.T) {
	for v, want := range map[string]string{
		"dev/terraform.tfstate":           "",
		"a":                               "",
		"env:/blue/dev/terraform.tfstate": "",
		"":                                "the key is empty",
		"/dev/terraform.tfstate":          `starts or ends with "/"`,
		"dev/":                            `starts or ends with "/"`,
		"dev//terraform.tfstate":          `contains "//"`,
		"s3://b/dev/terraform.tfstate":    `contains "//"`,
		"arn:aws:s3:::b/k":                "is a URL or ARN",
		strings.Repeat("k", 1025):         "1025 bytes long",
		"bad\xff":                         "not valid UTF-8",
	} {
		err := ValidKey(v)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("ValidKey(%.40q) = %v, want %q", v, err, want)
		}
	}
	if StateKey("prod") != "prod/terraform.tfstate" {
		t.Error(StateKey("prod"))
	}
}
