package perf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/backend"
)

// shape is a configuration the benchmark runs: count backends, each with the
// arguments in extra, and what the component graph is told about one of them.
type shape struct {
	name  string
	count int
	extra string
	graph backend.Shape
}

const (
	shapePlain     = "plain"
	shapeMonitored = "monitored"
	shapeTwenty    = "20-backends"
)

func shapes(topicARN string) []shape {
	plain := backend.Shape{Environments: 2, Locking: "both"}
	monitored := plain
	monitored.AccessLogging, monitored.CloudTrail, monitored.Alarms = true, true, true
	return []shape{
		{name: shapePlain, count: 1, graph: plain},
		{name: shapeMonitored, count: 1, graph: monitored, extra: fmt.Sprintf(`
  access_logging {}
  cloudtrail {
    alarms {
      sns_topic_arn = %q
    }
  }`, topicARN)},
		// Terraform's default parallelism (10) runs them ten at a time; each
		// one's critical path is a single backend's.
		{name: shapeTwenty, count: 20, graph: plain},
	}
}

// The operations, in the order they run on one configuration.
const (
	opCreate  = "create"
	opRefresh = "refresh"
	opUpdate  = "update"
	opDestroy = "destroy"
)

const providerConfig = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}

# Endpoints and CA bundle come from AWS_ENDPOINT_URL and AWS_CA_BUNDLE, which
# point at the delaying proxy: every service the provider calls goes through it.
provider "securestate" {
  s3_use_path_style = true
}
`

const floorConfig = providerConfig + `
data "securestate_caller_identity" "current" {}
`

func backendsConfig(prefix string, sh shape) string {
	return providerConfig + fmt.Sprintf(`
