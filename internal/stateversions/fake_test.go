package stateversions

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// fakeEntry is a version or a delete marker of fakeS3.
type fakeEntry struct {
	key, id  string
	marker   bool
	modified time.Time
	body     string
	// getErr is what GetObject returns for it; readErr breaks its body
	// after the body is read.
	getErr  error
	readErr error
}

// fakeS3 is one versioned bucket in memory. entries are in S3's listing
// order: by key, then newest first; the first entry of a key is its latest.
// It lists pageSize entries a page (versions and markers together, as S3
// counts them) and records what it is asked; it is called concurrently.
type fakeS3 struct {
	mu       sync.Mutex
	bucket   string
	entries  []fakeEntry
	pageSize int
	listErr  error

	lists []s3.ListObjectVersionsInput
	gets  []string // version IDs
	// getting counts the GetObject calls in flight; most is the highest.
	getting, most int
}

func (f *fakeS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, *in)
	if f.listErr != nil {
		return nil, f.listErr
	}
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, &s3types.NoSuchBucket{Message: aws.String("no such bucket")}
	}
	var match []fakeEntry
	for _, e := range f.entries {
		if strings.HasPrefix(e.key, aws.ToString(in.Prefix)) {
			match = append(match, e)
		}
	}
	start := 0
	if in.KeyMarker != nil {
		start = slices.IndexFunc(match, func(e fakeEntry) bool {
			return e.key == aws.ToString(in.KeyMarker) && e.id == aws.ToString(in.VersionIdMarker)
		}) + 1
	}
	match = match[start:]
	out := &s3.ListObjectVersionsOutput{}
	if f.pageSize > 0 && len(match) > f.pageSize {
		match = match[:f.pageSize]
		last := match[len(match)-1]
		out.IsTruncated = aws.Bool(true)
		out.NextKeyMarker, out.NextVersionIdMarker = aws.String(last.key), aws.String(last.id)
	}
	for _, e := range match {
		latest := f.latest(e)
		if e.marker {
			out.DeleteMarkers = append(out.DeleteMarkers, s3types.DeleteMarkerEntry{Key: aws.String(e.key), VersionId: aws.String(e.id),
				IsLatest: aws.Bool(latest), LastModified: aws.Time(e.modified)})
			continue
		}
		out.Versions = append(out.Versions, s3types.ObjectVersion{Key: aws.String(e.key), VersionId: aws.String(e.id),
			IsLatest: aws.Bool(latest), LastModified: aws.Time(e.modified), Size: aws.Int64(int64(len(e.body)))})
	}
	return out, nil
}

// latest reports whether e is the first entry of its key.
func (f *fakeS3) latest(e fakeEntry) bool {
	i := slices.IndexFunc(f.entries, func(o fakeEntry) bool { return o.key == e.key })
	return f.entries[i].id == e.id
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	f.gets = append(f.gets, aws.ToString(in.VersionId))
	f.getting++
	f.most = max(f.most, f.getting)
	i := slices.IndexFunc(f.entries, func(e fakeEntry) bool {
		return e.key == aws.ToString(in.Key) && e.id == aws.ToString(in.VersionId)
	})
	var e fakeEntry
	if i >= 0 {
		e = f.entries[i]
	}
	f.mu.Unlock()
	// Held a moment, so that concurrent calls overlap.
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	f.getting--
	f.mu.Unlock()
	if i < 0 {
		return nil, &s3types.NoSuchKey{Message: aws.String("The specified version does not exist.")}
	}
	switch {
	case e.marker:
		return nil, &s3types.NoSuchKey{Message: aws.String("delete marker")}
	case e.getErr != nil:
		return nil, e.getErr
	}
	var body io.Reader = strings.NewReader(e.body)
	if e.readErr != nil {
		body = io.MultiReader(body, errReader{e.readErr})
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(body), VersionId: aws.String(e.id)}, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
