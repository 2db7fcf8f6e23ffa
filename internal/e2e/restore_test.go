package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// Issue 16, "Recovering a state": the guide "Restoring a previous state"
// (templates/guides/restore-state.md.tmpl), run step by step against a
// backend the provider made, in each locking mode and with both CLIs
// (DynamoDB with Terraform; lock files, and both, with OpenTofu). A consumer
// applies twice, then:
//
//	(a) its state is corrupted out of band (an object that is not JSON put as
//	    the current version). Every run now fails, and `state push` of the
//	    last good version is refused too (the CLI reads the current state
//	    first), as the guide says. The example of securestate_state_versions
//	    lists the bad version with its reason and the good ones with the
//	    serials the test reads itself, and names the last good one to
//	    restore; with DynamoDB locking the digest item still holds that
//	    version's MD5. The restore: the state lock taken by hand as the CLI
//	    takes it (a run of the consumer is refused naming that lock), the
//	    version copied as the new current object, the digest set to the
//	    version's md5 from the data source, the lock released with the CLI's
//	    force-unlock. Then `plan -detailed-exitcode` shows no change, the
//	    digest equals the current object's MD5, and the next apply works.
//	(b) separately, the state is deleted out of band (a delete marker). With
//	    the table, runs fail on the digest; with lock files only, a plan would
//	    create everything again (the hazard the guide warns of). An older
//	    version is restored the same way: without the digest step a run
//	    refuses the state (stale digest); with it, plan shows no change.
func TestAccE2E_restoreState(t *testing.T) {
	lockingModes(t)
	tf, tofu := acctest.Terraform(t), acctest.OpenTofu(t)
	for _, tc := range []struct {
		mode string
		cli  acctest.CLI
	}{{"dynamodb", tf}, {"lockfile", tofu}, {"both", tofu}} {
		t.Run(tc.mode+"_"+tc.cli.Name, func(t *testing.T) {
			name := acctest.RandomName("rst")
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: backendConfig(name, fmt.Sprintf("  locking = %q", tc.mode)),
					Check: func(s *terraform.State) error {
						a, err := attrs(s, "securestate_backend.test")
						if err != nil {
							return err
						}
						r := &restorer{t: t, mode: tc.mode, cli: tc.cli, bucket: a["bucket"], table: a["lock_table_name"], key: "dev/terraform.tfstate",
							aws: acctest.Client(t), consumer: newConsumer(t, tc.cli, a["backend_hcl.dev"]+consumerConfig, os.Getenv("AWS_ENDPOINT_URL"))}
						if (r.table != "") != r.usesTable() {
							return fmt.Errorf("%s: lock_table_name %q", tc.mode, r.table)
						}
						return r.prove()
					},
				}},
			})
		})
	}
}

// restorer runs the guide on one backend's dev state.
type restorer struct {
	t                  *testing.T
	mode               string
	cli                acctest.CLI
	bucket, table, key string
	aws                *awsclient.Client
	consumer           *consumer
	reader             *acctest.Workspace
}

func (r *restorer) usesTable() bool { return r.mode != "lockfile" }
func (r *restorer) usesFiles() bool { return r.mode != "dynamodb" }

// stored is a version of the state as the test reads it itself.
type stored struct {
	id     string
	marker bool
	latest bool
	serial int64 // -1 when the body is not a state
	md5    string
}

