package datasource_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// requiredProviders names the provider the workspace's dev_overrides serve.
const requiredProviders = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
`

// lockValue is one element of locks, as `show -json` gives it.
type lockValue struct {
	AgeSeconds *int64  `json:"age_seconds"`
	Created    *string `json:"created"`
	Error      string  `json:"error"`
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	Operation  string  `json:"operation"`
	Path       string  `json:"path"`
	Source     string  `json:"source"`
	Stale      bool    `json:"stale"`
	Version    string  `json:"version"`
	Who        string  `json:"who"`
}

// locksValues is a securestate_locks data source's state.
type locksValues struct {
	Locks      []lockValue `json:"locks"`
	LocksCount int         `json:"locks_count"`
	StaleCount int         `json:"stale_count"`
	Errors     []struct {
		Error  string `json:"error"`
		Kind   string `json:"kind"`
		Source string `json:"source"`
	} `json:"errors"`
}

// read applies the reading workspace and returns each securestate_locks
// data source's values, by name.
func read(t *testing.T, ws *acctest.Workspace) map[string]locksValues {
	t.Helper()
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply of the reading configuration: %s\n%s", err, out)
	}
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]locksValues{}
	for addr, values := range res {
		name, ok := strings.CutPrefix(addr, "data.securestate_locks.")
		if !ok {
			continue
		}
		raw, err := json.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		var v locksValues
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if v.LocksCount != len(v.Locks) {
			t.Errorf("%s: locks_count %d, %d locks", name, v.LocksCount, len(v.Locks))
		}
		out[name] = v
	}
	return out
}

// consumerConfig holds one terraform_data resource whose provisioner holds
// the state lock until the file var.hold_until exists (at most five
// minutes), so a test decides when the run ends, or kills it.
const consumerConfig = `
variable "release" {
  type = string
}

variable "hold_until" {
  type    = string
  default = ""
}

