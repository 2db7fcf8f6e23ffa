package locks

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// fakeObject is an object of fakeS3.
type fakeObject struct {
	body     string
	modified time.Time
	// getErr is what GetObject returns for it; readErr breaks its body after
	// the body is read.
	getErr  error
	readErr error
}

// fakeS3 is one bucket in memory, listed a page of pageSize keys at a time.
// It is called concurrently and records what it is asked.
type fakeS3 struct {
	mu       sync.Mutex
	bucket   string
	objects  map[string]fakeObject
	pageSize int
	listErr  error

	lists []s3.ListObjectsV2Input
	gets  []string
	// getting counts the GetObject calls in flight; most is the highest count.
	getting, most int
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, *in)
	if f.listErr != nil {
		return nil, f.listErr
	}
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, &s3types.NoSuchBucket{Message: aws.String("no such bucket")}
	}
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{}
	if f.pageSize > 0 && len(keys) > f.pageSize {
		keys = keys[:f.pageSize]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(keys[len(keys)-1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), LastModified: aws.Time(f.objects[k].modified)})
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	f.gets = append(f.gets, aws.ToString(in.Key))
	f.getting++
	f.most = max(f.most, f.getting)
	o, ok := f.objects[aws.ToString(in.Key)]
	f.mu.Unlock()
	// Held a moment, so that concurrent calls overlap.
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	f.getting--
	f.mu.Unlock()
	switch {
	case !ok:
		return nil, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	case o.getErr != nil:
		return nil, o.getErr
	}
	var body io.Reader = strings.NewReader(o.body)
	if o.readErr != nil {
		body = io.MultiReader(body, errReader{o.readErr})
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(body)}, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// fakeDynamoDB is one table in memory, scanned a page of pageSize items at a
// time.
type fakeDynamoDB struct {
	mu       sync.Mutex
	table    string // its name or ARN, as Scan must be given it
	items    []map[string]ddbtypes.AttributeValue
	pageSize int
	scanErr  error

	scans []dynamodb.ScanInput
}

func (f *fakeDynamoDB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans = append(f.scans, *in)
	if f.scanErr != nil {
		return nil, f.scanErr
	}
	if aws.ToString(in.TableName) != f.table {
		return nil, &ddbtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	start := 0
	if k, ok := in.ExclusiveStartKey["n"].(*ddbtypes.AttributeValueMemberN); ok {
		start, _ = strconv.Atoi(k.Value)
	}
	end := len(f.items)
	out := &dynamodb.ScanOutput{}
	if f.pageSize > 0 && end-start > f.pageSize {
		end = start + f.pageSize
		out.LastEvaluatedKey = map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(end)}}
	}
	out.Items = f.items[start:end]
	return out, nil
}

// item is a table item of string attributes.
func item(attrs ...string) map[string]ddbtypes.AttributeValue {
	m := map[string]ddbtypes.AttributeValue{}
	for i := 0; i+1 < len(attrs); i += 2 {
		m[attrs[i]] = &ddbtypes.AttributeValueMemberS{Value: attrs[i+1]}
	}
	return m
}

// releasingS3 deletes an object once it has been listed: a lock released
// between the listing and its read.
type releasingS3 struct {
	*fakeS3
	release string
}

func (r *releasingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := r.fakeS3.ListObjectsV2(ctx, in, opts...)
	r.mu.Lock()
	delete(r.objects, r.release)
	r.mu.Unlock()
	return out, err
}
