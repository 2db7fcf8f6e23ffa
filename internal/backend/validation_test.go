package backend_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// Every argument's bad values are refused at plan time, with the attribute
// named and what to do instead. No AWS call is needed.
func TestBackend_invalidArguments(t *testing.T) {
	cases := map[string]struct {
		args string
		want string
	}{
		"name too short":                          {`name = "ab"`, `name[\s\S]*3 to 32`},
		"name too long":                           {`name = "` + strings.Repeat("a", 33) + `"`, `name[\s\S]*3 to 32`},
		"name uppercase":                          {`name = "Acme"`, `name[\s\S]*lowercase`},
		"name leading hyphen":                     {`name = "-acme"`, `name[\s\S]*start and end`},
		"name underscore":                         {`name = "ac_me"`, `name[\s\S]*lowercase`},
		"name double hyphen":                      {`name = "ac--me"`, `name[\s\S]*single hyphens`},
		"bucket too short":                        {`name = "acme"` + "\n" + `bucket = "ab"`, `bucket[\s\S]*3 to 63`},
		"bucket uppercase":                        {`name = "acme"` + "\n" + `bucket = "Acme-State"`, `bucket[\s\S]*lowercase`},
		"bucket with dots":                        {`name = "acme"` + "\n" + `bucket = "acme.state"`, `bucket[\s\S]*break TLS`},
		"bucket as IP":                            {`name = "acme"` + "\n" + `bucket = "10.1.2.3"`, `bucket[\s\S]*IP address`},
		"bucket reserved prefix":                  {`name = "acme"` + "\n" + `bucket = "xn--acme"`, `bucket[\s\S]*reserves`},
		"environments empty":                      {`name = "acme"` + "\n" + `environments = []`, `environments[\s\S]*at least 1`},
		"environment uppercase":                   {`name = "acme"` + "\n" + `environments = ["Prod"]`, `environments[\s\S]*not a valid environment`},
		"environment with slash":                  {`name = "acme"` + "\n" + `environments = ["dev/eu"]`, `environments[\s\S]*not a valid environment`},
		"environment empty string":                {`name = "acme"` + "\n" + `environments = [""]`, `environments[\s\S]*not a valid environment`},
		"locking unknown mode":                    {`name = "acme"` + "\n" + `locking = "none"`, `locking[\s\S]*value must be one of`},
		"principal wildcard":                      {`name = "acme"` + "\n" + `principals = ["*"]`, `principals[\s\S]*not an ARN`},
		"principal role wildcard":                 {`name = "acme"` + "\n" + `principals = ["arn:aws:iam::123456789012:role/*"]`, `principals[\s\S]*without wildcards`},
		"principal account root":                  {`name = "acme"` + "\n" + `principals = ["arn:aws:iam::123456789012:root"]`, `principals[\s\S]*must name an IAM role or user`},
		"principal not IAM":                       {`name = "acme"` + "\n" + `principals = ["arn:aws:s3:::bucket"]`, `principals[\s\S]*not an IAM ARN`},
		"principals empty":                        {`name = "acme"` + "\n" + `principals = []`, `principals[\s\S]*at least 1`},
		"deletion window too short":               {`name = "acme"` + "\n" + `kms_deletion_window_days = 6`, `kms_deletion_window_days[\s\S]*between 7 and 30`},
		"deletion window too long":                {`name = "acme"` + "\n" + `kms_deletion_window_days = 31`, `kms_deletion_window_days[\s\S]*between 7 and 30`},
		"rotation too short":                      {`name = "acme"` + "\n" + `kms_rotation_period_days = 89`, `kms_rotation_period_days[\s\S]*between 90 and 2560`},
		"rotation too long":                       {`name = "acme"` + "\n" + `kms_rotation_period_days = 2561`, `kms_rotation_period_days[\s\S]*between 90 and 2560`},
		"retention too short":                     {`name = "acme"` + "\n" + `noncurrent_version_expiration_days = 6`, `noncurrent_version_expiration_days[\s\S]*between 7 and 3650`},
		"retention too long":                      {`name = "acme"` + "\n" + `noncurrent_version_expiration_days = 3651`, `noncurrent_version_expiration_days[\s\S]*between 7 and 3650`},
		"tag key reserved by AWS":                 {`name = "acme"` + "\n" + `tags = { "aws:team" = "x" }`, `tags[\s\S]*reserves`},
		"tag key reserved here":                   {`name = "acme"` + "\n" + `tags = { "securestate:backend" = "x" }`, `tags[\s\S]*reserved for the provider`},
		"tag value too long":                      {`name = "acme"` + "\n" + `tags = { team = "` + strings.Repeat("v", 257) + `" }`, `tags[\s\S]*at most 256`},
		"name missing":                            {`locking = "both"`, `"name" is required`},
		"bucket too long":                         {`name = "acme"` + "\n" + `bucket = "` + strings.Repeat("b", 64) + `"`, `bucket[\s\S]*3 to 63`},
		"environment too long":                    {`name = "acme"` + "\n" + `environments = ["` + strings.Repeat("e", 33) + `"]`, `environments[\s\S]*not a valid environment`},
		"environment leading hyphen":              {`name = "acme"` + "\n" + `environments = ["-dev"]`, `environments[\s\S]*not a valid environment`},
		"environment with tfstate":                {`name = "acme"` + "\n" + `environments = ["my-tfstate"]`, `environments[\s\S]*separates backend and environment`},
		"too many environments":                   {`name = "acme"` + "\n" + `environments = [for i in range(51) : "env${i}"]`, `environments[\s\S]*at most 50`},
		"tag key empty":                           {`name = "acme"` + "\n" + `tags = { "" = "x" }`, `tags[\s\S]*length`},
		"tag key too long":                        {`name = "acme"` + "\n" + `tags = { "` + strings.Repeat("k", 129) + `" = "x" }`, `tags[\s\S]*length`},
		"timeouts delete not a time":              {`name = "acme"` + "\n" + "timeouts {\n delete = \"later\"\n}", `Time Duration[\s\S]*delete`},
		"timeouts create not a time":              {`name = "acme"` + "\n" + "timeouts {\n create = \"soon\"\n}", `Time Duration[\s\S]*create`},
		"replication without region":              {`name = "acme"` + "\n" + "replication {}", `Missing replication region[\s\S]*replication needs the region`},
		"replication region malformed":            {`name = "acme"` + "\n" + "replication {\n region = \"Europe\"\n}", `replication\.region[\s\S]*not an AWS region name`},
		"replication region with spaces":          {`name = "acme"` + "\n" + "replication {\n region = \"eu west 1\"\n}", `replication\.region[\s\S]*not an AWS region name`},
		"replication region is the provider's":    {`name = "acme"` + "\n" + `bucket = "acme-state"` + "\n" + "replication {\n region = \"us-east-1\"\n}", `Replica in the same region[\s\S]*replication.region is "us-east-1", the provider's region`},
		"replica bucket name too long":            {`name = "acme"` + "\n" + `bucket = "` + strings.Repeat("b", 56) + `"` + "\n" + "replication {\n region = \"eu-west-1\"\n}", `Bucket name too long for a replica[\s\S]*at most 55 characters`},
		"replication region in another partition": {`name = "acme"` + "\n" + `bucket = "acme-state"` + "\n" + "replication {\n region = \"cn-north-1\"\n}", `Replica in another partition[\s\S]*aws-cn partition`},
		"replication metrics off with alarms":     {`name = "acme"` + "\n" + "access_logging {}\ncloudtrail {\n alarms {\n sns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:t\"\n }\n}\nreplication {\n region = \"eu-west-1\"\n metrics = false\n}", `Replication metrics needed by the alarms`},
		"object lock without days":                {`name = "acme"` + "\n" + "object_lock {}", `Missing object_lock days[\s\S]*object_lock needs the number of days`},
		"object lock days zero":                   {`name = "acme"` + "\n" + "object_lock {\n days = 0\n}", `object_lock\.days[\s\S]*between 1 and 36500`},
		"object lock days too many":               {`name = "acme"` + "\n" + "object_lock {\n days = 36501\n}", `object_lock\.days[\s\S]*between 1 and 36500`},
		"object lock mode unknown":                {`name = "acme"` + "\n" + "object_lock {\n mode = \"LEGAL_HOLD\"\n days = 1\n}", `object_lock\.mode[\s\S]*value must be one of`},
		"object lock mode lowercase":              {`name = "acme"` + "\n" + "object_lock {\n mode = \"governance\"\n days = 1\n}", `object_lock\.mode[\s\S]*value must be one of`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      offlineProvider + "resource \"securestate_backend\" \"test\" {\n" + tc.args + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}

// offlineProvider lets plan-time tests run without any AWS endpoint.
const offlineProvider = `
provider "securestate" {
  region                      = "us-east-1"
  skip_credentials_validation = true
}
`

// Without the account ID (credential validation skipped) the default bucket
// name cannot be derived: the plan asks for an explicit bucket.
func TestBackend_bucketNeededWithoutAccountID(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      offlineProvider + `resource "securestate_backend" "test" { name = "acme" }`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Bucket name needed[\s\S]*Set bucket`),
		}},
	})
}

// Import IDs are checked before anything is looked up.
func TestBackend_importIDValidation(t *testing.T) {
	for id, want := range map[string]string{
		"AB":                          `Invalid import ID`,
		"bucket=acme-state":           `key must be the ARN`,
		"bucket=acme-state,key=x,y=1": `is not key=value|unknown import field`,
		"bucket=Bad,key=arn:aws:kms:us-east-1:123456789012:key/k": `bucket:`,
	} {
		t.Run(id, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:        offlineProvider + "resource \"securestate_backend\" \"test\" {\n  name   = \"acme\"\n  bucket = \"acme-state\"\n}\n",
					ResourceName:  "securestate_backend.test",
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   regexp.MustCompile(want),
				}},
			})
		})
	}
}
