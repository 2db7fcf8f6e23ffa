// Package locks lists the state locks held in a Terraform S3 backend: the
// lock files (`<state key>.tflock`, use_lockfile) in its bucket and the lock
// items in its DynamoDB table, with who holds each, for what, since when and
// whether it is older than a limit. It only reads: nothing here writes,
// releases or deletes a lock.
//
// Terraform and OpenTofu write the same lock record in both places, the JSON
// of their LockInfo: {"ID", "Operation", "Info", "Who", "Version",
// "Created", "Path"}. A DynamoDB item holds it in its Info attribute under
// the LockID "<bucket>/<state key>"; the table also holds one digest item per
// state ("<bucket>/<state key>-md5", a Digest attribute and no Info), which
// is not a lock.
package locks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

// Kinds of lock.
const (
	KindLockFile = "lockfile" // an S3 object <state key>.tflock
	KindDynamoDB = "dynamodb" // an item of the lock table
)

// Kinds lists the kinds, for descriptions.
func Kinds() []string { return []string{KindLockFile, KindDynamoDB} }

const (
	// LockFileSuffix ends the key of a lock file: the state's key and this.
	LockFileSuffix = ".tflock"
	// digestSuffix ends the LockID of a state's digest item.
	digestSuffix = "-md5"
	// maxRecordBytes bounds what is read of a lock file: a lock record is a
	// few hundred bytes.
	maxRecordBytes = 64 << 10
	// workers bounds the lock files read at once.
	workers = 4
)

// Lock is one lock held (or a lock file or item that cannot be read as one:
// Err says why, and the fields hold what is known).
type Lock struct {
	Kind string // KindLockFile or KindDynamoDB
	// Path is the state's key in the bucket (dev/terraform.tfstate).
	Path string
	// Source is where the lock is: the lock file's object key or the item's
	// LockID.
	Source    string
	ID        string
	Who       string
	Operation string
	Version   string // the CLI's version
	// Created is when the lock was taken; zero when unknown. A lock file
	// whose record has none is dated by the object's LastModified.
	Created time.Time
	Age     time.Duration // since Created; 0 when unknown or in the future
	Stale   bool          // older than Query.StaleAfter
	Err     string        // "" when the lock could be read
}

// Query says which backend to read and how to judge its locks.
type Query struct {
	Bucket string
	// Prefix keeps only the locks of states whose key starts with it.
	Prefix string
	// LockTable is the DynamoDB table's name or ARN; "" reads lock files only.
	LockTable string
	// StaleAfter: a lock older than this is stale; 0 makes none stale.
	StaleAfter time.Duration
	// Now is the time ages are measured at.
	Now time.Time
}

// S3API is the part of the S3 client List uses.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// DynamoDBAPI is the part of the DynamoDB client List uses.
type DynamoDBAPI interface {
	dynamodb.ScanAPIClient
}

// Clients are the clients List reads with. DynamoDB is used only with a
// Query.LockTable.
type Clients struct {
	S3       S3API
	DynamoDB DynamoDBAPI
}

// Report is what List found.
type Report struct {
	// Locks are sorted oldest first; those of unknown age last; then by
	// path, kind and source.
	Locks []Lock
}

// StaleCount is the number of stale locks.
func (r Report) StaleCount() int {
	n := 0
	for _, l := range r.Locks {
		if l.Stale {
			n++
		}
	}
	return n
}

// Unreadable are the locks that could not be read, in report order.
func (r Report) Unreadable() []Lock {
	var out []Lock
	for _, l := range r.Locks {
		if l.Err != "" {
			out = append(out, l)
		}
	}
	return out
}

// ParseStaleAfter reads a stale_after value: a positive Go duration ("4h",
// "90m", "1h30m").
func ParseStaleAfter(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write it like \"4h\", \"90m\" or \"1h30m\" (units: s, m, h)", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration; a lock older than it is stale, so give one like \"4h\"", v)
	}
	return d, nil
}

// ListError is a failed listing of the bucket's objects, of the table's
// items, or of both.
type ListError struct {
	Bucket error // s3:ListObjectsV2
	Table  error // dynamodb:Scan
}

func (e *ListError) Error() string { return errors.Join(e.Bucket, e.Table).Error() }

// Unwrap returns the failed listings' errors.
func (e *ListError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Bucket, e.Table} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// List reads the lock files under q.Prefix and, with q.LockTable, the
// table's lock items of q.Bucket's states under q.Prefix, both at once. Only
// a failed listing (s3:ListObjectsV2, dynamodb:Scan) is an error, a
// *ListError; a lock file or item that cannot be read as a lock is reported
// with Err.
func List(ctx context.Context, c Clients, q Query) (Report, error) {
	var (
		wg                 sync.WaitGroup
		files, items       []Lock
		filesErr, itemsErr error
	)
	wg.Go(func() { files, filesErr = lockFiles(ctx, c.S3, q) })
	if q.LockTable != "" {
		wg.Go(func() { items, itemsErr = lockItems(ctx, c.DynamoDB, q) })
	}
	wg.Wait()
	if filesErr != nil || itemsErr != nil {
		return Report{}, &ListError{Bucket: filesErr, Table: itemsErr}
	}
	all := slices.Concat(files, items)
	for i := range all {
		judge(&all[i], q)
	}
	slices.SortFunc(all, compare)
	if all == nil {
		all = []Lock{}
	}
	return Report{Locks: all}, nil
}

// judge sets a lock's age and staleness at q.Now.
func judge(l *Lock, q Query) {
	if l.Created.IsZero() {
		return
	}
	l.Age = max(q.Now.Sub(l.Created), 0)
	l.Stale = q.StaleAfter > 0 && l.Age > q.StaleAfter
}

