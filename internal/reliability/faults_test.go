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
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
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
	// fullKinds limits the full matrix (RELIABILITY_FULL=1) to these kinds;
	// nil: every kind. The fast subset always tries every kind once.
	fullKinds []acctest.FaultKind
}

var (
	plainBackend = variant{name: "plain", controls: 16}
	// monitoredBackend adds every optional component: the managed log bucket,
	// the trail and the alarm pipeline (log group, role, filters, alarms).
	// Its full matrix tries the two kinds that differ in what AWS did: a
	// request refused (internal-error; reset and throttle act alike) and a
	// request carried out whose reply is lost.
	monitoredBackend = variant{name: "monitored", monitored: true,
		fullKinds: []acctest.FaultKind{acctest.FaultInternalError, acctest.FaultLostResponse}, extra: `
  access_logging {}
  cloudtrail {
    alarms {
      sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:state-alerts"
    }
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
}

// add counts one case. A case whose run ended before its call index (call
// counts vary by a call or two between runs) injected nothing: it is counted
// as not reached, never as converged.
func (f *figures) add(injected int, failed, converged, unclear bool, orphans int) {
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
	}
	if converged {
		f.converged++
	}
	if unclear {
		f.unclear++
	}
}

// plan lists the (kind, call index) cases to run for an operation of n calls:
// every kind (or the variant's fullKinds) at every index with
// RELIABILITY_FULL=1; otherwise each kind once, at the first, middle or last
// call in turn, the last ones a little early so that a run a call shorter
// still reaches them (the fast subset in make test). RELIABILITY_KINDS
// (comma-separated kinds) narrows either to those kinds.
func plan(n int, v variant) map[acctest.FaultKind][]int {
	out := map[acctest.FaultKind][]int{}
	only := os.Getenv("RELIABILITY_KINDS")
	full := os.Getenv("RELIABILITY_FULL") != ""
	for k, kind := range acctest.FaultKinds {
		if only != "" && !slices.Contains(strings.Split(only, ","), string(kind)) {
			continue
		}
		if full && v.fullKinds != nil && !slices.Contains(v.fullKinds, kind) {
			continue
		}
		if full {
			for i := 1; i <= n; i++ {
				out[kind] = append(out[kind], i)
			}
			continue
		}
		out[kind] = []int{[]int{1, (n + 1) / 2, n - 2, n - 3}[k%4]}
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
	createCalls := len(proxy.Calls())
	if v.controls == 0 {
		res, err := probe.Resources()
		if err != nil {
			t.Fatal(err)
		}
		controls, _ := res["securestate_backend.b"]["controls"].(map[string]any)
		v.controls = len(controls)
	}
	if err := compliant(probe, v.controls); err != nil {
		t.Fatalf("clean create: %s", err)
	}
	putState(t, c, probe)
	proxy.Disarm()
	if out, err := probe.Destroy(); err != nil {
		t.Fatalf("clean destroy: %s\n%s", err, out)
	}
	destroyCalls := len(proxy.Calls())
	t.Logf("%s backend: a clean create makes %d AWS calls, a forced destroy %d (both including Terraform's refresh)", v.name, createCalls, destroyCalls)

	f := &figures{}
	t.Run("cases", func(t *testing.T) {
		for _, op := range []string{"create", "destroy"} {
			n := createCalls
			if op == "destroy" {
				n = destroyCalls
			}
			for kind, calls := range plan(n, v) {
				k := slices.Index(acctest.FaultKinds, kind)
				for _, i := range calls {
					name := fmt.Sprintf("%s-%s%d-%d", prefix, op[:1], k, i)
					t.Run(fmt.Sprintf("%s/%s/call%02d", op, kind, i), func(t *testing.T) {
						t.Parallel()
						runCase(t, c, f, v, op, name, acctest.Fault{Kind: kind, Call: i, Attempts: maxRetries + 1})
					})
				}
			}
		}
	})
	t.Logf("figure: %s backend: faults injected %d, cases %d, first run failed %d, converged %d, unclear failures %d, orphans %d, not reached %d",
		v.name, f.injected, f.cases, f.failedFirst, f.converged, f.unclear, f.orphans, f.notReached)
	if f.orphans > 0 || f.unclear > 0 || f.converged != f.cases {
		t.Errorf("every case must converge, with clear failures and zero orphans")
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
	defer func() { f.add(injected, failed, converged, unclear, orphanCount) }()
	if failed {
		if unclear = !clearFailure(out, name); unclear {
			t.Errorf("%s: failure is not clear:\n%s", hit, out)
		}
		if out, err := again(); err != nil {
			t.Fatalf("%s: running %s again did not converge: %s\n%s", hit, op, err, out)
		}
	}
	if op == "create" {
		if err := compliant(ws, v.controls); err != nil {
			t.Fatalf("%s: %s", hit, err)
		}
		orphanCount += orphans(t, c, name, ws, false)
		putState(t, c, ws)
		if out, err := ws.Destroy(); err != nil {
			t.Fatalf("%s: cleanup destroy: %s\n%s", hit, err, out)
		}
	}
	converged = true
	orphanCount += orphans(t, c, name, ws, true)
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

// compliant checks that every control of the backend in state is compliant,
// and that there are want of them (0: more than a plain backend has).
func compliant(ws *acctest.Workspace, want int) error {
	res, err := ws.Resources()
	if err != nil {
		return err
	}
	b := res["securestate_backend.b"]
	if b == nil {
		return fmt.Errorf("backend not in state after apply")
	}
	controls, _ := b["controls"].(map[string]any)
	if len(controls) != want && (want != 0 || len(controls) <= plainBackend.controls) {
		return fmt.Errorf("%d controls in state, want %d", len(controls), want)
	}
	for k, v := range controls {
		if v != "compliant" {
			return fmt.Errorf("control %s is %v after converging", k, v)
		}
	}
	return nil
}

// orphans counts AWS objects of the backend that no state tracks. After a
// destroy nothing may be left but keys pending deletion.
func orphans(t *testing.T, c *awsclient.Client, name string, ws *acctest.Workspace, destroyed bool) int {
	t.Helper()
	ctx := context.Background()
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
	var found []string
	check := func(kind, id string) {
		if !tracked[id] {
			found = append(found, kind+" "+id)
		}
	}
	buckets, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), name+"-") {
			check("bucket", aws.ToString(b.Name))
		}
	}
	// Every listing is paged through: the emulator is shared with the other tests.
	tables := dynamodb.NewListTablesPaginator(c.DynamoDB, &dynamodb.ListTablesInput{})
	for tables.HasMorePages() {
		page, err := tables.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range page.TableNames {
			if tb == naming.LockTable(name) {
				check("table", tb)
			}
		}
	}
	pols := iam.NewListPoliciesPaginator(c.IAM, &iam.ListPoliciesInput{PathPrefix: aws.String(naming.PolicyPath), Scope: iamtypes.PolicyScopeTypeLocal})
	for pols.HasMorePages() {
		page, err := pols.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Policies {
			if strings.HasPrefix(aws.ToString(p.PolicyName), name+"-tfstate-") {
				check("policy", aws.ToString(p.Arn))
			}
		}
	}
	aliases := kms.NewListAliasesPaginator(c.KMS, &kms.ListAliasesInput{})
	for aliases.HasMorePages() {
		page, err := aliases.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Aliases {
			if aws.ToString(a.AliasName) == naming.KeyAlias(name) {
				check("alias", aws.ToString(a.AliasName))
			}
		}
	}
	keys := kms.NewListKeysPaginator(c.KMS, &kms.ListKeysInput{})
	for keys.HasMorePages() {
		page, err := keys.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatalf("describing key %s: %s", aws.ToString(k.KeyId), err)
			}
			if d.KeyMetadata.KeyState == kmstypes.KeyStatePendingDeletion {
				continue // scheduled for deletion by the provider: cleaned up
			}
			tags, err := c.KMS.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatalf("listing the tags of key %s: %s", aws.ToString(k.KeyId), err)
			}
			for _, tg := range tags.Tags {
				if aws.ToString(tg.TagKey) == naming.OwnerTagKey && aws.ToString(tg.TagValue) == name {
					check("key", aws.ToString(k.KeyId))
				}
			}
		}
	}
	if destroyed {
		// The monitoring components have derived names; none may outlive the backend.
		found = append(found, monitoringLeft(t, c, name)...)
	}
	for _, o := range found {
		t.Errorf("orphan: %s", o)
	}
	return len(found)
}

// monitoringLeft lists the trail, the alarms' role, log group and alarms of
// backend name that still exist.
func monitoringLeft(t *testing.T, c *awsclient.Client, name string) []string {
	t.Helper()
	ctx := context.Background()
	var left []string
	trails, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trails.TrailList {
		if strings.HasPrefix(aws.ToString(tr.Name), name+"-") {
			left = append(left, "trail "+aws.ToString(tr.Name))
		}
	}
	roles, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String(naming.PolicyPath)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), name+"-") {
			left = append(left, "role "+aws.ToString(r.RoleName))
		}
	}
	groups, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/securestate/" + name + "/")})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.LogGroups {
		left = append(left, "log group "+aws.ToString(g.LogGroupName))
	}
	alarms, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-")})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alarms.MetricAlarms {
		left = append(left, "alarm "+aws.ToString(a.AlarmName))
	}
	return left
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
		{"state bucket, every reply lost", plainBackend, "s3:PUTBucket", maxRetries + 1},
		// The log bucket is made first, before the state bucket.
		{"log bucket, every reply lost", monitoredBackend, "s3:PUTBucket", maxRetries + 1},
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
			if err := compliant(ws, tc.v.controls); err != nil {
				t.Fatal(err)
			}
			if n := orphans(t, c, name, ws, false); n != 0 {
				t.Fatalf("%d orphans after the create", n)
			}
			putState(t, c, ws)
			if out, err := ws.Destroy(); err != nil {
				t.Fatalf("destroy: %s\n%s", err, out)
			}
			if n := orphans(t, c, name, ws, true); n != 0 {
				t.Fatalf("%d orphans after the destroy", n)
			}
		})
	}
}