resource "terraform_data" "app" {
  input            = var.release
  triggers_replace = [var.release]

  provisioner "local-exec" {
    command = var.hold_until == "" ? "true" : "i=0; while [ ! -e '${var.hold_until}' ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done"
  }
}
`

// consumer is a configuration whose state lives in the backend, run by one
// CLI.
type consumer struct {
	t   *testing.T
	cli acctest.CLI
	dir string
	env []string
}

func newConsumer(t *testing.T, cli acctest.CLI, backendHCL string) *consumer {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"main.tf": backendHCL + consumerConfig, "emulator.s3.tfbackend": acctest.EmulatorBackendSettings(os.Getenv("AWS_ENDPOINT_URL"))} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	return &consumer{t: t, cli: cli, dir: dir, env: env}
}

func (c *consumer) command(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(context.Background(), c.cli.Path, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	return cmd
}

func (c *consumer) must(args ...string) {
	c.t.Helper()
	out, err := c.command(args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s %s: %s\n%s", c.cli.Name, strings.Join(args, " "), err, out)
	}
}

// run is a CLI run in the background; out and err may be read once done
// is closed.
type run struct {
	cmd  *exec.Cmd
	out  strings.Builder
	err  error
	done chan struct{}
}

// applyHolding starts an apply that holds the state's lock until release
// is called (or the run is killed).
func (c *consumer) applyHolding(release string) (r *run, releaseLock func()) {
	c.t.Helper()
	hold := filepath.Join(c.t.TempDir(), "release")
	r = &run{done: make(chan struct{})}
	r.cmd = c.command("apply", "-no-color", "-input=false", "-auto-approve", "-lock-timeout=0s", "-var", "release="+release, "-var", "hold_until="+hold)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	// Its own process group: kill ends the CLI and the provisioner's shell.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	releaseLock = func() { _ = os.WriteFile(hold, nil, 0o600) }
	// A test that stops early lets the run end and unlock.
	c.t.Cleanup(func() {
		releaseLock()
		select {
		case <-r.done:
		case <-time.After(time.Minute):
			r.kill(c.t)
		}
	})
	return r, releaseLock
}

// wait waits for the run to end and returns its error.
func (r *run) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(3 * time.Minute):
		r.kill(t)
		t.Fatalf("the run did not end:\n%s", r.out.String())
		return nil
	}
}

// kill ends the run as a killed CI job ends: SIGKILL to the CLI and the
// provisioner's shell, no chance to unlock.
func (r *run) kill(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
		return // ended already; its process group is gone
	default:
	}
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Error(err)
	}
	<-r.done
}

// held is a state's lock as the backend holds it, read with the SDK: the
// lock file's and the lock item's lock IDs ("" when absent).
type held struct{ file, item string }

func heldLock(t *testing.T, c *awsclient.Client, bucket, table, key string) held {
	t.Helper()
	ctx := context.Background()
	var h held
	obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(key + ".tflock")})
	if err == nil {
		body, _ := io.ReadAll(obj.Body)
		_ = obj.Body.Close()
		var info struct{ ID string }
		if json.Unmarshal(body, &info) != nil || info.ID == "" {
			t.Fatalf("the lock file holds no lock record: %q", body)
		}
		h.file = info.ID
	}
	out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/" + key}}})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS); ok {
		var rec struct{ ID string }
		if json.Unmarshal([]byte(info.Value), &rec) != nil || rec.ID == "" {
			t.Fatalf("the lock item holds no lock record: %q", info.Value)
		}
		h.item = rec.ID
	}
	return h
}

// logRecords logs the CLI's lock records as stored: the lock file's body
// and the lock item.
func logRecords(t *testing.T, c *awsclient.Client, b backend, key string) {
	t.Helper()
	ctx := context.Background()
	if obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(key + ".tflock")}); err == nil {
		body, _ := io.ReadAll(obj.Body)
		_ = obj.Body.Close()
		t.Logf("lock file %s: %s", key+".tflock", body)
	}
	out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &b.table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: b.bucket + "/" + key}}})
	if err == nil {
		for name, v := range out.Item {
			if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
				t.Logf("lock item attribute %s: %s", name, s.Value)
			} else {
				t.Logf("lock item attribute %s: %T", name, v)
			}
		}
	}
}

// hasItem reports whether the table holds an item with this LockID.
func hasItem(t *testing.T, c *awsclient.Client, table, lockID string) bool {
	t.Helper()
	out, err := c.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: lockID}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// backend is a securestate_backend made for a test, one environment per CLI.
type backend struct {
	bucket, table, tableARN string
	hcl                     map[string]string // environment → backend_hcl
}

// newBackend applies securestate_backend (locking "both") with the real
// Terraform CLI and destroys it when the test ends.
func newBackend(t *testing.T, environments []string) backend {
	t.Helper()
	envs, _ := json.Marshal(environments)
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+fmt.Sprintf(`
resource "securestate_backend" "test" {
  name          = %q
  environments  = %s
  locking       = "both"
  force_destroy = true # the consumers leave state behind
}
`, acctest.RandomName("locks"), envs))
	out, err := ws.Apply()
	t.Cleanup(func() {
		if out, err := ws.Destroy(); err != nil {
			t.Errorf("destroying the backend: %s\n%s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("creating the backend: %s\n%s", err, out)
	}
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	v := res["securestate_backend.test"]
	b := backend{hcl: map[string]string{}}
	b.bucket, _ = v["bucket"].(string)
	b.table, _ = v["lock_table_name"].(string)
	b.tableARN, _ = v["lock_table_arn"].(string)
	hcl, _ := v["backend_hcl"].(map[string]any)
	for env, text := range hcl {
		b.hcl[env], _ = text.(string)
	}
	if b.bucket == "" || b.table == "" || b.tableARN == "" || len(b.hcl) != len(environments) {
		t.Fatalf("backend attributes missing: %+v", b)
	}
	return b
}

// The locks a real CLI holds, under Terraform and OpenTofu: while an apply
// holds a state of a securestate_backend (locking "both"), the data source
// reports its lock file and its DynamoDB item, with the holder's lock ID,
// user@host, operation and CLI version, and not the state's digest item;
// stale with stale_after = "1s", not with "1h"; narrowed by prefix; lock
// files only without lock_table. Reading deletes nothing: both stay held
// with the same ID, and the holder ends normally, after which no lock is
// reported. Then a run killed while holding the lock (a killed CI job) leaves
// a lock the data source reports, and the CLI's force-unlock with the ID it
// reports releases it.
func TestAccLocks_heldByEachCLI(t *testing.T) {
	acctest.PreCheck(t)
	clis := acctest.CLIs(t)
	var envs []string
	for _, cli := range clis {
		envs = append(envs, cli.Name)
	}
	b := newBackend(t, envs)
	c := acctest.Client(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	who := me.Username + "@" + host

	acctest.ForEachCLI(t, func(t *testing.T, cli acctest.CLI) {
		env := cli.Name
		stateKey := env + "/terraform.tfstate"
		other := slices.DeleteFunc(slices.Clone(envs), func(e string) bool { return e == env })[0]
		ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+fmt.Sprintf(`
