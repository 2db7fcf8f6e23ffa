package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// An apply, a refresh and a forced destroy at TF_LOG=trace (Terraform and the
// provider, one log) never write the secret access key, state content or a
// policy document. The backend has every optional component, so the log
// bucket, trail, key grants and delivery-role policies are covered too.
func TestAccReliability_noSecretsInTraceLogs(t *testing.T) {
	acctest.PreCheck(t)
	secret := os.Getenv("AWS_SECRET_ACCESS_KEY")
	if secret == "" {
		t.Fatal("AWS_SECRET_ACCESS_KEY is not set")
	}
	logFile := filepath.Join(t.TempDir(), "trace.log")
	name := acctest.RandomName("logs")
	ws := acctest.NewWorkspace(t, fmt.Sprintf(`
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}

provider "securestate" {
  s3_use_path_style = true
}

resource "securestate_backend" "b" {
  name          = %q
  environments  = ["dev", "prod"]
  principals    = ["arn:aws:iam::123456789012:role/deployer"]
  force_destroy = true
  access_logging {}
  cloudtrail {
    alarms {
      sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:state-alerts"
    }
  }
}
`, name), "TF_LOG=trace", "TF_LOG_PATH="+logFile)

	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply: %s\n%s", err, out)
	}
	marker := "state-content-" + acctest.RandomName("marker")
	bucket := name + "-tfstate-" + acctest.Client(t).AccountID
	if _, err := acctest.Client(t).S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("dev/terraform.tfstate"),
		Body: strings.NewReader(`{"version":4,"outputs":{"db_password":{"value":"` + marker + `"}}}`),
	}); err != nil {
		t.Fatal(err)
	}
	if out, err := ws.Run("apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false"); err != nil {
		t.Fatalf("refresh: %s\n%s", err, out)
	}
	if out, err := ws.Destroy(); err != nil {
		t.Fatalf("destroy: %s\n%s", err, out)
	}

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	if !strings.Contains(log, "[TRACE]") {
		t.Fatalf("the trace log (%d bytes) does not look like a Terraform trace log", len(raw))
	}
	// The scan below proves something only if the provider's own lines were
	// captured: messages it logs at each step of this apply, refresh and
	// destroy must be there first (with the backend's name as a field).
	for _, msg := range []string{
		`provider configured`,
		`removing component`,
		`ensuring component`,
		`backend converged`,
		`emptying bucket before deletion`,
	} {
		if !strings.Contains(log, msg) {
			t.Errorf("the trace log holds no provider line %q: the provider's output was not captured, so its absence of secrets proves nothing", msg)
		}
	}
	if !strings.Contains(log, `backend=`+name) && !strings.Contains(log, `"backend":"`+name+`"`) {
		t.Errorf("no provider line names the backend %s", name)
	}
	if t.Failed() {
		t.FailNow()
	}
	for what, needle := range map[string]string{
		"the secret access key":         secret,
		"state content":                 marker,
		"a policy document (Version)":   "2012-10-17",
		"a policy document (Statement)": `"Statement"`,
		"a policy condition key":        "aws:SecureTransport",
		"a service principal":           "cloudtrail.amazonaws.com",
	} {
		if strings.Contains(log, needle) {
			t.Errorf("the trace log contains %s", what)
		}
	}
	t.Logf("figure: trace log of apply, refresh and forced destroy: %d bytes, %d lines, no secret key, state content or policy document", len(raw), strings.Count(log, "\n"))
}
