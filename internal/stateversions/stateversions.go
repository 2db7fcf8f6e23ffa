// Package stateversions lists the versions of one Terraform or OpenTofu state
// object in a versioned S3 bucket, newest first, with what each version says
// about itself (serial, lineage, the CLI and its version, the number of
// resource instances) and never what it holds: a version is read as a
// stream, checked to be JSON, and only its header and a count are kept (see
// ReadHeader). Delete markers are listed as versions with no content. A
// version that cannot be read (access or KMS denied, not JSON, encrypted) is
// listed with the reason, never dropped, and never fails the listing.
//
// It only reads. Restoring a version is the guide "Restoring a previous
// state".
package stateversions

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

const (
	// DefaultMaxVersions is how many versions are listed unless asked.
	DefaultMaxVersions = 50
	// MaxMaxVersions bounds what may be asked: each version is read whole.
	MaxMaxVersions = 1000
	// workers bounds the versions read at once.
	workers = 4
	// StateFile is the state object's name under an environment's prefix.
	StateFile = "terraform.tfstate"
)

// StateKey is the key of an environment's state in a securestate backend.
func StateKey(environment string) string { return environment + "/" + StateFile }

// ValidKey checks a state key as the S3 backend takes it: a non-empty S3
// object key of at most 1024 bytes that neither starts nor ends with "/" and
// has no empty path segment.
func ValidKey(v string) error {
	switch {
	case v == "":
		return errors.New("the key is empty; give the state's key, such as \"prod/terraform.tfstate\"")
	case len(v) > 1024:
		return fmt.Errorf("the key is %d bytes long; S3 keys have at most 1024", len(v))
	case !utf8.ValidString(v):
		return errors.New("the key is not valid UTF-8")
	case strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/"):
		return fmt.Errorf("%q starts or ends with \"/\"; the S3 backend refuses such a key: write it like \"prod/terraform.tfstate\"", v)
	case strings.Contains(v, "//"):
		return fmt.Errorf("%q contains \"//\"; the S3 backend refuses empty path segments", v)
	case strings.HasPrefix(v, "s3://") || strings.HasPrefix(v, "arn:"):
		return fmt.Errorf("%q is a URL or ARN; give the object's key inside the bucket", v)
	}
	return nil
}

// Version is one version of the state object, or a delete marker.
type Version struct {
	VersionID    string
	IsLatest     bool
	DeleteMarker bool
	LastModified time.Time
	Size         int64
	// Header is what the version says about itself; zero for a delete
	// marker and for a version that could not be read.
	Header Header
	// MD5 is the hex MD5 of the version's bytes: the digest the S3 backend
	// keeps in the lock table for the current state (DynamoDB locking). ""
	// when the version could not be read whole.
	MD5 string
	// Err says why the version could not be read, or is not a readable
	// state; "" when it is.
	Err string
}

// Query says which state to list.
type Query struct {
	Bucket string
	Key    string
	// MaxVersions bounds the versions listed (delete markers included), the
	// newest kept; 0 is DefaultMaxVersions.
	MaxVersions int
}

