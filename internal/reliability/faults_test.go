// Package reliability measures how the provider behaves when AWS misbehaves:
// faults injected into every call of a create and a destroy, a scan for
// orphaned AWS objects after each case, and the secrets kept out of logs.
// `make reliability` runs the full matrix and prints the figures; `make test`
// runs a fast subset.
package reliability

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// maxRetries is low so that a fault held for two attempts outlasts the SDK's
// retries and the apply really fails; with the default (25) almost every
// fault is absorbed.
const maxRetries = 1

// variant is a backend configuration the fault matrix runs on.
type variant struct {
	name      string
	extra     string // arguments and blocks added to the backend
	controls  int    // how many controls a converged backend reports (0: as many as a clean create)
	monitored bool   // log bucket, trail and alarms exist too
	// replicaRegion: the backend replicates there (its bucket and key are
	// looked for there too).
	replicaRegion string
	// fullKinds limits the full matrix (RELIABILITY_FULL=1) to these kinds;
	// nil: every kind. The fast subset always tries every kind once.
	fullKinds []acctest.FaultKind
	// fast is the fast subset (make test): for a create and a destroy, the
	// write ("service:operation") each kind hits, chosen by name so that it
	// lands on a write whatever the order of calls.
	fast map[string]map[acctest.FaultKind]string
}

var (
	plainBackend = variant{name: "plain", controls: 18, fast: map[string]map[acctest.FaultKind]string{
		"create": {
			acctest.FaultInternalError: "kms:CreateKey",
			acctest.FaultThrottle:      "dynamodb:CreateTable",
			acctest.FaultReset:         "s3:PUTBucketpolicy",
			acctest.FaultLatency:       "s3:PUTBucketencryption",
			// Two policies are created concurrently: the fault must stay on
			// the one it hit first (and its retry), not the sibling.
			acctest.FaultLostResponse: "iam:CreatePolicy",
		},
		"destroy": {
			acctest.FaultInternalError: "s3:DELETEBucket",
			acctest.FaultThrottle:      "dynamodb:DeleteTable",
			acctest.FaultReset:         "kms:ScheduleKeyDeletion",
			acctest.FaultLatency:       "s3:POSTBucketdelete",
			acctest.FaultLostResponse:  "iam:DeletePolicy",
		},
	}}
	// monitoredBackend adds every optional component: the managed log bucket,
	// the trail and the alarm pipeline (log group, role, filters, alarms).
	// Its full matrix tries the two kinds that differ in what AWS did: a
	// request refused (internal-error; reset and throttle act alike) and a
	// request carried out whose reply is lost.
	monitoredBackend = variant{name: "monitored", monitored: true,
		fullKinds: []acctest.FaultKind{acctest.FaultInternalError, acctest.FaultLostResponse},
		fast: map[string]map[acctest.FaultKind]string{
			"create": {
				acctest.FaultInternalError: "cloudtrail:CreateTrail",
				acctest.FaultThrottle:      "logs:CreateLogGroup",
				acctest.FaultReset:         "s3:PUTBucketlogging",
				acctest.FaultLatency:       "monitoring:PutMetricAlarm",
				acctest.FaultLostResponse:  "iam:CreateRole",
			},
			"destroy": {
				acctest.FaultInternalError: "cloudtrail:DeleteTrail",
				acctest.FaultThrottle:      "logs:DeleteLogGroup",
				acctest.FaultReset:         "iam:DeleteRole",
				acctest.FaultLatency:       "monitoring:DeleteAlarms",
				acctest.FaultLostResponse:  "s3:DELETEBucket",
			},
		}, extra: `
  access_logging {}
  cloudtrail {
    alarms {
      sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:state-alerts"
    }
  }`}
	// replicaBackend adds replication (issue 16): a replica key and bucket in
	// another region, the replication role and the rule on the state
	// bucket. Its fast subset hits the replica side's writes.
	replicaBackend = variant{name: "replica", replicaRegion: "us-west-2",
		fullKinds: []acctest.FaultKind{acctest.FaultInternalError, acctest.FaultLostResponse},
		fast: map[string]map[acctest.FaultKind]string{
			"create": {
				acctest.FaultInternalError: "s3:PUTBucketreplication",
				acctest.FaultThrottle:      "iam:PutRolePolicy",
				acctest.FaultReset:         "s3:PUTBucketversioning",
				acctest.FaultLatency:       "kms:CreateAlias",
				acctest.FaultLostResponse:  "iam:CreateRole",
			},
			"destroy": {
				acctest.FaultInternalError: "iam:DeleteRole",
				acctest.FaultThrottle:      "iam:DeleteRolePolicy",
				acctest.FaultReset:         "kms:ScheduleKeyDeletion",
				acctest.FaultLatency:       "s3:POSTBucketdelete",
				acctest.FaultLostResponse:  "s3:DELETEBucket",
			},
		}, extra: `
  replication {
    region = "us-west-2"
  }`}
	// tofuBackend adds each environment's OpenTofu encryption key: three
	// keys of one backend made concurrently. 18 controls and one per key.
	tofuBackend = variant{name: "tofu", controls: 20, extra: `
  tofu_encryption = true`}
	// accessBackend has the whole access model (issue 13): grants to
	// principals of other accounts, which add the lock table's resource
	// policy, a boundary and key administrators. Same controls as plain.
	accessBackend = variant{name: "access", controls: 18, extra: `
  access {
    environment = "dev"
    principals  = ["arn:aws:iam::222222222222:role/dev-deployer"]
    read_only   = ["arn:aws:iam::333333333333:role/auditor"]
  }
  access {
    environment = "prod"
    principals  = ["arn:aws:iam::444444444444:role/prod-deployer"]
  }
  boundary {
    organization_id  = "o-abc123defg"
    vpc_endpoint_ids = ["vpce-0123456789abcdef0"]
    principal_tags   = { Department = "Infrastructure" }
  }
  key_administrators {
    principals  = ["arn:aws:iam::123456789012:role/security-admin"]
    require_mfa = true
  }`}
)