resource "securestate_backend" "b" {
  count         = %d
  name          = format("%%s-%%02d", %q, count.index)
  environments  = ["dev", "prod"]
  locking       = %q
  force_destroy = true%s
}
`, sh.count, prefix, sh.graph.Locking, sh.extra)
}

// TestAccLatency is the latency benchmark (`make bench`, with SECURESTATE_BENCH
// set) and, without it, the smoke run of the same harness in `make test`: one
// run of the floor, a create and a destroy of the plain backend, so that the
// harness cannot rot. It is a test, not a Go benchmark, so that `go test
// -bench .` (make bench-check, which runs after the emulator has stopped)
// never picks it up, while `go vet` and the linters still compile it. Like
// every acceptance test it is skipped without TF_ACC (make unit) and fails
// when TF_ACC is set and the emulator does not answer; SECURESTATE_BENCH
// without TF_ACC fails too, never skips. It asserts no timing: only that
// every command succeeds, goes through the proxy, and that refresh finds no
// change, update repairs the drift and destroy leaves nothing behind.
//
// Unless the zero-delay pass is off (BASELINE=0, or a delay of 0), every run
// of every scenario, the floor included, is paired with a run at 0 ms on fresh
// names, in alternating order (delay first on even runs, 0 ms first on odd
// ones) so that drift in the machine's load falls on both alike. The smoke
// run does the same, so that this part of the harness cannot rot either.
func TestAccLatency(t *testing.T) {
	settings, err := ParseSettings(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if settings.Full && os.Getenv("TF_ACC") == "" {
		t.Fatalf("%s is set but TF_ACC is not: the benchmark needs the emulator; run it with `make bench`", EnvFull)
	}
	acctest.PreCheck(t)
	c := acctest.Client(t)
	topic := arn.ARN{Partition: "aws", Service: "sns", Region: os.Getenv("AWS_REGION"), AccountID: c.AccountID, Resource: "state-alerts"}.String()

	proxy := acctest.StartFaultProxy(t)
	proxy.SetDelay(settings.Delay)
	env := []string{"AWS_ENDPOINT_URL=" + proxy.URL, "AWS_CA_BUNDLE=" + proxy.CABundle}
	t.Logf("delay %s per AWS request, %d runs per scenario (%d for %s), zero-delay pass: %t", settings.Delay, settings.Runs, settings.RunsMany, shapeTwenty, settings.Baseline)

	// The floor: a plan and apply that read only the caller identity. A first
	// run, not counted, warms the provider binary and the CLI's caches.
	floor := Row{Shape: "–", Op: "floor"}
	ws := acctest.NewWorkspace(t, floorConfig, env...)
	measure(t, proxy, settings.Delay, "floor (warm-up, not counted)", ws.Apply)
	for i := range settings.Runs {
		for _, p := range passes(settings, i) {
			proxy.SetDelay(p.delay)
			s := measure(t, proxy, p.delay, "floor"+p.label, ws.Apply)
			if p.zero {
				floor.Samples0 = append(floor.Samples0, s)
			} else {
				floor.Samples = append(floor.Samples, s)
			}
		}
	}
	proxy.SetDelay(settings.Delay)
	rows := []Row{floor}

	for _, sh := range shapes(topic) {
		if !settings.Full && sh.name != shapePlain || !settings.Wants(sh.name) {
			continue
		}
		ops := []string{opCreate, opRefresh, opUpdate, opDestroy}
		if !settings.Full {
			ops = []string{opCreate, opDestroy}
		}
		byOp := map[string]*Row{}
		for _, op := range ops {
			byOp[op] = &Row{Shape: sh.name, Op: op, CriticalPath: backend.CriticalPath(op, sh.graph)}
		}
		runs := settings.Runs
		if sh.count > 1 {
			runs = settings.RunsMany
		}
		t.Run(sh.name, func(t *testing.T) {
			for i := range runs {
				for _, p := range passes(settings, i) {
					t.Logf("%s: run %d of %d%s", sh.name, i+1, runs, p.label)
					proxy.SetDelay(p.delay)
					runShape(t, c, proxy, settings, p, sh, env, byOp)
				}
			}
			proxy.SetDelay(settings.Delay)
		})
		for _, op := range ops {
			if r := byOp[op]; len(r.Samples) > 0 {
				rows = append(rows, *r)
			}
		}
	}

	table := Table(rows, floor, settings.Delay)
	t.Logf("latency at %s per AWS request:\n%s", settings.Delay, table)
	if settings.Out != "" {
		if err := os.WriteFile(settings.Out, []byte(table), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// pass is one measurement of a scenario: with the configured delay, or (zero)
// with the delay at 0 ms.
type pass struct {
	delay time.Duration
	zero  bool
	label string // appended to the progress lines
}

// passes are the measurements of run i, in order: the delayed one alone, or,
// with the zero-delay pass on, both, the delayed one first on even runs and
// the zero-delay one first on odd runs.
func passes(settings Settings, i int) []pass {
	delayed := pass{delay: settings.Delay}
	if !settings.Baseline {
		return []pass{delayed}
	}
	zero := pass{zero: true, label: " (0 ms)"}
	if i%2 == 1 {
		return []pass{zero, delayed}
	}
	return []pass{delayed, zero}
}

// runShape makes one configuration of fresh backends and measures each of
// ops on it, in order, appending a sample to its row (to Samples0 for the
// zero-delay pass). The proxy's delay must already be p.delay.
func runShape(t *testing.T, c *awsclient.Client, proxy *acctest.FaultProxy, settings Settings, p pass, sh shape, env []string, rows map[string]*Row) {
	t.Helper()
	prefix := acctest.RandomName("perf")
	ws := acctest.NewWorkspace(t, backendsConfig(prefix, sh), env...)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			if out, err := ws.Destroy(); err != nil {
				t.Errorf("cleanup: destroying %s: %s\n%s", prefix, err, out)
			}
		}
	})
	ctx := context.Background()
	record := func(op string, s Sample) {
		switch r := rows[op]; {
		case r == nil:
		case p.zero:
			r.Samples0 = append(r.Samples0, s)
		default:
			r.Samples = append(r.Samples, s)
		}
	}

	record(opCreate, measure(t, proxy, p.delay, sh.name+" create"+p.label, ws.Apply))
	buckets := stateBuckets(t, ws, sh.count)

	if rows[opRefresh] != nil {
		s := measure(t, proxy, p.delay, sh.name+" refresh"+p.label, func() (string, error) {
			out, err := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color", "-compact-warnings")
			// -detailed-exitcode: 0 no changes, 1 error, 2 changes.
			if exit := (*exec.ExitError)(nil); errors.As(err, &exit) && exit.ExitCode() == 2 {
				return out, errors.New("the plan reports changes although nothing changed")
			}
			return out, err
		})
		record(opRefresh, s)
	}

	if rows[opUpdate] != nil {
		// One control drifts out of band, on the first backend only: its
		// bucket's versioning is suspended directly in the emulator (not
		// through the proxy, so it is not counted).
		if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  &buckets[0],
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended},
		}); err != nil {
			t.Fatalf("suspending the versioning of %s: %s", buckets[0], err)
		}
		record(opUpdate, measure(t, proxy, p.delay, sh.name+" update"+p.label, ws.Apply))
		v, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &buckets[0]})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != s3types.BucketVersioningStatusEnabled {
			t.Fatalf("after the update, versioning of %s is %q: the drift was not repaired", buckets[0], v.Status)
		}
	}

	// A state object in every bucket, so that destroy has versions to empty
	// as it would for a backend in use.
	for _, b := range buckets {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("dev/terraform.tfstate"), Body: strings.NewReader("{}")}); err != nil {
			t.Fatalf("writing a state object to %s: %s", b, err)
		}
	}
	record(opDestroy, measure(t, proxy, p.delay, sh.name+" destroy"+p.label, ws.Destroy))
	destroyed = true

	// The state bucket is what destroy deletes last.
	for _, b := range buckets {
		if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err == nil {
			t.Errorf("state bucket %s still exists after destroy", b)
		}
	}
	if !settings.Full {
		objects, err := acctest.BackendObjects(ctx, c, prefix+"-00")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects {
			t.Errorf("left behind after destroy: %s", o)
		}
	}
}

// measure runs one Terraform command and returns its wall time and the AWS
// requests the proxy saw meanwhile. The command must succeed (a plan must
// report no changes) and must have gone through the proxy: at least one
// request, so at least one delay.
func measure(t *testing.T, proxy *acctest.FaultProxy, delay time.Duration, what string, run func() (string, error)) Sample {
	t.Helper()
	before := proxy.Requests()
	start := time.Now()
	out, err := run()
	s := Sample{Wall: time.Since(start), Requests: proxy.Requests() - before}
	if err != nil {
		t.Fatalf("%s: %s\n%s", what, err, out)
	}
	if s.Requests == 0 || s.Wall < delay {
		t.Fatalf("%s: %d AWS requests through the proxy in %s: the provider did not go through it", what, s.Requests, s.Wall)
	}
	t.Logf("%s: %.2f s, %d AWS requests", what, s.Wall.Seconds(), s.Requests)
	return s
}

// stateBuckets reads the state bucket of each backend from state.
func stateBuckets(t *testing.T, ws *acctest.Workspace, count int) []string {
	t.Helper()
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	var buckets []string
	for i := range count {
		b, _ := res[fmt.Sprintf("securestate_backend.b[%d]", i)]["bucket"].(string)
		if b == "" {
			t.Fatalf("securestate_backend.b[%d] has no bucket in state", i)
		}
		buckets = append(buckets, b)
	}
	return buckets
}
