package awsclient

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var knownPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// partitionLabels states which leading labels of a region name (the parts
// between hyphens) name a partition other than aws, after the regionRegex of
// each partition in the AWS SDK's partitions.json.
var partitionLabels = []struct {
	labels    []string
	partition string
}{
	{[]string{"cn"}, "aws-cn"},            // ^cn\-\w+\-\d+$
	{[]string{"us", "gov"}, "aws-us-gov"}, // ^us\-gov\-\w+\-\d+$
	{[]string{"us", "iso"}, "aws-iso"},    // ^us\-iso\-\w+\-\d+$
	{[]string{"us", "isob"}, "aws-iso-b"}, // ^us\-isob\-\w+\-\d+$
	{[]string{"eu", "isoe"}, "aws-iso-e"}, // ^eu\-isoe\-\w+\-\d+$
	{[]string{"us", "isof"}, "aws-iso-f"}, // ^us\-isof\-\w+\-\d+$
	{[]string{"eusc"}, "aws-eusc"},        // ^eusc\-(de)\-\w+\-\d+$
}

// partitionOf is the rule PartitionForRegion implements, stated over labels:
// a region whose leading labels are those of a partition, followed by at least
// one more label, is in that partition; any other string is in aws.
func partitionOf(region string) string {
	labels := strings.Split(region, "-")
	for _, p := range partitionLabels {
		if len(labels) > len(p.labels) && slices.Equal(labels[:len(p.labels)], p.labels) {
			return p.partition
		}
	}
	return "aws"
}

// sdkRegions are the regions the AWS SDK (aws-sdk-go-v2 v1.47.7,
// internal/endpoints/awsrulesfn/partitions.json) lists, with their partition.
var sdkRegions = []struct{ region, partition string }{
	{"af-south-1", "aws"}, {"ap-east-2", "aws"}, {"ap-northeast-3", "aws"}, {"ap-south-2", "aws"},
	{"ap-southeast-7", "aws"}, {"ca-west-1", "aws"}, {"eu-central-1", "aws"}, {"eu-north-1", "aws"},
	{"il-central-1", "aws"}, {"me-central-1", "aws"}, {"mx-central-1", "aws"}, {"sa-east-1", "aws"},
	{"us-east-1", "aws"}, {"us-west-2", "aws"},
	{"cn-north-1", "aws-cn"}, {"cn-northwest-1", "aws-cn"},
	{"eusc-de-east-1", "aws-eusc"},
	{"us-iso-east-1", "aws-iso"}, {"us-iso-west-1", "aws-iso"},
	{"us-isob-east-1", "aws-iso-b"}, {"us-isob-west-1", "aws-iso-b"},
	{"eu-isoe-west-1", "aws-iso-e"},
	{"us-isof-east-1", "aws-iso-f"}, {"us-isof-south-1", "aws-iso-f"},
	{"us-gov-east-1", "aws-us-gov"}, {"us-gov-west-1", "aws-us-gov"},
}

// FuzzPartitionForRegion compares PartitionForRegion with partitionOf, and
// checks that the partition does not depend on a region's last label: a new
// region of a known partition (us-gov-south-1, eusc-de-west-2) must get its
// partition without a code change. lastLabel replaces that label.
func FuzzPartitionForRegion(f *testing.F) {
	for _, r := range sdkRegions {
		f.Add(r.region, "9")
	}
	for _, s := range []string{
		"", "cn-", "cn", "us-gov", "us-gov-", "us-isobx-east-1", "US-GOV-WEST-1", "us-iso-", "eusc", "eusc-",
		"eusc-fr-south-1", "euscx-de-east-1", "eu-sc-de-east-1", "us-gov-1", "useast1",
	} {
		f.Add(s, "1")
	}
	f.Add("us-gov-west-1", "")
	f.Add("eusc-de-east-1", "south")
	f.Fuzz(func(t *testing.T, region, lastLabel string) {
		got := PartitionForRegion(region)
		if !slices.Contains(knownPartitions, got) {
			t.Fatalf("PartitionForRegion(%q) = %q, not a known partition", region, got)
		}
		for _, r := range sdkRegions {
			if r.region == region && got != r.partition {
				t.Fatalf("PartitionForRegion(%q) = %q; the AWS SDK lists it in %q", region, got, r.partition)
			}
		}
		if i := strings.LastIndexByte(region, '-'); i >= 0 {
			other := region[:i+1] + strings.ReplaceAll(lastLabel, "-", "")
			if again := PartitionForRegion(other); again != got {
				t.Fatalf("PartitionForRegion depends on the last label: %q is in %q, %q in %q", region, got, other, again)
			}
		}
		if want := partitionOf(region); got != want {
			t.Fatalf("PartitionForRegion(%q) = %q, want %q", region, got, want)
		}
	})
}

func FuzzMaxAttempts(f *testing.F) {
	f.Add("", int64(0), false)
	f.Add("3", int64(0), false)
	f.Add("+7", int64(0), false)
	f.Add("0", int64(0), false)
	f.Add("-1", int64(0), false)
	f.Add("abc", int64(0), false)
	f.Add(" 5", int64(0), false)
	f.Add("99999999999999999999", int64(0), false)
	f.Add("", int64(0), true)
	f.Add("", int64(5), true)
	f.Add("abc", int64(25), true)
	// Once overflowed max_retries + 1; now refused above MaxMaxRetries.
	f.Add("", int64(math.MaxInt64), true)
	f.Fuzz(func(t *testing.T, envValue string, retries int64, setRetries bool) {
		var asked []string
		env := Env(func(name string) string {
			asked = append(asked, name)
			if name == "AWS_MAX_ATTEMPTS" {
				return envValue
			}
			return "unexpected"
		})
		s := Settings{}
		if setRetries {
			// The provider schema refuses negative max_retries.
			if retries < 0 {
				return // outside the property's domain (not a skip: nothing to report)
			}
			n := int(retries)
			s.MaxRetries = &n
		}
		got, err := MaxAttempts(s, env)
		for _, name := range asked {
			if name != "AWS_MAX_ATTEMPTS" {
				t.Fatalf("MaxAttempts read environment variable %q", name)
			}
		}
		if setRetries && retries > MaxMaxRetries {
			if _, ok := IsSettingError(err); !ok {
				t.Fatalf("MaxAttempts with max_retries %d = %d, %v; want a max_retries error", retries, got, err)
			}
			return
		}
		if setRetries {
			if err != nil || len(asked) != 0 {
				t.Fatalf("MaxAttempts with max_retries %d: %d, %v (read env: %v)", retries, got, err, asked)
			}
			if got < 1 || int64(got)-1 != retries {
				t.Fatalf("MaxAttempts with max_retries %d = %d, want max_retries + 1", retries, got)
			}
			return
		}
		if envValue == "" {
			if err != nil || got != DefaultMaxRetries+1 {
				t.Fatalf("MaxAttempts without settings = %d, %v; want %d", got, err, DefaultMaxRetries+1)
			}
			return
		}
		n, aerr := strconv.Atoi(envValue)
		if aerr != nil || n < 1 || n > MaxMaxRetries+1 {
			se, ok := IsSettingError(err)
			if !ok || se.Attribute != "max_retries" || se.Summary == "" || se.Detail == "" || got != 0 {
				t.Fatalf("MaxAttempts with AWS_MAX_ATTEMPTS=%q = %d, %v; want a max_retries setting error", envValue, got, err)
			}
			return
		}
		if err != nil || got != n {
			t.Fatalf("MaxAttempts with AWS_MAX_ATTEMPTS=%q = %d, %v; want %d", envValue, got, err, n)
		}
	})
}