// compare orders locks oldest first, those of unknown age last.
func compare(a, b Lock) int {
	if a.Created.IsZero() != b.Created.IsZero() {
		if a.Created.IsZero() {
			return 1
		}
		return -1
	}
	return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Source, b.Source))
}

// lockFiles lists the objects ending in .tflock under the prefix and reads
// each, workers at a time.
func lockFiles(ctx context.Context, api S3API, q Query) ([]Lock, error) {
	var objects []s3types.Object
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(q.Bucket), Prefix: aws.String(q.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3:ListObjectsV2 %s: %w", q.Bucket, err)
		}
		for _, o := range page.Contents {
			if strings.HasSuffix(aws.ToString(o.Key), LockFileSuffix) {
				objects = append(objects, o)
			}
		}
	}
	var (
		out  []Lock
		mu   sync.Mutex
		wg   sync.WaitGroup
		sema = make(chan struct{}, workers)
	)
	for _, o := range objects {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			l, held := lockFile(ctx, api, q.Bucket, o)
			tflog.Debug(ctx, "read lock file", map[string]any{"key": l.Source, "held": held, "failed": l.Err != ""})
			if !held {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			out = append(out, l)
		})
	}
	wg.Wait()
	return out, nil
}

// lockFile reads one lock file. held is false when the object was deleted
// after it was listed: the lock was released meanwhile.
func lockFile(ctx context.Context, api S3API, bucket string, o s3types.Object) (l Lock, held bool) {
	key := aws.ToString(o.Key)
	l = Lock{Kind: KindLockFile, Path: strings.TrimSuffix(key, LockFileSuffix), Source: key}
	// Dated by the object until its record says otherwise: the CLI writes
	// the lock file once, when it takes the lock.
	l.Created = aws.ToTime(o.LastModified).UTC()
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	var gone *s3types.NoSuchKey
	switch {
	case errors.As(err, &gone):
		return l, false
	case err != nil:
		l.Err = fmt.Sprintf("s3:GetObject failed (%s)", cmp.Or(awserr.Code(err), "error"))
		return l, true
	}
	defer func() { _ = out.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxRecordBytes+1))
	switch {
	case err != nil:
		l.Err = fmt.Sprintf("reading the lock file failed after %d bytes (%s)", len(body), cmp.Or(awserr.Code(err), "connection error"))
	case len(body) > maxRecordBytes:
		l.Err = fmt.Sprintf("not a lock record: larger than %d KiB", maxRecordBytes>>10)
	default:
		fill(&l, body)
	}
	return l, true
}

// lockItems scans the table for the lock items of the bucket's states under
// the prefix: digest items and other buckets' items are left out.
func lockItems(ctx context.Context, api DynamoDBAPI, q Query) ([]Lock, error) {
	var out []Lock
	// Strongly consistent: a lock taken a moment ago is seen.
	p := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{TableName: aws.String(q.LockTable), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamodb:Scan %s: %w", q.LockTable, err)
		}
		for _, item := range page.Items {
			if l, ok := lockItem(item, q); ok {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// lockItem reads one item of the table; ok is false for an item that is not
// a lock of the queried states (a digest, another bucket's, outside the
// prefix).
func lockItem(item map[string]ddbtypes.AttributeValue, q Query) (Lock, bool) {
	id, _ := item["LockID"].(*ddbtypes.AttributeValueMemberS)
	if id == nil {
		return Lock{}, false // not an item Terraform writes: the table's key is LockID
	}
	statePath, ok := strings.CutPrefix(id.Value, q.Bucket+"/")
	if !ok || !strings.HasPrefix(statePath, q.Prefix) {
		return Lock{}, false
	}
	info, hasInfo := item["Info"].(*ddbtypes.AttributeValueMemberS)
	// A digest has no Info; a state whose own key ends in -md5 still has
	// its lock item reported.
	if !hasInfo && strings.HasSuffix(statePath, digestSuffix) {
		if _, digest := item["Digest"]; digest {
			return Lock{}, false
		}
	}
	l := Lock{Kind: KindDynamoDB, Path: statePath, Source: id.Value}
	if !hasInfo {
		l.Err = "not a lock record: the item has no Info string"
		return l, true
	}
	fill(&l, []byte(info.Value))
	return l, true
}

// record is the CLI's lock record (Terraform's and OpenTofu's LockInfo).
type record struct {
	ID        string
	Operation string
	Who       string
	Version   string
	Created   string // RFC 3339
}

// fill sets the lock's fields from its record, or its Err. The error never
// quotes the record.
func fill(l *Lock, body []byte) {
	var r record
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch err := json.Unmarshal(body, &r); {
	case len(body) == 0:
		l.Err = "not a lock record: empty"
		return
	case errors.As(err, &syntax):
		l.Err = fmt.Sprintf("not a lock record: invalid JSON at byte %d", syntax.Offset)
		return
	case errors.As(err, &wrongType) && wrongType.Field != "":
		l.Err = fmt.Sprintf("not a lock record: %s is not a string", wrongType.Field)
		return
	case err != nil:
		l.Err = "not a lock record: not a JSON object"
		return
	}
	l.ID, l.Operation, l.Who, l.Version = r.ID, r.Operation, r.Who, r.Version
	if r.ID == "" {
		l.Err = "not a lock record: no ID"
	}
	if r.Created == "" {
		return
	}
	created, err := time.Parse(time.RFC3339Nano, r.Created)
	if err != nil {
		l.Err = cmp.Or(l.Err, "the lock record's Created is not an RFC 3339 time")
		return
	}
	l.Created = created.UTC()
}