// S3API is the part of the S3 client List uses.
type S3API interface {
	s3.ListObjectVersionsAPIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Report is what List found.
type Report struct {
	// Versions are newest first (see compare).
	Versions []Version
	// Truncated: the state has more versions than MaxVersions.
	Truncated bool
}

// List lists the versions of q.Key in q.Bucket (ListObjectVersions with the
// key as prefix, keeping exactly that key) and reads each, workers at a
// time, with GetObject and its version ID. Only a failed listing is an
// error; a version that cannot be read has its Err set.
func List(ctx context.Context, api S3API, q Query) (Report, error) {
	limit := cmp.Or(q.MaxVersions, DefaultMaxVersions)
	var all []Version
	p := s3.NewListObjectVersionsPaginator(api, &s3.ListObjectVersionsInput{Bucket: aws.String(q.Bucket), Prefix: aws.String(q.Key)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("s3:ListObjectVersions %s (prefix %s): %w", q.Bucket, q.Key, err)
		}
		past := false // a key after q.Key: keys are listed in order, so its versions are all seen
		for _, v := range page.Versions {
			switch k := aws.ToString(v.Key); {
			case k == q.Key:
				all = append(all, Version{VersionID: aws.ToString(v.VersionId), IsLatest: aws.ToBool(v.IsLatest),
					LastModified: aws.ToTime(v.LastModified).UTC(), Size: aws.ToInt64(v.Size)})
			case k > q.Key:
				past = true
			}
		}
		for _, m := range page.DeleteMarkers {
			switch k := aws.ToString(m.Key); {
			case k == q.Key:
				all = append(all, Version{VersionID: aws.ToString(m.VersionId), IsLatest: aws.ToBool(m.IsLatest),
					DeleteMarker: true, LastModified: aws.ToTime(m.LastModified).UTC()})
			case k > q.Key:
				past = true
			}
		}
		// Within a key, versions are listed newest first: once there are
		// more than enough, later pages hold only older ones.
		if past || len(all) > limit {
			break
		}
	}
	slices.SortStableFunc(all, compare)
	more := len(all) > limit
	if more {
		all = all[:limit]
	}
	read(ctx, api, q, all)
	if all == nil {
		all = []Version{}
	}
	return Report{Versions: all, Truncated: more}, nil
}

// compare orders versions newest first; the current one (IsLatest) first
// among versions of the same second. Versions of the same time keep S3's
// order (stable sort).
func compare(a, b Version) int {
	if c := b.LastModified.Compare(a.LastModified); c != 0 {
		return c
	}
	switch {
	case a.IsLatest == b.IsLatest:
		return 0
	case a.IsLatest:
		return -1
	}
	return 1
}

// read reads every version that is not a delete marker, workers at a time.
func read(ctx context.Context, api S3API, q Query, versions []Version) {
	var (
		wg   sync.WaitGroup
		sema = make(chan struct{}, workers)
	)
	for i := range versions {
		if versions[i].DeleteMarker {
			continue
		}
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			readVersion(ctx, api, q, &versions[i])
			tflog.Debug(ctx, "read state version", map[string]any{"key": q.Key, "version_id": versions[i].VersionID, "failed": versions[i].Err != ""})
		})
	}
	wg.Wait()
}

// readVersion reads one version as a stream: its header, its MD5 and its
// size. Its content is never kept.
func readVersion(ctx context.Context, api S3API, q Query, v *Version) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(q.Bucket), Key: aws.String(q.Key), VersionId: aws.String(v.VersionID)})
	if err != nil {
		v.Err = getError(err)
		return
	}
	defer func() { _ = out.Body.Close() }()
	sum := md5.New()
	body := &countingReader{r: io.TeeReader(out.Body, sum)}
	h, err := ReadHeader(body)
	var bad *HeaderError
	switch {
	case errors.As(err, &bad):
		v.Header, v.Err = h, bad.Reason
	case err != nil:
		v.Err = readFailure(body.n, err)
		return
	default:
		v.Header = h
	}
	// The rest, if the header stopped early: the digest is of every byte.
	if _, err := io.Copy(io.Discard, body); err != nil {
		v.Err = cmp.Or(v.Err, readFailure(body.n, err))
		return
	}
	v.MD5 = hex.EncodeToString(sum.Sum(nil))
}

func readFailure(n int64, err error) string {
	return fmt.Sprintf("reading the version failed after %d bytes (%s)", n, cmp.Or(awserr.Code(err), "connection error"))
}

// getError says why GetObject failed, naming AWS's code, and KMS when the
// key refused (S3 reports a KMS refusal as AccessDenied or KMS.*).
func getError(err error) string {
	var gone *s3types.NoSuchKey
	code := awserr.Code(err)
	switch {
	case errors.As(err, &gone), code == "NoSuchVersion":
		return "the version was deleted after it was listed"
	case strings.HasPrefix(code, "KMS."):
		return fmt.Sprintf("s3:GetObject failed (%s): the KMS key cannot decrypt the version", code)
	case code == "AccessDenied" && strings.Contains(strings.ToLower(err.Error()), "kms"):
		return "s3:GetObject failed (AccessDenied): KMS denied decrypting the version with the bucket's key"
	case code == "":
		if status := awserr.HTTPStatus(err); status != 0 {
			// moto answers a bucket policy's denial with a 403 and no body.
			return fmt.Sprintf("s3:GetObject failed (HTTP %d)", status)
		}
		return "s3:GetObject failed (connection error)"
	}
	return fmt.Sprintf("s3:GetObject failed (%s)", code)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
