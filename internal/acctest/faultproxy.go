package acctest

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultKind is what the fault proxy does to a matching AWS call.
type FaultKind string

// Fault kinds.
const (
	FaultInternalError FaultKind = "internal-error" // HTTP 500 InternalError/InternalFailure
	FaultThrottle      FaultKind = "throttle"       // S3 503 SlowDown; others 400 Throttling(Exception)
	FaultReset         FaultKind = "reset"          // the connection is reset before the request is forwarded
	FaultLatency       FaultKind = "latency"        // the request is forwarded after a delay
	// FaultLostResponse forwards the request, so the emulator carries it out,
	// then resets the connection instead of answering: the caller cannot tell
	// whether a create happened, and a retry may do it twice.
	FaultLostResponse FaultKind = "lost-response"
)

// FaultKinds lists every kind, for tests that try them all.
var FaultKinds = []FaultKind{FaultInternalError, FaultThrottle, FaultReset, FaultLatency, FaultLostResponse}

// Fault selects calls and says what to do with them. Call is the 1-based index
// of the AWS request since the fault was armed (0: any index); Match narrows
// by "service:operation" (empty: any). Attempts is how many matching requests
// are hit (default 1): the first one selected, then the SDK's retries of that
// same call — requests carrying its `amz-sdk-invocation-id`, which the SDK
// keeps across the attempts of one operation call — never a concurrent call
// of the same operation that happens to come next. So a fault can outlast the
// SDK's retries. (A client that sends no invocation ID is matched by service
// and operation.)
//
// For the consistency kinds (ConsistencyKinds) only writes are candidates and
// Attempts counts distinct write calls, AllWrites for all of them; Window is
// how long a FaultStaleRead's stale reads last after the write's answer
// (default DefaultStaleWindow). A FaultStaleRead window opened by a create
// (CreateBucket, CreateKey, CreateTable, CreatePolicy, CreateRole,
// CreateTrail, CreateLogGroup) also refuses, until it closes, every write
// addressed to the new object with the service's "not found" (S3
// NoSuchBucket, KMS NotFoundException, DynamoDB ResourceNotFoundException or,
// for UpdateContinuousBackups, ContinuousBackupsUnavailableException, IAM
// NoSuchEntity, CloudTrail TrailNotFoundException, CloudWatch Logs
// ResourceNotFoundException), without forwarding it: the write is not
// selected and opens no window (Call.NotYetVisible). See consistency.go.
type Fault struct {
	Kind     FaultKind
	Call     int
	Match    string
	Attempts int
	Latency  time.Duration
	Window   time.Duration
}

// Call describes one AWS request that went through the proxy. Injected is the
// kind of the armed fault when it selected the request (for FaultStaleRead:
// the write that opened a window; for FaultIgnoredWrite: the write not
// forwarded); Stale marks a read the proxy answered from a stale window;
// NotYetVisible a write the proxy refused, unforwarded, because it was
// addressed to an object a create's stale window made; Denied a request a
// guardrail refused.
type Call struct {
	Service       string
	Operation     string
	Injected      FaultKind
	Stale         bool
	NotYetVisible bool
	Denied        bool
}

// DefaultDelay is the fixed per-request delay of the latency benchmark: about
// what a CI runner in the same region as its AWS endpoints sees per round trip.
const DefaultDelay = 30 * time.Millisecond

// FaultProxy is a TLS reverse proxy between the provider and the emulator
// that injects faults into chosen AWS calls and, with SetDelay, holds every
// request for a fixed time before forwarding it, as a network would.
type FaultProxy struct {
	URL string
	// CABundle trusts both the proxy and the emulator (for custom_ca_bundle).
	CABundle string

	server *httptest.Server
	proxy  *httputil.ReverseProxy
	target *url.URL     // the emulator
	client *http.Client // the proxy's own requests to the emulator

	mu       sync.Mutex
	fault    *Fault
	seen     int    // requests since armed
	hits     int    // faults injected for the armed fault
	hitOp    string // "service:operation" of the first of them
	hitInv   string // its amz-sdk-invocation-id
	calls    []Call
	injected int
	requests int             // every request since the proxy started
	delay    time.Duration   // added to every request (SetDelay)
	picked   map[string]bool // consistency faults: the write calls selected, by invocation ID
	windows  []*window       // FaultStaleRead: open windows, oldest first
	gen      int             // Arm and Disarm count: tells a stale index into calls
	rules    guardrails
}