func (r *restorer) prove() error {
	ctx := r.t.Context()
	c := r.consumer
	c.mustInitApply("1")
	if out, err := c.apply(ctx, "2", 0); err != nil {
		return fmt.Errorf("%s apply: %w\n%s", r.cli, err, out)
	}
	history, err := r.history()
	if err != nil {
		return err
	}
	good := history[0]
	if !good.latest || good.serial < 1 {
		return fmt.Errorf("after two applies the current version is %+v", good)
	}

	// (a) Corrupted out of band.
	bad, err := r.aws.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &r.bucket, Key: &r.key, Body: strings.NewReader("this is not a state\n")})
	if err != nil {
		return err
	}
	if err := r.runsFail("the corrupted state"); err != nil {
		return err
	}
	if err := r.pushIsRefused(good, aws.ToString(bad.VersionId)); err != nil {
		return err
	}
	versions, restore, err := r.read()
	if err != nil {
		return err
	}
	if err := r.listed(versions, history, aws.ToString(bad.VersionId), "not JSON: invalid character at byte 1"); err != nil {
		return err
	}
	if restore.VersionID != good.id || restore.MD5 != good.md5 {
		return fmt.Errorf("the example names %+v to restore, want the last good version %+v", restore, good)
	}
	if r.usesTable() {
		// The damage was done outside the CLI: the digest still names the
		// last version the CLI wrote.
		if digest, err := r.digest(); err != nil || digest != good.md5 {
			return fmt.Errorf("digest %q after the corruption, want the last good version's MD5 %s (%v)", digest, good.md5, err)
		}
	}
	if err := r.restore(restore, false); err != nil {
		return err
	}
	if err := r.noChange("2"); err != nil {
		return err
	}
	if out, err := c.apply(ctx, "3", 0); err != nil {
		return fmt.Errorf("%s apply after the restore: %w\n%s", r.cli, err, out)
	}
	r.t.Logf("%s (%s): corrupted state restored from version %s (serial %d); plan shows no change; the next apply works", r.cli, r.mode, good.id, good.serial)

	// (b) Deleted out of band; an older version than the last written is
	// restored, so the digest must be set.
	if history, err = r.history(); err != nil {
		return err
	}
	latest := history[0]
	marker, err := r.aws.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &r.key})
	if err != nil || !aws.ToBool(marker.DeleteMarker) {
		return fmt.Errorf("deleting the state: %+v %v", marker, err)
	}
	if r.usesTable() {
		if err := r.runsFail("the deleted state"); err != nil {
			return err
		}
	} else if err := r.plansToRecreate(); err != nil {
		return err
	}
	if versions, restore, err = r.read(); err != nil {
		return err
	}
	if err := r.listed(versions, history, aws.ToString(marker.VersionId), ""); err != nil {
		return err
	}
	if restore.VersionID != latest.id {
		return fmt.Errorf("the example names %+v to restore after the deletion, want the last version %+v", restore, latest)
	}
	older := findVersion(versions, good.id)
	if older == nil || older.MD5 == nil || *older.MD5 != good.md5 {
		return fmt.Errorf("version %s (release 2) is not listed with its MD5 %s: %+v", good.id, good.md5, older)
	}
	if err := r.restore(restoreCandidate{VersionID: older.VersionID, MD5: *older.MD5}, true); err != nil {
		return err
	}
	if err := r.noChange("2"); err != nil {
		return err
	}
	if versions, _, err = r.read(); err != nil {
		return err
	}
	if v := versions[0]; !v.IsLatest || v.MD5 == nil || *v.MD5 != good.md5 || v.Serial == nil || *v.Serial != good.serial {
		return fmt.Errorf("after the restore the current version is %+v, want a copy of %+v", v, good)
	}
	r.t.Logf("%s (%s): deleted state restored from the older version %s (serial %d); plan shows no change", r.cli, r.mode, good.id, good.serial)
	return nil
}

