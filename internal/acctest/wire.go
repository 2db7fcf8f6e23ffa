package acctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// This file reads AWS requests as the fault proxy receives them, in the three
// wire protocols the provider's clients speak: S3's REST-XML (operation in
// the method, the path and a sub-resource query key), the JSON protocols that
// name the operation in X-Amz-Target (KMS, DynamoDB, CloudTrail, CloudWatch
// Logs) and the query protocol (IAM, STS, CloudWatch: a form body whose
// Action names the operation). It also builds requests of its own that the
// proxy sends to the emulator: moto does not verify SigV4 signatures unless
// it is started with INITIAL_NO_AUTH_ACTION_COUNT, so a copy of a client's
// headers with another body is accepted as that client's request.

// emulatorAccount is the account moto puts every request in unless the
// credentials come from an STS AssumeRole into another account. The proxy
// uses it in ARNs it derives from names (error messages, read-backs by ARN).
const emulatorAccount = "123456789012"

// emulatorPrincipal is who moto says the harness's default key pair is
// (sts:GetCallerIdentity), named in the guardrails' AccessDenied messages.
const emulatorPrincipal = "arn:aws:iam::" + emulatorAccount + ":user/moto"

var scopeRegion = regexp.MustCompile(`Credential=[^/]+/[^/]+/([^/]+)/`)

// awsRequest is one request the proxy received, parsed once.
type awsRequest struct {
	r       *http.Request
	body    []byte
	service string // the SigV4 scope's service: s3, kms, dynamodb, iam, cloudtrail, logs, monitoring, sts
	op      string // as classify names it (S3: method, level and sub-resource)
	region  string
	params  map[string]any // JSON protocols: the decoded body
	form    url.Values     // query protocols: the form body
}

func parseRequest(r *http.Request, body []byte, service, op string) *awsRequest {
	q := &awsRequest{r: r, body: body, service: service, op: op, region: "us-east-1"}
	if m := scopeRegion.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		q.region = m[1]
	}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		_ = d.Decode(&q.params)
		if q.params == nil {
			q.params = map[string]any{}
		}
	case service != "s3":
		q.form, _ = url.ParseQuery(string(body))
	}
	return q
}

// name is the request's "service:operation", as Calls and Fault.Match name it.
func (q *awsRequest) name() string { return q.service + ":" + q.op }

func (q *awsRequest) jsonProtocol() bool { return q.params != nil }

// str returns a string parameter of a JSON or query request.
func (q *awsRequest) str(key string) string {
	if q.params != nil {
		s, _ := q.params[key].(string)
		return s
	}
	return q.form.Get(key)
}

// bucket is an S3 request's bucket (path-style addressing, which the harness
// uses; virtual-hosted names are not recognised).
func (q *awsRequest) bucket() string {
	b, _, _ := strings.Cut(strings.TrimPrefix(q.r.URL.Path, "/"), "/")
	return b
}

func (q *awsRequest) bucketLevel() bool {
	return !strings.Contains(strings.Trim(q.r.URL.Path, "/"), "/")
}

// readRequest describes a read the proxy sends on its own, in the protocol
// of the write it derives from.
type readRequest struct {
	op     string         // JSON and query protocols: the operation
	params map[string]any // JSON protocols
	form   url.Values     // query protocols, without Action and Version
	method string         // S3: GET or HEAD
	sub    string         // S3: the sub-resource query key ("" for the bucket)
}

// headersNotCopied are the write's headers that describe its body or its
// attempt, not the caller: a read built from the write goes without them.
var headersNotCopied = []string{
	"Content-Length", "Content-Md5", "Content-Encoding", "Content-Type", "Expect",
	"X-Amz-Decoded-Content-Length", "X-Amz-Trailer", "X-Amz-Sdk-Checksum-Algorithm",
	invocationHeader, "Amz-Sdk-Request",
}

// build makes the HTTP request of a read derived from write q: the same
// caller (headers), the read's own method, path, query, target and body.
func (rr readRequest) build(q *awsRequest, target *url.URL) (*http.Request, []byte, error) {
	u := *target
	method, path, query := http.MethodPost, "/", ""
	var body []byte
	contentType := q.r.Header.Get("Content-Type")
	switch {
	case q.service == "s3":
		method, path, query, contentType = rr.method, "/"+q.bucket(), rr.sub, ""
	case q.jsonProtocol():
		body, _ = json.Marshal(rr.params)
	default:
		f := url.Values{"Action": {rr.op}, "Version": {q.form.Get("Version")}}
		for k, v := range rr.form {
			f[k] = v
		}
		body = []byte(f.Encode())
	}
	u.Path, u.RawQuery = path, query
	req, err := http.NewRequestWithContext(q.r.Context(), method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = q.r.Header.Clone()
	for k := range req.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Amz-Checksum-") {
			req.Header.Del(k)
		}
	}
	for _, k := range headersNotCopied {
		req.Header.Del(k)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if t := q.r.Header.Get("X-Amz-Target"); t != "" {
		req.Header.Set("X-Amz-Target", t[:strings.LastIndex(t, ".")+1]+rr.op)
	}
	if req.Header.Get("X-Amz-Content-Sha256") != "" {
		sum := sha256.Sum256(body)
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	}
	req.ContentLength = int64(len(body))
	return req, body, nil
}

// answer is an HTTP answer kept or made by the proxy.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// hopHeaders are not replayed with a kept answer: the proxy's server sets
// them for the connection it answers on.
var hopHeaders = []string{"Content-Length", "Connection", "Date", "Keep-Alive", "Transfer-Encoding", "Server"}

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		if !containsFold(hopHeaders, k) {
			w.Header()[k] = append([]string(nil), v...)
		}
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func (a *answer) ok() bool { return a.status >= 200 && a.status < 300 }

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// send makes a request to the emulator and reads the whole answer.
func send(client *http.Client, req *http.Request) (*answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header.Clone(), body: body}, nil
}

// resourceName returns the resource part after the given type prefix of an
// ARN (arn:…:table/NAME → NAME for "table/"), or s itself when s is no ARN.
func resourceName(s, prefix string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return s
	}
	return strings.TrimSuffix(strings.TrimPrefix(a.Resource, prefix), ":*")
}

// withoutAccount drops the region and account of an ARN, so that ARNs the
// proxy derives (with the emulator's default account) match the caller's.
func withoutAccount(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return s
	}
	a.Region, a.AccountID = "", ""
	return a.String()
}

// kmsKeyRef normalises a KMS KeyId parameter: a key ARN to the key ID, an
// alias ARN to the alias name; IDs and alias names stay as they are.
func kmsKeyRef(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return s
	}
	return strings.TrimPrefix(a.Resource, "key/")
}