data "securestate_locks" "all" {
  bucket      = %[1]q
  lock_table  = %[2]q
  stale_after = "1h"
}

data "securestate_locks" "aged" {
  bucket      = %[1]q
  lock_table  = %[3]q
  prefix      = "%[4]s/"
  stale_after = "1s"
}

data "securestate_locks" "other" {
  bucket     = %[1]q
  lock_table = %[2]q
  prefix     = "%[5]s/"
}

data "securestate_locks" "files" {
  bucket = %[1]q
}
`, b.bucket, b.table, b.tableARN, env, other)).Use(cli)

		holder := newConsumer(t, cli, b.hcl[env])
		// A test that stops while a killed run's lock is held releases it,
		// so the backend can be destroyed.
		t.Cleanup(func() {
			if h := heldLock(t, c, b.bucket, b.table, stateKey); h != (held{}) {
				holder.must("force-unlock", "-force", cmp.Or(h.file, h.item))
			}
		})
		holder.must("init", "-no-color", "-input=false", "-backend-config=emulator.s3.tfbackend")
		holder.must("apply", "-no-color", "-input=false", "-auto-approve", "-var", "release=1")
		digest := b.bucket + "/" + stateKey + "-md5"
		if !hasItem(t, c, b.table, digest) {
			t.Fatalf("%s wrote no digest item %s: the proof that digests are left out would prove nothing", cli, digest)
		}
		if h := heldLock(t, c, b.bucket, b.table, stateKey); h != (held{}) {
			t.Fatalf("a lock is held before the run: %+v", h)
		}

		started := time.Now().UTC().Truncate(time.Second)
		r, release := holder.applyHolding("2")
		var h held
		if !waitFor(90*time.Second, func() bool { h = heldLock(t, c, b.bucket, b.table, stateKey); return h.file != "" && h.item != "" }) {
			release()
			_ = r.wait(t)
			t.Fatalf("%s never held both the lock file and the lock item (%+v):\n%s", cli, h, r.out.String())
		}
		if h.file != h.item {
			t.Fatalf("%s holds lock %s in the lock file and %s in the item", cli, h.file, h.item)
		}
		logRecords(t, c, b, stateKey)
		time.Sleep(2 * time.Second) // older than stale_after = "1s" when read

		got := read(t, ws)
		all, aged := got["all"], got["aged"]
		t.Logf("%s holding %s: %+v", cli, stateKey, all.Locks)
		if len(all.Locks) != 2 || all.StaleCount != 0 || len(all.Errors) != 0 {
			t.Fatalf("all: %d locks (%d stale, errors %v), want the lock file and the item, not stale with stale_after = 1h: %+v", len(all.Locks), all.StaleCount, all.Errors, all.Locks)
		}
		var kinds []string
		for _, l := range all.Locks {
			kinds = append(kinds, l.Kind)
			wantSource := map[string]string{"lockfile": stateKey + ".tflock", "dynamodb": b.bucket + "/" + stateKey}[l.Kind]
			created, err := time.Parse(time.RFC3339, deref(l.Created))
			switch {
			case l.Path != stateKey || l.Source != wantSource:
				t.Errorf("%s lock at %s (%s), want %s (%s)", l.Kind, l.Path, l.Source, stateKey, wantSource)
			case l.ID != h.file:
				t.Errorf("%s lock ID %q, the backend holds %q", l.Kind, l.ID, h.file)
			case l.Who != who:
				t.Errorf("%s lock held by %q, want %q", l.Kind, l.Who, who)
			case l.Operation != "OperationTypeApply":
				t.Errorf("%s lock operation %q, want OperationTypeApply", l.Kind, l.Operation)
			case l.Version != cli.Version:
				t.Errorf("%s lock version %q, want %s's %q", l.Kind, l.Version, cli.Name, cli.Version)
			case err != nil || created.Before(started) || created.After(time.Now()):
				t.Errorf("%s lock created %v (%v), want between %s and now", l.Kind, deref(l.Created), err, started)
			case l.AgeSeconds == nil || *l.AgeSeconds < 2 || *l.AgeSeconds > int64(time.Since(started)/time.Second)+1:
				t.Errorf("%s lock age %v s, want at least 2 and at most the time since the run started", l.Kind, l.AgeSeconds)
			case l.Stale || l.Error != "":
				t.Errorf("%s lock stale %v, error %q", l.Kind, l.Stale, l.Error)
			}
		}
		if slices.Sort(kinds); !slices.Equal(kinds, []string{"dynamodb", "lockfile"}) {
			t.Errorf("kinds %v, want a lock file and a lock item", kinds)
		}
		if len(aged.Locks) != 2 || aged.StaleCount != 2 || !aged.Locks[0].Stale || !aged.Locks[1].Stale {
			t.Errorf("aged (table by ARN, prefix %s/, stale_after 1s): %d locks, %d stale, want both stale: %+v", env, len(aged.Locks), aged.StaleCount, aged.Locks)
		}
		if n := len(got["other"].Locks); n != 0 {
			t.Errorf("other (prefix %s/): %d locks, want none: %+v", other, n, got["other"].Locks)
		}
		if files := got["files"].Locks; len(files) != 1 || files[0].Kind != "lockfile" || files[0].ID != h.file {
			t.Errorf("files (no lock_table): %+v, want the lock file only", files)
		}

		// Reading deleted nothing: the same lock is held in both places,
		// the digest is there, and the holder ends normally.
		if after := heldLock(t, c, b.bucket, b.table, stateKey); after != h {
			t.Errorf("after reading, the backend holds %+v, want %+v still", after, h)
		}
		if !hasItem(t, c, b.table, digest) {
			t.Errorf("the digest item %s is gone after reading", digest)
		}
		release()
		if err := r.wait(t); err != nil {
			t.Fatalf("the holder's apply failed: %s\n%s", err, r.out.String())
		}
		got = read(t, ws)
		for name, v := range got {
			if len(v.Locks) != 0 || v.StaleCount != 0 {
				t.Errorf("%s after the run ended: %+v, want no lock", name, v.Locks)
			}
		}

		// A killed run leaves its lock: reported, stale, and released by
		// force-unlock with the ID the data source gives.
		killed, _ := holder.applyHolding("3")
		if !waitFor(90*time.Second, func() bool { h = heldLock(t, c, b.bucket, b.table, stateKey); return h.file != "" && h.item != "" }) {
			killed.kill(t)
			t.Fatalf("%s never held the lock for the run to kill:\n%s", cli, killed.out.String())
		}
		killed.kill(t)
		time.Sleep(2 * time.Second)
		got = read(t, ws)
		if a := got["aged"]; len(a.Locks) != 2 || a.StaleCount != 2 || a.Locks[0].ID != h.file {
			t.Fatalf("after the run was killed: %+v, want its two stale locks (ID %s)", a.Locks, h.file)
		}
		provesTheExample(t, cli, b, env, h.file)
		// force-unlock removes only the lock it is given: another ID is
		// refused and both records stay.
		if out, err := holder.command("force-unlock", "-force", "00000000-0000-4000-8000-000000000000").CombinedOutput(); err == nil {
			t.Errorf("%s force-unlock with another lock's ID succeeded:\n%s", cli, out)
		}
		if after := heldLock(t, c, b.bucket, b.table, stateKey); after != h {
			t.Fatalf("after a force-unlock with another ID the backend holds %+v, want %+v", after, h)
		}
		holder.must("force-unlock", "-force", got["aged"].Locks[0].ID)
		if after := heldLock(t, c, b.bucket, b.table, stateKey); after != (held{}) {
			t.Errorf("%s force-unlock left %+v", cli, after)
		}
		got = read(t, ws)
		for name, v := range got {
			if len(v.Locks) != 0 {
				t.Errorf("%s after force-unlock: %+v, want no lock", name, v.Locks)
			}
		}
	})
}

// provesTheExample applies the data source's documented example, with this
// backend and stale_after = "1s", while a killed run's lock is held: its
// check block warns, naming the lock, and the apply succeeds.
func provesTheExample(t *testing.T, cli acctest.CLI, b backend, env, lockID string) {
	t.Helper()
	example, err := os.ReadFile("../../../examples/data-sources/securestate_locks/data-source.tf")
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(`"acme-tfstate-111122223333"`, strconv.Quote(b.bucket), `"acme-tflock"`, strconv.Quote(b.table),
		`"prod/"`, strconv.Quote(env+"/"), `"4h"`, `"1s"`).Replace(string(example))
	if config == string(example) {
		t.Fatal("the example names none of the values the test replaces")
	}
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+config).Use(cli)
	// Without -compact-warnings: the check's message is shown in full.
	out, err := ws.Run("apply", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("the example fails to apply: %s\n%s", err, out)
	}
	for _, want := range []string{"Check block assertion failed", "Stale state locks", env + "/terraform.tfstate (lockfile): " + lockID, env + "/terraform.tfstate (dynamodb): " + lockID} {
		if !strings.Contains(out, want) {
			t.Errorf("the example's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "could not be read") {
		t.Errorf("the example reports unreadable locks:\n%s", out)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// Lock files and items that are no readable lock are reported, with why;
// prefix narrows both; the digest items and other buckets' items sharing the
// table are left out; a lock file the caller may not read is reported with
// AWS's code. The bucket and table are plain ones, written with crafted
// records (as a crashed or foreign tool might leave them).
func TestAccLocks_unreadableAndPrefix(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	ctx := context.Background()
	bucket, table := acctest.RandomName("locks"), acctest.RandomName("locks-tflock")
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyAndDelete(c.S3, bucket) })
	created, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})

	now := time.Now().UTC()
	record := func(id string, age time.Duration) string {
		return fmt.Sprintf(`{"ID":%q,"Operation":"OperationTypeApply","Info":"","Who":"ci@runner-7","Version":"1.11.4","Created":%q,"Path":""}`,
			id, now.Add(-age).Format(time.RFC3339Nano))
	}
	for key, body := range map[string]string{
		"app/terraform.tfstate.tflock":        record("a1", 5*time.Hour),
		"app/broken/terraform.tfstate.tflock": "this is not a lock record",
		"other/terraform.tfstate.tflock":      record("o1", time.Minute),
		"app/terraform.tfstate":               "{}",
	} {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []map[string]string{
		{"LockID": bucket + "/app/terraform.tfstate", "Info": record("a1", 5*time.Hour)},
		{"LockID": bucket + "/app/terraform.tfstate-md5", "Digest": "0cc175b9c0f1b6a831c399e269772661"},
		{"LockID": bucket + "/app/garbled/terraform.tfstate", "Info": "{not json"},
		{"LockID": "another-bucket/app/terraform.tfstate", "Info": record("x1", 9*time.Hour)},
	} {
		item := map[string]ddbtypes.AttributeValue{}
		for k, v := range it {
			item[k] = &ddbtypes.AttributeValueMemberS{Value: v}
		}
		if _, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			t.Fatal(err)
		}
	}

	proxy := acctest.StartFaultProxy(t)
	proxy.DenyAction("s3:GetObject")
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+fmt.Sprintf(`
provider "securestate" {
  alias             = "denied"
  s3_use_path_style = true
  custom_ca_bundle  = %[4]q
  endpoints {
    s3       = %[5]q
    dynamodb = %[5]q
    sts      = %[5]q
  }
}