// history reads the state's versions with the SDK, newest first as S3 lists
// them, each body decoded here (independently of the data source).
func (r *restorer) history() ([]stored, error) {
	ctx := r.t.Context()
	out, err := r.aws.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &r.bucket, Prefix: &r.key})
	if err != nil {
		return nil, err
	}
	var h []stored
	for _, v := range out.Versions {
		if aws.ToString(v.Key) != r.key {
			continue
		}
		body, err := r.body(aws.ToString(v.VersionId))
		if err != nil {
			return nil, err
		}
		s := stored{id: aws.ToString(v.VersionId), latest: aws.ToBool(v.IsLatest), serial: -1, md5: md5Hex(body)}
		var st struct {
			Serial *int64 `json:"serial"`
		}
		if json.Unmarshal(body, &st) == nil && st.Serial != nil {
			s.serial = *st.Serial
		}
		h = append(h, s)
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == r.key {
			h = append(h, stored{id: aws.ToString(m.VersionId), marker: true, latest: aws.ToBool(m.IsLatest)})
		}
	}
	if len(h) == 0 || !h[0].latest {
		return nil, fmt.Errorf("the state's history does not start with its current version: %+v", h)
	}
	return h, nil
}

func (r *restorer) body(versionID string) ([]byte, error) {
	obj, err := r.aws.S3.GetObject(r.t.Context(), &s3.GetObjectInput{Bucket: &r.bucket, Key: &r.key, VersionId: &versionID})
	if err != nil {
		return nil, err
	}
	defer func() { _ = obj.Body.Close() }()
	return io.ReadAll(obj.Body)
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// current is the state's current version ID ("" when deleted).
func (r *restorer) current() string {
	out, err := r.aws.S3.HeadObject(r.t.Context(), &s3.HeadObjectInput{Bucket: &r.bucket, Key: &r.key})
	if err != nil {
		return ""
	}
	return aws.ToString(out.VersionId)
}

// runsFail proves a run of the consumer cannot read the damaged state: with
// the table, because its digest no longer matches (after the CLI's ~10 s of
// retries); with lock files only, because it is no state.
func (r *restorer) runsFail(what string) error {
	out, err := r.consumer.run(r.t.Context(), "plan", "-no-color", "-input=false", "-var", "release=2")
	want := diagWords("state data in S3 does not have the expected content")
	if !r.usesTable() {
		want = `(?i)` + diagWords("unsupported state file format") + `|` + diagWords("could not be parsed")
	}
	if err == nil || !regexp.MustCompile(want).MatchString(out) {
		return fmt.Errorf("%s (%s) plan on %s: err %v, want it refused (%s):\n%s", r.cli, r.mode, what, err, want, out)
	}
	return nil
}

// plansToRecreate proves the hazard of a deleted state without the table:
// the CLI reads no state and would create every resource again.
func (r *restorer) plansToRecreate() error {
	out, err := r.consumer.run(r.t.Context(), "plan", "-no-color", "-input=false", "-detailed-exitcode", "-var", "release=3")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !regexp.MustCompile(diagWords("1 to add")).MatchString(out) {
		return fmt.Errorf("%s (%s) plan on the deleted state: %v, want it to plan creating the resource again (exit 2):\n%s", r.cli, r.mode, err, out)
	}
	return nil
}

// pushIsRefused proves the guide's reason for not using `state push`: the
// CLI reads the current state first and stops, writing nothing.
func (r *restorer) pushIsRefused(good stored, badID string) error {
	body, err := r.body(good.id)
	if err != nil {
		return err
	}
	file := filepath.Join(r.consumer.dir, "good.tfstate")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return err
	}
	out, err := r.consumer.run(r.t.Context(), "state", "push", "-force", "-lock-timeout=0s", "good.tfstate")
	if err == nil {
		return fmt.Errorf("%s (%s) state push over a corrupted state succeeded; the guide says it is refused:\n%s", r.cli, r.mode, out)
	}
	if now := r.current(); now != badID {
		return fmt.Errorf("the refused state push changed the state: current version %s, want %s", now, badID)
	}
	r.t.Logf("%s (%s) state push -force over the corrupted state refused:\n%s", r.cli, r.mode, out)
	return nil
}

// restoreCandidate is the example's output prod_restore (or a version of
// the listing): what the guide's restore takes.
type restoreCandidate struct {
	VersionID string `json:"version_id"`
	MD5       string `json:"md5"`
	Serial    *int64 `json:"serial"`
}

