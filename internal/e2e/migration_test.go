package e2e

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// migrationHold is how long a holder's apply keeps the lock (its local-exec
// sleep): long enough for the contender's CLI to start and try the lock.
const migrationHold = 5

// Issue 15 item 3: a backend in use moves dynamodb → both → lockfile → both →
// dynamodb, and no stage lets two runs on one state proceed together:
//   - at each transition consumers still on the previous stage's backend_hcl
//     and consumers on the new stage's exclude each other: one holds the lock
//     while the other is refused with the lock error naming the holder's lock
//     ID, both ways, each pair one Terraform and one OpenTofu consumer, the
//     CLIs' roles swapped at every transition, so each CLI runs every mode
//     (after the move to "lockfile" the "both" consumers cannot lock at all);
//   - dev's IAM policy and rendered read_write document grant the table's lock
//     items exactly when the mode uses the table, and s3:DeleteObject on
//     dev/*.tflock exactly when it uses lock files;
//   - the table lives until the move to "lockfile" and comes back with "both";
//   - the straight jumps (dynamodb → lockfile, lockfile → dynamodb) are
//     refused at plan time;
//   - the move to "lockfile" is refused while a run (killed, so its lock
//     stays) holds the state lock in the table, naming that lock, and
//     converges once the lock is force-unlocked as the error says;
//   - on the way back, a lockfile-only write leaves the new table's digest
//     stale, so a run using the table refuses the state, as the guide warns,
//     until the digest item is deleted.
func TestAccE2E_lockMigration(t *testing.T) {
	for _, cli := range acctest.CLIs(t) {
		if !cli.HasLockFiles() {
			t.Fatalf("%s has no S3 lock files (1.10+): the migration cannot be proven", cli)
		}
	}
	m := &migration{t: t, name: acctest.RandomName("mig"), endpoint: os.Getenv("AWS_ENDPOINT_URL"), clis: acctest.CLIs(t)}
	heldLockError := regexp.MustCompile("set by the step that holds the lock")

	stages := []string{"dynamodb", "both", "lockfile", "both", "dynamodb"}
	var steps []resource.TestStep
	for i, mode := range stages {
		if prev := stagePrev(stages, i); prev == "dynamodb" || prev == "lockfile" {
			// The straight jump the provider refuses at plan time, before
			// anything changes: runs on the old and the new configuration
			// would share no lock.
			straight := map[string]string{"dynamodb": "lockfile", "lockfile": "dynamodb"}[prev]
			steps = append(steps, resource.TestStep{
				Config:      backendConfig(m.name, fmt.Sprintf("  locking = %q", straight)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Change locking through "both"`),
			})
		}
		if mode == "lockfile" {
			// The refused move: a run on the "both" configuration holds
			// the lock in the table and is gone.
			steps = append(steps, resource.TestStep{
				Config:      backendConfig(m.name, `  locking = "lockfile"`),
				PreConfig:   func() { m.abandonLock(heldLockError) },
				ExpectError: heldLockError,
			}, resource.TestStep{
				Config:    backendConfig(m.name, `  locking = "lockfile"`),
				PreConfig: m.checkRefusedMoveKeptTheTable,
				Check:     func(s *terraform.State) error { return m.stage(s, i, mode) },
			})
			continue
		}
		steps = append(steps, resource.TestStep{
			Config: backendConfig(m.name, fmt.Sprintf("  locking = %q", mode)),
			Check:  func(s *terraform.State) error { return m.stage(s, i, mode) },
		})
	}
	start := time.Now()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			// Destroy scans the table too: the digest items every stage
			// left in it (<bucket>/dev/terraform.tfstate-md5) hold no lock.
			left, err := acctest.BackendObjects(t.Context(), acctest.Client(t), m.name)
			if err == nil && len(left) > 0 {
				err = fmt.Errorf("left behind after destroy: %v", left)
			}
			return err
		},
	})
	t.Logf("migration dynamodb → both → lockfile → both → dynamodb proven in %s", time.Since(start).Round(time.Second))
}

// stagePrev is the mode of the stage before stage i ("" for the first).
func stagePrev(stages []string, i int) string {
	if i == 0 {
		return ""
	}
	return stages[i-1]
}

// migration is what the steps of TestAccE2E_lockMigration share.
type migration struct {
	t        *testing.T
	name     string
	endpoint string
	bucket   string // the state bucket, from the first stage
	table    string // the lock table's name, from the first stage
	tableARN string
	// policyARN is dev's managed policy, from the first stage.
	policyARN string
	releases  int
	// stages are the consumers of each stage so far, one per CLI (in the
	// order of clis), each on its stage's backend_hcl for dev.
	stages [][]stageConsumer
	clis   []acctest.CLI
	// abandoned is the lock of the killed run the move to "lockfile"
	// refuses.
	abandoned lockInfo
}

// stageConsumer is a consumer on one stage's backend_hcl.
type stageConsumer struct {
	*consumer
	mode string
}

const migrationStateKey = "dev/terraform.tfstate"

func (m *migration) release() string {
	m.releases++
	return fmt.Sprint(m.releases)
}

// stage checks a stage once the provider has applied it: its backend_hcl,
// IAM policy and lock table; then a consumer per CLI starts on it, and at
// every stage but the first they and the previous stage's consumers exclude
// each other: one CLI's consumer on the new configuration holds while the
// other CLI's on the old one is refused, and the other way round with the
// other two consumers. The CLIs swap roles at every transition, so each
// holds and is refused on the old side and on the new.
func (m *migration) stage(s *terraform.State, i int, mode string) error {
	a, err := attrs(s, "securestate_backend.test")
	if err != nil {
		return err
	}
	if i == 0 {
		m.bucket, m.table, m.tableARN, m.policyARN = a["bucket"], a["lock_table_name"], a["lock_table_arn"], a["policy_arns.dev"]
		if m.table != naming.LockTable(m.name) {
			return fmt.Errorf("lock_table_name %q, want %q", m.table, naming.LockTable(m.name))
		}
	}
	usesTable, usesFiles := mode != "lockfile", mode != "dynamodb"
	hcl := a["backend_hcl.dev"]
	if strings.Contains(hcl, "dynamodb_table") != usesTable || strings.Contains(hcl, "use_lockfile") != usesFiles {
		return fmt.Errorf("%s: backend_hcl.dev does not match the mode (dynamodb_table: %v, use_lockfile: %v):\n%s", mode, usesTable, usesFiles, hcl)
	}
	c := acctest.Client(m.t)
	if err := m.checkPolicy(a, c, mode); err != nil {
		return err
	}
	exists, err := tableExists(m.t.Context(), c, m.table)
	if err != nil {
		return err
	}
	if exists != usesTable {
		return fmt.Errorf("%s: lock table %s exists: %v, want %v", mode, m.table, exists, usesTable)
	}

	var next []stageConsumer
	for _, cli := range m.clis {
		c := stageConsumer{newConsumer(m.t, cli, hcl+consumerConfig, m.endpoint), mode}
		if out, err := c.init(); err != nil {
			return fmt.Errorf("%s: %s init: %w\n%s", mode, cli, err, out)
		}
		next = append(next, c)
	}
	m.stages = append(m.stages, next)
	if i == 0 {
		// The backend is in use before anything moves.
		if out, err := next[0].apply(m.t.Context(), m.release(), 0); err != nil {
			return fmt.Errorf("%s: %s apply: %w\n%s", mode, next[0].cli, err, out)
		}
		return m.noLocks("after the first apply")
	}
	old := m.stages[i-1]
	a1, b1 := i%2, 1-i%2 // the CLIs' roles at this transition
	if err := m.exclude(next[a1], old[b1]); err != nil {
		return fmt.Errorf("%s → %s: %w", old[b1].mode, mode, err)
	}
	if !usesTable {
		// With the table gone, a run still on the "both" configuration
		// cannot take its lock at all, so it never runs beside one on the
		// new configuration; its lock file is released again.
		for _, c := range old {
			if err := m.cannotLock(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := m.exclude(old[a1], next[b1]); err != nil {
		return fmt.Errorf("%s → %s: %w", old[a1].mode, mode, err)
	}
	if old[a1].mode == "lockfile" {
		return m.staleDigest(next[b1])
	}
	return nil
}

// staleDigest proves the hazard of the way back (lockfile → both) the guide
// describes: the last write came from a run on the "lockfile" configuration,
// which does not update the state's digest item that an earlier "both" run
// wrote into the new table, so c, a run that uses the table, refuses the
// state (after the CLI's own retries, about 10 s) and changes nothing. Once
// the stale item is deleted, as the guide says, c's apply writes a fresh one.
func (m *migration) staleDigest(c stageConsumer) error {
	stored, actual, err := m.digest()
	if err != nil {
		return err
	}
	if stored == "" || stored == actual {
		return fmt.Errorf("digest item %q after a lockfile-only write of a state with MD5 %s: want a stale digest (the guide says so)", stored, actual)
	}
	before, err := m.stateVersion()
	if err != nil {
		return err
	}
	out, err := c.apply(m.t.Context(), m.release(), 0)
	if err == nil || !regexp.MustCompile(diagWords("does not match the checksum stored in DynamoDB")).MatchString(out) {
		return fmt.Errorf("%s (%s) apply with a stale digest: err %v, want the checksum refusal:\n%s", c.cli, c.mode, err, out)
	}
	if after, err := m.stateVersion(); err != nil || after != before {
		return fmt.Errorf("state changed by a run refused for its digest: %s → %s (%v)", before, after, err)
	}
	ddb := acctest.Client(m.t).DynamoDB
	if _, err := ddb.DeleteItem(m.t.Context(), &dynamodb.DeleteItemInput{TableName: &m.table, Key: m.digestKey()}); err != nil {
		return err
	}
	if out, err := c.apply(m.t.Context(), m.release(), 0); err != nil {
		return fmt.Errorf("%s (%s) apply after the stale digest was deleted: %w\n%s", c.cli, c.mode, err, out)
	}
	if stored, actual, err = m.digest(); err != nil || stored != actual {
		return fmt.Errorf("after %s's apply the digest is %q, the state's MD5 %s (%v): want them equal", c.cli, stored, actual, err)
	}
	m.t.Logf("stale digest after the lockfile-only write: %s (%s) refused the state; digest item deleted, then it applied and wrote digest %s", c.cli, c.mode, stored)
	return nil
}

func (m *migration) digestKey() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: m.bucket + "/" + migrationStateKey + "-md5"}}
}

// digest reads the state's digest item ("" when there is none) and the MD5
// of the state object, as the S3 backend computes it.
func (m *migration) digest() (stored, actual string, err error) {
	ctx := m.t.Context()
	c := acctest.Client(m.t)
	out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &m.table, ConsistentRead: aws.Bool(true), Key: m.digestKey()})
	if err != nil {
		return "", "", err
	}
	if v, ok := out.Item["Digest"].(*ddbtypes.AttributeValueMemberS); ok {
		stored = v.Value
	}
	obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &m.bucket, Key: aws.String(migrationStateKey)})
	if err != nil {
		return "", "", err
	}
	body, err := io.ReadAll(obj.Body)
	_ = obj.Body.Close()
	if err != nil {
		return "", "", err
	}
	return stored, fmt.Sprintf("%x", md5.Sum(body)), nil
}

// checkPolicy reads the default version of dev's IAM policy and the rendered
// read_write document: the table's lock items exactly when the mode uses the
// table, s3:DeleteObject on dev/*.tflock exactly when it uses lock files.
func (m *migration) checkPolicy(a map[string]string, c *awsclient.Client, mode string) error {
	stored, err := acctest.PolicyDocument(m.t.Context(), c, a["policy_arns.dev"])
	if err != nil {
		return fmt.Errorf("%s: dev's policy: %w", mode, err)
	}
	rendered, err := policydoc.Parse(a["access_policy_documents.dev.read_write"])
	if err != nil {
		return fmt.Errorf("%s: access_policy_documents.dev.read_write: %w", mode, err)
	}
	lockFiles := "arn:aws:s3:::" + m.bucket + "/dev/*.tflock"
	for what, doc := range map[string]policydoc.Document{"dev's IAM policy (default version)": stored, "access_policy_documents.dev.read_write": rendered} {
		table := allows(doc, "dynamodb:PutItem", m.tableARN) && allows(doc, "dynamodb:DeleteItem", m.tableARN)
		files := allows(doc, "s3:DeleteObject", lockFiles)
		if table != (mode != "lockfile") || files != (mode != "dynamodb") {
			return fmt.Errorf("%s: %s grants the lock items: %v, s3:DeleteObject on %s: %v; want %v and %v:\n%s",
				mode, what, table, lockFiles, files, mode != "lockfile", mode != "dynamodb", doc)
		}
	}
	return nil
}

// allows reports whether an Allow statement of doc names action on resource
// (as written, no wildcard matching).
func allows(doc policydoc.Document, action, resource string) bool {
	return slices.ContainsFunc(doc.Statement, func(st policydoc.Statement) bool {
		return st.Effect == "Allow" && slices.Contains(st.Action, action) && slices.Contains(st.Resource, resource)
	})
}

func tableExists(ctx context.Context, c *awsclient.Client, table string) (bool, error) {
	out, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var notFound *ddbtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return false, nil
	}
	// moto deletes a table at once; AWS shows it DELETING for a while.
	return err == nil && out.Table.TableStatus != ddbtypes.TableStatusDeleting, err
}

// locks reads the lock records held on dev's state now: the lock file's and
// the table's lock item (none once the table is gone).
func (m *migration) locks() (file, item *lockInfo, err error) {
	ctx := m.t.Context()
	c := acctest.Client(m.t)
	obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &m.bucket, Key: aws.String(migrationStateKey + ".tflock")})
	var noKey *s3types.NoSuchKey
	switch {
	case errors.As(err, &noKey):
	case err != nil:
		return nil, nil, err
	default:
		body, err := io.ReadAll(obj.Body)
		_ = obj.Body.Close()
		file = &lockInfo{}
		if err != nil || json.Unmarshal(body, file) != nil || file.ID == "" {
			return nil, nil, fmt.Errorf("lock file holds no lock record: %q (%v)", body, err)
		}
	}
	out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &m.table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: m.bucket + "/" + migrationStateKey}}})
	var notFound *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return nil, nil, err
	default:
		if v, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS); ok {
			item = &lockInfo{}
			if json.Unmarshal([]byte(v.Value), item) != nil || item.ID == "" {
				return nil, nil, fmt.Errorf("lock item holds no lock record: %q", v.Value)
			}
		}
	}
	return file, item, nil
}

// heldBy waits until c's run holds every lock its mode takes and returns the
// lock ID (the same in the lock file and the item).
func (m *migration) heldBy(c stageConsumer) (string, error) {
	var (
		file, item *lockInfo
		err        error
	)
	held := waitFor(30*time.Second, func() bool { // a CLI takes its lock within seconds of starting
		file, item, err = m.locks()
		return err == nil && (file != nil) == (c.mode != "dynamodb") && (item != nil) == (c.mode != "lockfile")
	})
	switch {
	case err != nil:
		return "", err
	case !held:
		return "", fmt.Errorf("%s's %s lock never appeared (lock file %v, item %v)", c.cli, c.mode, file, item)
	case file != nil && item != nil && file.ID != item.ID:
		return "", fmt.Errorf("%s holds lock file %s and lock item %s: want one lock ID", c.cli, file.ID, item.ID)
	case file != nil:
		return file.ID, nil
	}
	return item.ID, nil
}

func (m *migration) noLocks(when string) error {
	file, item, err := m.locks()
	if err == nil && (file != nil || item != nil) {
		err = fmt.Errorf("a lock is left %s: lock file %v, lock item %v", when, file, item)
	}
	return err
}

// stateVersion is the current version of dev's state object.
func (m *migration) stateVersion() (string, error) {
	v, err := acctest.Client(m.t).S3.HeadObject(m.t.Context(), &s3.HeadObjectInput{Bucket: &m.bucket, Key: aws.String(migrationStateKey)})
	if err != nil {
		return "", err
	}
	return aws.ToString(v.VersionId), nil
}

// exclude proves that while holder's apply holds the lock, contender's apply
// is refused with the lock error naming the holder's lock ID and changes
// nothing, and that the holder then finishes and releases every lock.
func (m *migration) exclude(holder, contender stageConsumer) error {
	ctx := m.t.Context()
	var (
		wg        sync.WaitGroup
		holderOut string
		holderErr error
	)
	holderRelease, contenderRelease := m.release(), m.release()
	wg.Go(func() { holderOut, holderErr = holder.apply(ctx, holderRelease, migrationHold) })
	id, err := m.heldBy(holder)
	if err != nil {
		wg.Wait()
		return fmt.Errorf("%w\n%s", err, holderOut)
	}
	before, err := m.stateVersion()
	if err != nil {
		wg.Wait()
		return err
	}
	out, err := contender.apply(ctx, contenderRelease, 0)
	after, verr := m.stateVersion()
	wg.Wait()
	if err == nil || !strings.Contains(out, "Error acquiring the state lock") || !regexp.MustCompile(`ID:\s+`+regexp.QuoteMeta(id)).MatchString(out) {
		return fmt.Errorf("%s on the %s configuration, while %s on the %s configuration holds lock %s: err %v, want the lock error naming that lock:\n%s",
			contender.cli, contender.mode, holder.cli, holder.mode, id, err, out)
	}
	if verr != nil || before != after {
		return fmt.Errorf("state changed while %s held the lock: version %s → %s (%v)", holder.cli, before, after, verr)
	}
	if holderErr != nil {
		return fmt.Errorf("%s's apply (holding the lock) failed: %w\n%s", holder.cli, holderErr, holderOut)
	}
	if err := m.noLocks(fmt.Sprintf("after %s (%s) finished and %s (%s) was refused", holder.cli, holder.mode, contender.cli, contender.mode)); err != nil {
		return err
	}
	if last, err := m.stateVersion(); err != nil || last == after {
		return fmt.Errorf("%s's apply stored no new state version after it released the lock (%v)", holder.cli, err)
	}
	m.t.Logf("%s (%s) held lock %s; %s (%s) refused, state unchanged meanwhile", holder.cli, holder.mode, id, contender.cli, contender.mode)
	return nil
}

// cannotLock proves that c (on the "both" configuration, the table gone)
// is refused the lock, changes nothing and leaves no lock file behind.
func (m *migration) cannotLock(c stageConsumer) error {
	before, err := m.stateVersion()
	if err != nil {
		return err
	}
	out, err := c.apply(m.t.Context(), m.release(), 0)
	if err == nil || !strings.Contains(out, "Error acquiring the state lock") {
		return fmt.Errorf("%s on the %s configuration with the table gone: err %v, want the lock refused:\n%s", c.cli, c.mode, err, out)
	}
	if after, err := m.stateVersion(); err != nil || after != before {
		return fmt.Errorf("state changed by a run that could not lock: %s → %s (%v)", before, after, err)
	}
	if err := m.noLocks(fmt.Sprintf("by %s on the %s configuration, refused its lock", c.cli, c.mode)); err != nil {
		return err
	}
	m.t.Logf("%s (%s) refused the lock with the table gone, no lock file left", c.cli, c.mode)
	return nil
}

// abandonLock starts an apply of the "both" stage's Terraform consumer, waits until it
// holds both locks and kills it (the CLI and its local-exec sleep), so its
// lock stays in the table as a crashed run's does; re names that lock for
// the step's ExpectError.
func (m *migration) abandonLock(re *regexp.Regexp) {
	c := m.stages[len(m.stages)-1][0]
	if c.mode != "both" {
		m.t.Fatalf("the stage before lockfile is %s, want both", c.mode)
	}
	cmd := exec.CommandContext(m.t.Context(), c.cli.Path, "apply", "-no-color", "-input=false", "-auto-approve", "-lock-timeout=0s",
		"-var", "release="+m.release(), "-var", "hold_seconds=60")
	cmd.Dir, cmd.Env = c.dir, c.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, to kill the sleep with it
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	id, err := m.heldBy(c)
	if kerr := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); kerr != nil {
		m.t.Errorf("killing %s (pid %d): %v", c.cli, cmd.Process.Pid, kerr)
	}
	_ = cmd.Wait()
	if err != nil {
		m.t.Fatalf("%v\n%s", err, out.String())
	}
	file, item, err := m.locks()
	if err != nil || file == nil || item == nil || item.ID != id {
		m.t.Fatalf("after killing %s: lock file %v, lock item %v (%v); want both left holding %s", c.cli, file, item, err, id)
	}
	m.abandoned = *item
	// The provider's refusal names the state, the lock and the way out.
	*re = *regexp.MustCompile(`(?s)` + diagWords("DynamoDB table", m.table, "still holds") + `.*` +
		diagWords(m.bucket+"/"+migrationStateKey+": lock ID", id) + `.*force-unlock`)
	m.t.Logf("%s killed while holding lock %s (%s): the move to lockfile must be refused", c.cli, id, item.Operation)
}

// checkRefusedMoveKeptTheTable runs after the refused move: the table and
// the abandoned lock are still there. It then releases the lock as the
// error says, with force-unlock on the configuration the run used, so the
// next step's apply converges.
func (m *migration) checkRefusedMoveKeptTheTable() {
	c := acctest.Client(m.t)
	if exists, err := tableExists(m.t.Context(), c, m.table); err != nil || !exists {
		m.t.Fatalf("after the refused move to lockfile, lock table %s exists: %v (%v); want it kept", m.table, exists, err)
	}
	_, item, err := m.locks()
	if err != nil || item == nil || item.ID != m.abandoned.ID {
		m.t.Fatalf("after the refused move, lock item %v (%v); want the abandoned lock %s kept", item, err, m.abandoned.ID)
	}
	// The refusal came before any write: dev's policy still grants the
	// table, so a run holding a lock could still release it.
	doc, err := acctest.PolicyDocument(m.t.Context(), c, m.policyARN)
	if err != nil {
		m.t.Fatal(err)
	}
	if !allows(doc, "dynamodb:PutItem", m.tableARN) || !allows(doc, "dynamodb:DeleteItem", m.tableARN) {
		m.t.Fatalf("after the refused move, dev's policy no longer grants the lock table (the update wrote before it was refused):\n%s", doc)
	}
	holder := m.stages[len(m.stages)-1][0]
	if out, err := holder.run(m.t.Context(), "force-unlock", "-force", m.abandoned.ID); err != nil {
		m.t.Fatalf("%s force-unlock %s on the both configuration: %v\n%s", holder.cli, m.abandoned.ID, err, out)
	}
	if err := m.noLocks("after force-unlock"); err != nil {
		m.t.Fatal(err)
	}
	m.t.Logf("lock %s released with %s force-unlock; the move to lockfile is applied again", m.abandoned.ID, holder.cli)
}

// diagWords matches the words of texts in a CLI's diagnostic output, which
// wraps lines and starts each with "│ ".
func diagWords(texts ...string) string {
	var words []string
	for _, t := range texts {
		for _, w := range strings.Fields(t) {
			words = append(words, regexp.QuoteMeta(w))
		}
	}
	return strings.Join(words, `[\s│]+`)
}