data "securestate_locks" "app" {
  bucket      = %[1]q
  lock_table  = %[3]q
  prefix      = "app/"
  stale_after = "4h"
}

data "securestate_locks" "all" {
  bucket     = %[1]q
  lock_table = %[2]q
}

data "securestate_locks" "denied" {
  provider = securestate.denied
  bucket   = %[1]q
  prefix   = "app/"
}
`, bucket, table, aws.ToString(created.TableDescription.TableArn), proxy.CABundle, proxy.URL))
	got := read(t, ws)

	type row struct{ kind, path, id, err string }
	rows := func(v locksValues) []row {
		var out []row
		for _, l := range v.Locks {
			out = append(out, row{l.Kind, l.Path, l.ID, l.Error})
		}
		return out
	}
	// Oldest first; the unreadable item has no time and comes last; the
	// unreadable lock file is dated by its object.
	app := got["app"]
	want := []row{
		{"dynamodb", "app/terraform.tfstate", "a1", ""},
		{"lockfile", "app/terraform.tfstate", "a1", ""},
		{"lockfile", "app/broken/terraform.tfstate", "", "not a lock record: invalid JSON at byte 2"},
		{"dynamodb", "app/garbled/terraform.tfstate", "", "not a lock record: invalid JSON at byte 2"},
	}
	if g := rows(app); !slices.Equal(g, want) {
		t.Errorf("app (table by ARN, prefix app/):\n got %v\nwant %v", g, want)
	}
	if app.StaleCount != 2 || len(app.Locks) == 4 && (!app.Locks[0].Stale || !app.Locks[1].Stale || app.Locks[2].Stale || app.Locks[3].Stale) {
		t.Errorf("app: %d stale, want the two 5-hour-old locks with stale_after 4h: %+v", app.StaleCount, app.Locks)
	}
	if len(app.Locks) == 4 && (app.Locks[2].Created == nil || app.Locks[2].AgeSeconds == nil || app.Locks[3].Created != nil || app.Locks[3].AgeSeconds != nil) {
		t.Errorf("app: the broken lock file is dated by its object, the garbled item is of unknown age (null): %+v", app.Locks[2:])
	}
	if len(app.Errors) != 2 || app.Errors[0].Source != "app/broken/terraform.tfstate.tflock" || app.Errors[1].Source != bucket+"/app/garbled/terraform.tfstate" ||
		app.Errors[0].Kind != "lockfile" || app.Errors[1].Kind != "dynamodb" {
		t.Errorf("app errors: %+v, want the broken lock file and the garbled item", app.Errors)
	}
	if paths := rows(got["all"]); len(paths) != 5 || !slices.Contains(paths, row{"lockfile", "other/terraform.tfstate", "o1", ""}) {
		t.Errorf("all (no prefix): %v, want the app/ locks and other/'s lock file", paths)
	}
	for _, v := range got {
		for _, l := range v.Locks {
			if strings.HasSuffix(l.Source, "-md5") || strings.HasPrefix(l.Source, "another-bucket/") || l.ID == "x1" {
				t.Errorf("reported an item that is no lock of the bucket: %+v", l)
			}
		}
	}
	denied := got["denied"]
	if len(denied.Locks) != 2 || len(denied.Errors) != 2 {
		t.Fatalf("denied: %+v, want both lock files under app/ reported with an error", denied)
	}
	for _, l := range denied.Locks {
		if l.Kind != "lockfile" || l.Error != "s3:GetObject failed (AccessDenied)" || l.Created == nil {
			t.Errorf("denied: %+v, want the lock file dated by its object and s3:GetObject failed (AccessDenied)", l)
		}
	}
}

func emptyAndDelete(c *s3.Client, bucket string) {
	ctx := context.Background()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err == nil {
		for _, o := range out.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