// StartFaultProxy starts a proxy in front of the emulator (AWS_ENDPOINT_URL).
func StartFaultProxy(t *testing.T) *FaultProxy {
	t.Helper()
	target, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil || target.Host == "" {
		t.Fatalf("AWS_ENDPOINT_URL: %v", err)
	}
	pool, err := caPool()
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{target: target}
	p.proxy = httputil.NewSingleHostReverseProxy(target)
	p.proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: false}
	p.client = &http.Client{Transport: p.proxy.Transport, Timeout: time.Minute}
	p.proxy.ErrorLog = nil
	p.server = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.server.StartTLS()
	t.Cleanup(p.server.Close)
	p.URL = p.server.URL

	emulatorCA, err := os.ReadFile(os.Getenv("AWS_CA_BUNDLE"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := slices.Concat(emulatorCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.server.Certificate().Raw}))
	p.CABundle = filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(p.CABundle, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Arm sets the fault for the following requests and restarts the call count.
func (p *FaultProxy) Arm(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Attempts == 0 {
		f.Attempts = 1
	}
	if f.Latency == 0 {
		f.Latency = 2 * time.Second
	}
	if f.Window == 0 {
		f.Window = DefaultStaleWindow
	}
	p.fault, p.seen, p.hits, p.hitOp, p.hitInv, p.calls = &f, 0, 0, "", "", nil
	p.picked, p.windows = map[string]bool{}, nil
	p.gen++
}

// Disarm stops injecting and restarts the call count.
func (p *FaultProxy) Disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.seen, p.hits, p.hitOp, p.hitInv, p.calls = nil, 0, 0, "", "", nil
	p.picked, p.windows = nil, nil
	p.gen++
}

// SetDelay holds every following request for d before anything else happens
// to it (0: none), whether or not a fault is armed, and independently of a
// latency fault, which adds its own delay. Concurrent requests are delayed
// concurrently, so d is the cost of one round trip, not a global throttle.
func (p *FaultProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Requests returns how many AWS requests the proxy received since it started,
// faulted or not, armed or not; Arm and Disarm do not reset it. The requests
// of one command are the difference of two readings.
func (p *FaultProxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Calls returns the requests seen since the last Arm or Disarm.
func (p *FaultProxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Injected returns how many faults the proxy injected in total.
func (p *FaultProxy) Injected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected
}

var scopeService = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// classify names a request's service and operation without consuming its body.
func classify(r *http.Request, body []byte) (string, string) {
	service := "unknown"
	if m := scopeService.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return service, target[strings.LastIndex(target, ".")+1:]
	}
	if service == "s3" {
		return service, s3Operation(r)
	}
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return service, v.Get("Action")
	}
	return service, r.Method
}

func s3Operation(r *http.Request) string {
	path := strings.Trim(r.URL.Path, "/")
	q := r.URL.Query()
	sub := ""
	for _, k := range []string{"encryption", "versioning", "publicAccessBlock", "ownershipControls", "policy", "lifecycle", "tagging", "versions", "delete", "location", "logging", "acl",
		"replication", "notification", "object-lock", "retention", "legal-hold"} {
		if q.Has(k) {
			sub = k
		}
	}
	level := "Object"
	if !strings.Contains(path, "/") {
		level = "Bucket"
	}
	return r.Method + level + sub
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	service, op := classify(r, body)
	q := parseRequest(r, body, service, op)
	invocation := r.Header.Get(invocationHeader)

	p.mu.Lock()
	p.requests++
	delay := p.delay
	p.mu.Unlock()
	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-r.Context().Done(): // the client gave up: nothing to forward
			timer.Stop()
			return
		}
	}

	p.mu.Lock()
	p.seen++
	if denied := p.denial(q); denied != nil {
		p.calls = append(p.calls, Call{Service: service, Operation: op, Denied: true})
		p.mu.Unlock()
		denied.write(w)
		return
	}
	if refused := p.notYetVisible(q, time.Now()); refused != nil {
		p.calls = append(p.calls, Call{Service: service, Operation: op, NotYetVisible: true})
		p.mu.Unlock()
		refused.write(w)
		return
	}
	inject := p.selectFault(q.name(), invocation)
	call := Call{Service: service, Operation: op}
	var stale staleLookup
	if inject != nil {
		call.Injected = inject.Kind
	} else {
		stale = p.lookup(q, time.Now())
		call.Stale = stale.answer != nil
	}
	p.calls = append(p.calls, call)
	index, gen := len(p.calls)-1, p.gen
	p.mu.Unlock()

	if inject == nil {
		p.answerRead(w, q, stale, index, gen)
		return
	}
	switch inject.Kind {
	case FaultLatency:
		time.Sleep(inject.Latency)
		p.proxy.ServeHTTP(w, r)
	case FaultReset:
		resetConnection(w)
	case FaultLostResponse:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		resetConnection(w)
	case FaultStaleRead:
		win := p.openWindow(q)
		tee := &teeWriter{ResponseWriter: w}
		p.proxy.ServeHTTP(tee, r)
		p.closeWindow(win, q, tee.status, tee.body.Bytes(), inject.Window)
	case FaultIgnoredWrite:
		ignoredAnswer(q).write(w)
	default:
		writeFault(w, service, r.Header.Get("X-Amz-Target") != "", inject.Kind)
	}
}