func variantConfig(p *acctest.FaultProxy, name string, v variant) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}

provider "securestate" {
  s3_use_path_style = true
  custom_ca_bundle  = %[1]q
  max_retries       = %[3]d
  endpoints {
    s3         = %[2]q
    kms        = %[2]q
    dynamodb   = %[2]q
    iam        = %[2]q
    sts        = %[2]q
    cloudtrail = %[2]q
    cloudwatch = %[2]q
    logs       = %[2]q
    events     = %[2]q
  }
}

resource "securestate_backend" "b" {
  name          = %[4]q
  environments  = ["dev", "prod"]
  force_destroy = true%[5]s
}
`, p.CABundle, p.URL, maxRetries, name, v.extra)
}

type figures struct {
	mu                                                                    sync.Mutex
	injected, cases, failedFirst, converged, orphans, unclear, notReached int
	// failedBy counts the first runs that failed, by "op/kind".
	failedBy map[string]int
}

// add counts one case. A case whose run ended before its call index (call
// counts vary by a call or two between runs) injected nothing: it is counted
// as not reached, never as converged.
func (f *figures) add(op string, kind acctest.FaultKind, injected int, failed, converged, unclear bool, orphans int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orphans += orphans
	if injected == 0 {
		f.notReached++
		return
	}
	f.injected += injected
	f.cases++
	if failed {
		f.failedFirst++
		if f.failedBy == nil {
			f.failedBy = map[string]int{}
		}
		f.failedBy[op+"/"+string(kind)]++
	}
	if converged {
		f.converged++
	}
	if unclear {
		f.unclear++
	}
}

// mustFail lists, per operation, the fault kinds of which at least one case
// must make the first run fail: a refused request outlasting the SDK's retry
// (internal error, throttling, reset), and a create whose every reply is lost.
// If none did, the faults stopped taking effect and the matrix proves nothing.
// Latency only slows a run down.
var mustFail = map[string][]acctest.FaultKind{
	"create":  {acctest.FaultInternalError, acctest.FaultThrottle, acctest.FaultReset, acctest.FaultLostResponse},
	"destroy": {acctest.FaultInternalError, acctest.FaultThrottle, acctest.FaultReset},
}

// faultCase is one fault to inject: at call index call, or (call 0) on the
// first request for the operation match.
type faultCase struct {
	kind  acctest.FaultKind
	call  int
	match string
}

// plan lists the cases to run for an operation ("create" or "destroy") of n
// calls: every kind (or the variant's fullKinds) at every index with
// RELIABILITY_FULL=1; otherwise the fast subset of make test: each kind once,
// on the write the variant names for it. RELIABILITY_KINDS (comma-separated
// kinds) narrows either to those kinds.
func plan(op string, n int, v variant) []faultCase {
	var out []faultCase
	only := os.Getenv("RELIABILITY_KINDS")
	full := os.Getenv("RELIABILITY_FULL") != ""
	for _, kind := range acctest.FaultKinds {
		if only != "" && !slices.Contains(strings.Split(only, ","), string(kind)) {
			continue
		}
		if full && v.fullKinds != nil && !slices.Contains(v.fullKinds, kind) {
			continue
		}
		if full {
			for i := 1; i <= n; i++ {
				out = append(out, faultCase{kind: kind, call: i})
			}
			continue
		}
		out = append(out, faultCase{kind: kind, match: v.fast[op][kind]})
	}
	return out
}

// clearFailure reports whether a failed run says what failed, with no crash:
// a diagnostic naming the backend ("Cannot create backend <name>", "Backend
// <name> is not fully hardened"), or the provider's own failure to check its
// credentials, which comes before any backend.
func clearFailure(out, name string) bool {
	return strings.Contains(out, "Error: ") && !strings.Contains(out, "panic:") && !strings.Contains(out, "plugin crashed") &&
		(strings.Contains(out, " backend "+name) || strings.Contains(out, "Backend "+name+" ") || strings.Contains(out, "sts:GetCallerIdentity"))
}

func TestAccReliability_faultsDuringCreateAndDestroy(t *testing.T) {
	faultMatrix(t, plainBackend)
}

// The monitoring components under the same faults: access logging to a
// managed log bucket, the trail and its alarms.
func TestAccReliability_faultsWithMonitoring(t *testing.T) {
	faultMatrix(t, monitoredBackend)
}

// The replication components under the same faults: every case converges,
// with no orphan in either region.
func TestAccReliability_faultsWithReplication(t *testing.T) {
	faultMatrix(t, replicaBackend)
}

func faultMatrix(t *testing.T, v variant) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	prefix := acctest.RandomName("rel")

	// Discovery: how many AWS calls a clean create and a forced destroy make.
	proxy := acctest.StartFaultProxy(t)
	probe := acctest.NewWorkspace(t, variantConfig(proxy, prefix+"-probe", v))
	proxy.Disarm()
	if out, err := probe.Apply(); err != nil {
		t.Fatalf("clean create: %s\n%s", err, out)
	}
	createOps := operations(proxy.Calls())
	createCalls := len(createOps)
	if v.controls == 0 {
		res, err := probe.Resources()
		if err != nil {
			t.Fatal(err)
		}
		controls, _ := res["securestate_backend.b"]["controls"].(map[string]any)
		v.controls = len(controls)
	}
	if err := compliant(t, c, probe, v); err != nil {
		t.Fatalf("clean create: %s", err)
	}
	putState(t, c, probe)
	proxy.Disarm()
	if out, err := probe.Destroy(); err != nil {
		t.Fatalf("clean destroy: %s\n%s", err, out)
	}
	destroyOps := operations(proxy.Calls())
	destroyCalls := len(destroyOps)
	t.Logf("%s backend: a clean create makes %d AWS calls, a forced destroy %d (both including Terraform's refresh)", v.name, createCalls, destroyCalls)
	t.Logf("create: %s", strings.Join(createOps, " "))
	t.Logf("destroy: %s", strings.Join(destroyOps, " "))
	// The fast subset's writes must be among the calls, or its faults would
	// never be injected.
	for op, ops := range map[string][]string{"create": createOps, "destroy": destroyOps} {
		for kind, match := range v.fast[op] {
			if !slices.Contains(ops, match) {
				t.Fatalf("the fast subset injects %s on %s during a %s, which a clean %s never calls", kind, match, op, op)
			}
		}
	}

	f := &figures{}
	t.Run("cases", func(t *testing.T) {
		for _, op := range []string{"create", "destroy"} {
			n := createCalls
			if op == "destroy" {
				n = destroyCalls
			}
			for _, fc := range plan(op, n, v) {
				k := slices.Index(acctest.FaultKinds, fc.kind)
				name := fmt.Sprintf("%s-%s%d-%d", prefix, op[:1], k, fc.call)
				label := fmt.Sprintf("%s/%s/call%02d", op, fc.kind, fc.call)
				if fc.match != "" {
					name = fmt.Sprintf("%s-%s%d", prefix, op[:1], k)
					label = fmt.Sprintf("%s/%s/%s", op, fc.kind, fc.match)
				}
				t.Run(label, func(t *testing.T) {
					t.Parallel()
					runCase(t, c, f, v, op, name, acctest.Fault{Kind: fc.kind, Call: fc.call, Match: fc.match, Attempts: maxRetries + 1})
				})
			}
		}
	})
	t.Logf("figure: %s backend: faults injected %d, cases %d, first run failed %d, converged %d, unclear failures %d, orphans %d, not reached %d",
		v.name, f.injected, f.cases, f.failedFirst, f.converged, f.unclear, f.orphans, f.notReached)
	if f.orphans > 0 || f.unclear > 0 || f.converged != f.cases {
		t.Errorf("every case must converge, with clear failures and zero orphans")
	}
	t.Logf("figure: %s backend: first runs failed by operation and kind: %v", v.name, f.failedBy)
	for op, kinds := range mustFail {
		for _, kind := range kinds {
			if !planned(op, kind, v) {
				continue
			}
			if f.failedBy[op+"/"+string(kind)] == 0 {
				t.Errorf("no %s failed its first run under fault kind %s: the faults are not taking effect", op, kind)
			}
		}
	}
	if f.notReached*10 > f.cases+f.notReached {
		t.Errorf("%d of %d cases injected no fault: the call counts measured first no longer match the runs", f.notReached, f.cases+f.notReached)
	}
}

// runCase injects one fault into a create or a destroy, runs it again without
// the fault when it failed, and checks the result and the orphans.
func runCase(t *testing.T, c *awsclient.Client, f *figures, v variant, op, name string, fault acctest.Fault) {
	proxy := acctest.StartFaultProxy(t)
	ws := acctest.NewWorkspace(t, variantConfig(proxy, name, v))
	run, again := ws.Apply, ws.Apply
	if op == "destroy" {
		if out, err := ws.Apply(); err != nil {
			t.Fatalf("create: %s\n%s", err, out)
		}
		putState(t, c, ws)
		run, again = ws.Destroy, ws.Destroy
	}
	proxy.Arm(fault)
	out, err := run()
	hit := describeHit(proxy)
	injected := len(proxy.Calls()) - countClean(proxy.Calls())
	proxy.Disarm()

	failed, unclear, converged, orphanCount := err != nil, false, false, 0
	defer func() { f.add(op, fault.Kind, injected, failed, converged, unclear, orphanCount) }()
	if failed {
		if unclear = !clearFailure(out, name); unclear {
			t.Errorf("%s: failure is not clear:\n%s", hit, out)
		}
		if out, err := again(); err != nil {
			t.Fatalf("%s: running %s again did not converge: %s\n%s", hit, op, err, out)
		}
	}
	if op == "create" {
		if err := compliant(t, c, ws, v); err != nil {
			t.Fatalf("%s: %s", hit, err)
		}
		orphanCount += orphans(t, c, name, ws, false, v)
		putState(t, c, ws)
		if out, err := ws.Destroy(); err != nil {
			t.Fatalf("%s: cleanup destroy: %s\n%s", hit, err, out)
		}
	}
	converged = true
	orphanCount += orphans(t, c, name, ws, true, v)
}

// planned reports whether the matrix (as narrowed by RELIABILITY_KINDS)
// tries kind during op.
func planned(op string, kind acctest.FaultKind, v variant) bool {
	return slices.ContainsFunc(plan(op, 1, v), func(fc faultCase) bool { return fc.kind == kind })
}

// operations names each call ("service:operation"), in order.
func operations(calls []acctest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Service + ":" + c.Operation
	}
	return out
}

func countClean(calls []acctest.Call) int {
	n := 0
	for _, c := range calls {
		if c.Injected == "" {
			n++
		}
	}
	return n
}

func describeHit(p *acctest.FaultProxy) string {
	for _, c := range p.Calls() {
		if c.Injected != "" {
			return fmt.Sprintf("%s on %s:%s", c.Injected, c.Service, c.Operation)
		}
	}
	return "fault armed but not reached"
}

// putState stores an object so that destroy has versions to empty.
func putState(t *testing.T, c *awsclient.Client, ws *acctest.Workspace) {
	t.Helper()
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	b := res["securestate_backend.b"]
	if b == nil {
		t.Fatal("backend not in state")
	}
	bucket, _ := b["bucket"].(string)
	if _, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("dev/terraform.tfstate"), Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
}

// compliant checks the backend in state against AWS: every control is read
// from AWS and compared with the hardened settings (acctest.CheckHardened,
// and CheckMonitored for the monitored variant), not taken from the controls
// in state, which a successful apply always sets. The state must still list
// the variant's controls, all compliant.
func compliant(t *testing.T, c *awsclient.Client, ws *acctest.Workspace, v variant) error {
	t.Helper()
	res, err := ws.Resources()
	if err != nil {
		return err
	}
	b := res["securestate_backend.b"]
	if b == nil {
		return fmt.Errorf("backend not in state after apply")
	}
	controls, _ := b["controls"].(map[string]any)
	if len(controls) != v.controls && (v.controls != 0 || len(controls) <= plainBackend.controls) {
		return fmt.Errorf("%d controls in state, want %d", len(controls), v.controls)
	}
	for k, val := range controls {
		if val != "compliant" {
			return fmt.Errorf("control %s is %v after converging", k, val)
		}
	}
	a, err := acctest.BackendFromValues(b)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := acctest.CheckHardened(ctx, c, a); err != nil {
		return fmt.Errorf("in AWS: %w", err)
	}
	if v.monitored {
		if err := acctest.CheckMonitored(ctx, c, a); err != nil {
			return fmt.Errorf("in AWS: %w", err)
		}
	}
	if v.replicaRegion != "" {
		if err := acctest.CheckReplica(ctx, c, a); err != nil {
			return fmt.Errorf("in AWS: %w", err)
		}
	}
	return nil
}

// orphans counts AWS objects of the backend that no state tracks. After a
// destroy nothing may be left (a key pending deletion counts as cleaned up),
// the monitoring components included.
func orphans(t *testing.T, c *awsclient.Client, name string, ws *acctest.Workspace, destroyed bool, v variant) int {
	t.Helper()
	tracked := map[string]bool{}
	if !destroyed {
		res, err := ws.Resources()
		if err != nil {
			t.Fatal(err)
		}
		var collect func(v any)
		collect = func(v any) {
			switch x := v.(type) {
			case string:
				tracked[x] = true
			case map[string]any:
				for _, e := range x {
					collect(e)
				}
			case []any:
				for _, e := range x {
					collect(e)
				}
			}
		}
		collect(res["securestate_backend.b"])
	}
	var regions []string
	if v.replicaRegion != "" {
		regions = append(regions, v.replicaRegion)
	}
	objects, err := acctest.BackendObjects(context.Background(), c, name, regions...)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range objects {
		// Before a destroy the monitoring components' names are derived,
		// not all kept in state; they are checked once the backend is gone.
		if tracked[o.ID] || !destroyed && o.Monitoring {
			continue
		}
		t.Errorf("orphan: %s", o)
		n++
	}
	return n
}

// A create whose reply is lost (AWS carried it out, the connection dropped)
// leaves the provider unsure what exists, and the SDK's retry may repeat it.
// CreateKey is not idempotent: a retry makes a second key, and a call whose
// every reply is lost fails though keys exist. CreateBucket's retry finds the
// bucket it made (BucketAlreadyOwnedByYou, or 200 in us-east-1), and a call
// whose every reply is lost fails though the bucket exists, untagged. Either
// way the apply must succeed with one key behind its alias, every bucket
// adopted, and nothing else left behind.
func TestAccReliability_lostCreateReplies(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	for _, tc := range []struct {
		name     string
		v        variant
		match    string
		attempts int
	}{
		{"key, the retry answers", plainBackend, "kms:CreateKey", 1},
		{"key, every reply lost", plainBackend, "kms:CreateKey", maxRetries + 1},
		// The retry meets the alias the first attempt made, pointing at the new key.
		{"alias, the retry answers", plainBackend, "kms:CreateAlias", 1},
		{"state bucket, every reply lost", plainBackend, "s3:PUTBucket", maxRetries + 1},
		// The log bucket is made first, before the state bucket.
		{"log bucket, every reply lost", monitoredBackend, "s3:PUTBucket", maxRetries + 1},
		// Three keys are made at once (the state key, dev's and prod's
		// OpenTofu encryption keys): the apply converges with each behind
		// its alias and no orphan. (That a sibling made meanwhile is never
		// adopted, the purpose tag, is proven by kmskey's TestKeysMadeSince:
		// here the siblings usually have their aliases before the lost
		// call's retries end, so this case alone would not catch it.)
		{"one of three keys made at once, every reply lost", tofuBackend, "kms:CreateKey", maxRetries + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := acctest.RandomName("rel-lost")
			proxy := acctest.StartFaultProxy(t)
			ws := acctest.NewWorkspace(t, variantConfig(proxy, name, tc.v))
			proxy.Arm(acctest.Fault{Kind: acctest.FaultLostResponse, Match: tc.match, Attempts: tc.attempts})
			out, err := ws.Apply()
			calls := 0
			for _, call := range proxy.Calls() {
				if call.Service+":"+call.Operation == tc.match {
					calls++
				}
			}
			proxy.Disarm()
			if proxy.Injected() != tc.attempts || calls < maxRetries+1 {
				t.Fatalf("%s reached the emulator %d times with %d replies lost; want a retry after %d lost", tc.match, calls, proxy.Injected(), tc.attempts)
			}
			if err != nil {
				t.Fatalf("apply after lost %s replies: %s\n%s", tc.match, err, out)
			}
			if err := compliant(t, c, ws, tc.v); err != nil {
				t.Fatal(err)
			}
			if n := orphans(t, c, name, ws, false, tc.v); n != 0 {
				t.Fatalf("%d orphans after the create", n)
			}
			putState(t, c, ws)
			if out, err := ws.Destroy(); err != nil {
				t.Fatalf("destroy: %s\n%s", err, out)
			}
			if n := orphans(t, c, name, ws, true, tc.v); n != 0 {
				t.Fatalf("%d orphans after the destroy", n)
			}
		})
	}
}