// versionValue is one element of the data source's versions.
type versionValue struct {
	CLI              string  `json:"cli"`
	DeleteMarker     bool    `json:"delete_marker"`
	Error            string  `json:"error"`
	IsLatest         bool    `json:"is_latest"`
	MD5              *string `json:"md5"`
	ResourceCount    *int64  `json:"resource_count"`
	Serial           *int64  `json:"serial"`
	TerraformVersion *string `json:"terraform_version"`
	VersionID        string  `json:"version_id"`
}

func findVersion(vs []versionValue, id string) *versionValue {
	for i := range vs {
		if vs[i].VersionID == id {
			return &vs[i]
		}
	}
	return nil
}

// read applies the data source's documented example (its bucket and
// environment replaced) with the consumer's CLI, and returns the versions
// and the example's prod_restore output.
func (r *restorer) read() ([]versionValue, restoreCandidate, error) {
	if r.reader == nil {
		example, err := os.ReadFile("../../examples/data-sources/securestate_state_versions/data-source.tf")
		if err != nil {
			return nil, restoreCandidate{}, err
		}
		config := strings.NewReplacer(`"acme-tfstate-111122223333"`, strconv.Quote(r.bucket), `environment = "prod"`, `environment = "dev"`).Replace(string(example))
		if strings.Contains(config, "acme-tfstate") || strings.Contains(config, `environment = "prod"`) {
			return nil, restoreCandidate{}, errors.New("the example's bucket or environment changed: update the replacements")
		}
		r.reader = acctest.NewWorkspace(r.t, restoreProviders+acctest.ProviderConfig+config).Use(r.cli)
	}
	if out, err := r.reader.Apply(); err != nil {
		return nil, restoreCandidate{}, fmt.Errorf("applying the example: %w\n%s", err, out)
	}
	res, err := r.reader.Resources()
	if err != nil {
		return nil, restoreCandidate{}, err
	}
	raw, err := json.Marshal(res["data.securestate_state_versions.prod"]["versions"])
	if err != nil {
		return nil, restoreCandidate{}, err
	}
	var versions []versionValue
	if err := json.Unmarshal(raw, &versions); err != nil || len(versions) == 0 {
		return nil, restoreCandidate{}, fmt.Errorf("the example's data source lists no versions (%v): %s", err, raw)
	}
	out, err := r.reader.Run("output", "-json", "prod_restore")
	if err != nil {
		return nil, restoreCandidate{}, fmt.Errorf("output prod_restore: %w\n%s", err, out)
	}
	var restore restoreCandidate
	start := strings.Index(out, "{")
	if start < 0 {
		return nil, restoreCandidate{}, fmt.Errorf("output prod_restore is not an object:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out[start:]), &restore); err != nil {
		return nil, restoreCandidate{}, fmt.Errorf("output prod_restore: %w\n%s", err, out)
	}
	return versions, restore, nil
}

// restoreProviders names the provider the reader's dev_overrides serve.
const restoreProviders = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
`

// listed checks the data source's versions against the history the test
// read itself: the damaged current one first (with its reason, or a delete
// marker), then every earlier version with its serial and MD5, written by
// the consumer's CLI (its version and name: the layout tells Terraform from
// OpenTofu) with the one terraform_data instance.
func (r *restorer) listed(versions []versionValue, history []stored, damagedID, reason string) error {
	if len(versions) != len(history)+1 {
		return fmt.Errorf("%d versions listed, want the damaged one and %d before it: %+v", len(versions), len(history), versions)
	}
	d := versions[0]
	if d.VersionID != damagedID || !d.IsLatest || d.Error != reason || d.DeleteMarker != (reason == "") {
		return fmt.Errorf("the current version is listed as %+v, want %s (error %q)", d, damagedID, reason)
	}
	cli := map[string]string{"terraform": "terraform", "tofu": "opentofu"}[r.cli.Name]
	for i, h := range history {
		v := versions[i+1]
		switch {
		case v.VersionID != h.id || v.IsLatest || v.DeleteMarker != h.marker:
			return fmt.Errorf("version %d listed as %+v, want %+v", i+1, v, h)
		case h.marker:
		case h.serial < 0:
			if v.Error == "" || v.Serial != nil {
				return fmt.Errorf("version %s, which is no state, listed as %+v", h.id, v)
			}
		case v.Error != "" || v.Serial == nil || *v.Serial != h.serial || v.MD5 == nil || *v.MD5 != h.md5:
			return fmt.Errorf("version %s listed with serial %v, MD5 %v, error %q; the test reads serial %d, MD5 %s", h.id, deref(v.Serial), v.MD5, v.Error, h.serial, h.md5)
		case v.CLI != cli || v.TerraformVersion == nil || *v.TerraformVersion != r.cli.Version || v.ResourceCount == nil || *v.ResourceCount != 1:
			return fmt.Errorf("version %s listed as written by %q %v with %v resources, want %s %s and 1", h.id, v.CLI, v.TerraformVersion, deref(v.ResourceCount), cli, r.cli.Version)
		}
	}
	return nil
}

func deref(p *int64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatInt(*p, 10)
}

// restore runs the guide's restore: take the state lock as the CLI takes it,
// copy the version as the new current object, set the digest (with the
// table), release the lock with the CLI's force-unlock. olderThanDigest: the
// version is not the one the digest names, so a run without the digest step
// refuses the state, which is proven before the step.
func (r *restorer) restore(v restoreCandidate, olderThanDigest bool) error {
	ctx := r.t.Context()
	lockID := fmt.Sprintf("0e5f7c1a-%04d-4000-8000-%012d", time.Now().Second(), time.Now().UnixNano()%1e12)
	if err := r.takeLock(lockID, v.VersionID); err != nil {
		return err
	}
	// A run while the restore holds the lock is refused, naming it.
	before := r.current()
	out, err := r.consumer.apply(ctx, "9", 0)
	if err == nil || !regexp.MustCompile(`ID:\s+`+regexp.QuoteMeta(lockID)).MatchString(out) {
		return fmt.Errorf("%s (%s) apply while the restore holds lock %s: %v, want the lock error naming it:\n%s", r.cli, r.mode, lockID, err, out)
	}
	if r.current() != before {
		return errors.New("the refused apply changed the state")
	}
	if _, err := r.aws.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &r.bucket, Key: &r.key,
		CopySource: aws.String(r.bucket + "/" + r.key + "?versionId=" + v.VersionID)}); err != nil {
		return fmt.Errorf("copying version %s: %w", v.VersionID, err)
	}
	if r.usesTable() {
		if olderThanDigest {
			out, err := r.consumer.run(ctx, "plan", "-no-color", "-input=false", "-lock=false", "-var", "release=2")
			if err == nil || !regexp.MustCompile(diagWords("state data in S3 does not have the expected content")).MatchString(out) {
				return fmt.Errorf("%s (%s) plan with the digest of another version: %v, want the checksum refusal:\n%s", r.cli, r.mode, err, out)
			}
		}
		if _, err := r.aws.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &r.table, Item: map[string]ddbtypes.AttributeValue{
			"LockID": &ddbtypes.AttributeValueMemberS{Value: r.bucket + "/" + r.key + "-md5"},
			"Digest": &ddbtypes.AttributeValueMemberS{Value: v.MD5},
		}}); err != nil {
			return err
		}
	}
	if out, err := r.consumer.run(ctx, "force-unlock", "-force", lockID); err != nil {
		return fmt.Errorf("%s force-unlock %s: %w\n%s", r.cli, lockID, err, out)
	}
	if held, err := r.lockHeld(); err != nil || held {
		return fmt.Errorf("the restore's lock is still held after force-unlock (%v)", err)
	}
	if r.usesTable() {
		body, err := r.body(r.current())
		if err != nil {
			return err
		}
		if digest, err := r.digest(); err != nil || digest != md5Hex(body) || digest != v.MD5 {
			return fmt.Errorf("digest %q after the restore, the current object's MD5 %s, the version's %s (%v): want all equal", digest, md5Hex(body), v.MD5, err)
		}
	}
	return nil
}

// lockRecord is the lock record the guide writes with printf: the CLIs'
// LockInfo as Go marshals it (these fields in this order, compact, Created
// in whole seconds), because OpenTofu's force-unlock deletes the lock item
// only if its Info is byte for byte that.
func (r *restorer) lockRecord(lockID, versionID string) string {
	return fmt.Sprintf(`{"ID":"%s","Operation":"restore-state","Info":"restoring version %s","Who":"%s","Version":"","Created":"%s","Path":"%s/%s"}`,
		lockID, versionID, "restore@e2e", time.Now().UTC().Format("2006-01-02T15:04:05Z"), r.bucket, r.key)
}

// takeLock takes the state lock as the guide does: a lock file written only
// if absent, and a lock item written only if absent, as the mode uses them.
func (r *restorer) takeLock(lockID, versionID string) error {
	ctx := r.t.Context()
	rec := r.lockRecord(lockID, versionID)
	if r.usesFiles() {
		if _, err := r.aws.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &r.bucket, Key: aws.String(r.key + ".tflock"),
			Body: strings.NewReader(rec), IfNoneMatch: aws.String("*")}); err != nil {
			return fmt.Errorf("taking the lock file: %w", err)
		}
	}
	if r.usesTable() {
		if _, err := r.aws.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &r.table, Item: map[string]ddbtypes.AttributeValue{
			"LockID": &ddbtypes.AttributeValueMemberS{Value: r.bucket + "/" + r.key},
			"Info":   &ddbtypes.AttributeValueMemberS{Value: rec},
		}, ConditionExpression: aws.String("attribute_not_exists(LockID)")}); err != nil {
			return fmt.Errorf("taking the lock item: %w", err)
		}
	}
	// Taking it again is refused: the lock really excludes.
	if r.usesFiles() {
		_, err := r.aws.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &r.bucket, Key: aws.String(r.key + ".tflock"),
			Body: strings.NewReader(rec), IfNoneMatch: aws.String("*")})
		if err == nil {
			return errors.New("a second conditional write of the lock file succeeded")
		}
	}
	return nil
}

// lockHeld reports whether the lock file or the lock item exists.
func (r *restorer) lockHeld() (bool, error) {
	ctx := r.t.Context()
	if r.usesFiles() {
		if _, err := r.aws.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &r.bucket, Key: aws.String(r.key + ".tflock")}); err == nil {
			return true, nil
		}
	}
	if r.usesTable() {
		out, err := r.aws.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.table, ConsistentRead: aws.Bool(true),
			Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: r.bucket + "/" + r.key}}})
		if err != nil {
			return false, err
		}
		return out.Item != nil, nil
	}
	return false, nil
}

// digest reads the state's digest item ("" when there is none).
func (r *restorer) digest() (string, error) {
	out, err := r.aws.DynamoDB.GetItem(r.t.Context(), &dynamodb.GetItemInput{TableName: &r.table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: r.bucket + "/" + r.key + "-md5"}}})
	if err != nil {
		return "", err
	}
	if v, ok := out.Item["Digest"].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

// noChange proves the restored state matches the configuration: plan
// -detailed-exitcode exits 0.
func (r *restorer) noChange(release string) error {
	out, err := r.consumer.run(r.t.Context(), "plan", "-no-color", "-input=false", "-detailed-exitcode", "-lock-timeout=0s", "-var", "release="+release)
	if err != nil {
		return fmt.Errorf("%s (%s) plan after the restore: %w, want no change (exit 0):\n%s", r.cli, r.mode, err, out)
	}
	return nil
}