// selectFault decides whether the armed fault hits a request, and counts it.
// Callers hold p.mu.
func (p *FaultProxy) selectFault(name, invocation string) *Fault {
	f := p.fault
	switch {
	case f == nil:
		return nil
	case f.Kind == FaultStaleRead || f.Kind == FaultIgnoredWrite:
		if !p.pickWrite(f, name, invocation) {
			return nil
		}
	case p.hits < f.Attempts && (f.Call == 0 || p.seen >= f.Call) && (f.Match == "" || f.Match == name) && (p.hits == 0 || p.sameCall(name, invocation)):
		p.hits++
		p.hitOp, p.hitInv = name, invocation
	default:
		return nil
	}
	p.injected++
	return f
}

// pickWrite selects the write calls of a consistency fault: a retry of a
// call selected already, or a new candidate while Attempts allows. Callers
// hold p.mu.
func (p *FaultProxy) pickWrite(f *Fault, name, invocation string) bool {
	if !candidate(f.Kind, name) {
		return false
	}
	if invocation != "" && p.picked[invocation] {
		return true
	}
	if (f.Call != 0 && p.seen < f.Call) || (f.Match != "" && f.Match != name) || (f.Attempts != AllWrites && len(p.picked) >= f.Attempts) {
		return false
	}
	id := invocation
	if id == "" {
		id = fmt.Sprintf("#%d", p.seen)
	}
	p.picked[id] = true
	return true
}

// answerRead answers a request no fault selected: from a stale window when
// one holds its answer, else the emulator's.
func (p *FaultProxy) answerRead(w http.ResponseWriter, q *awsRequest, stale staleLookup, index, gen int) {
	switch {
	case stale.answer != nil:
		stale.answer.write(w)
		return
	case stale.alarms != nil || stale.resolveAlias:
	default:
		p.proxy.ServeHTTP(w, q.r)
		return
	}
	live, err := p.forward(q)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	out := live
	if stale.alarms != nil {
		out = mergeAlarms(live, stale.alarms)
	} else {
		if id := describedKeyID(live.body); live.ok() && id != "" {
			byID := &awsRequest{r: q.r, service: "kms", op: q.op, region: q.region, params: map[string]any{"KeyId": id}}
			p.mu.Lock()
			if a := p.lookup(byID, time.Now()).answer; a != nil {
				out = a
			}
			p.mu.Unlock()
		}
	}
	if out != live {
		p.mu.Lock()
		if gen == p.gen && index < len(p.calls) {
			p.calls[index].Stale = true
		}
		p.mu.Unlock()
	}
	out.write(w)
}

// forward sends a request as received to the emulator and reads the answer.
func (p *FaultProxy) forward(q *awsRequest) (*answer, error) {
	u := *p.target
	u.Path, u.RawQuery = q.r.URL.Path, q.r.URL.RawQuery
	req, err := http.NewRequestWithContext(q.r.Context(), q.r.Method, u.String(), bytes.NewReader(q.body))
	if err != nil {
		return nil, err
	}
	req.Header = q.r.Header.Clone()
	req.ContentLength = int64(len(q.body))
	return send(p.client, req)
}

// teeWriter passes an answer through and keeps a copy of its status and body.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (t *teeWriter) WriteHeader(status int) {
	if t.status == 0 {
		t.status = status
	}
	t.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}

// invocationHeader is the SDK's ID of one operation call, the same on each of
// its attempts (aws-sdk-go-v2 and the AWS SDKs Terraform's S3 backend uses).
const invocationHeader = "Amz-Sdk-Invocation-Id"

// sameCall reports whether a request is a retry of the call the held fault
// hit first. Callers hold p.mu.
func (p *FaultProxy) sameCall(name, invocation string) bool {
	if p.hitInv != "" || invocation != "" {
		return invocation == p.hitInv
	}
	return name == p.hitOp
}

func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // RST instead of FIN
	}
	_ = raw.Close()
}

// writeFault answers in the error format of the service's protocol (S3's XML,
// the JSON protocols that name their operation in X-Amz-Target: KMS, DynamoDB,
// CloudTrail, CloudWatch Logs; else the query protocol: IAM, STS, CloudWatch),
// so the SDK classifies it as it would a real one.
func writeFault(w http.ResponseWriter, service string, jsonProtocol bool, kind FaultKind) {
	status, code := http.StatusInternalServerError, "InternalError"
	if kind == FaultThrottle {
		status, code = http.StatusBadRequest, "Throttling"
	}
	switch {
	case service == "s3":
		if kind == FaultThrottle {
			status, code = http.StatusServiceUnavailable, "SlowDown"
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by the test fault proxy</Message></Error>`, code)
	case jsonProtocol:
		if kind == FaultThrottle {
			code = "ThrottlingException"
		} else {
			code = "InternalFailure"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"__type":"%s","message":"injected by the test fault proxy"}`, code)
	default: // query protocols: IAM, STS
		if kind != FaultThrottle {
			code = "InternalFailure"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>injected by the test fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>`, code)
	}
}
