package awsclient

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var knownPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// partitionOf classifies a region by its leading name parts.
func partitionOf(region string) string {
	parts := strings.SplitN(region, "-", 3)
	if len(parts) >= 2 && parts[0] == "cn" {
		return "aws-cn"
	}
	if len(parts) < 3 {
		return "aws"
	}
	switch parts[0] + "-" + parts[1] {
	case "us-gov":
		return "aws-us-gov"
	case "us-iso":
		return "aws-iso"
	case "us-isob":
		return "aws-iso-b"
	case "us-isof":
		return "aws-iso-f"
	case "eu-isoe":
		return "aws-iso-e"
	}
	return "aws"
}

func FuzzPartitionForRegion(f *testing.F) {
	for _, s := range []string{
		"us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1",
		"us-isof-south-1", "eu-central-1", "", "cn-", "cn", "us-gov", "us-gov-", "us-isobx-east-1", "US-GOV-WEST-1", "us-iso-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, region string) {
		got := PartitionForRegion(region)
		if !slices.Contains(knownPartitions, got) {
			t.Fatalf("PartitionForRegion(%q) = %q, not a known partition", region, got)
		}
		if want := partitionOf(region); got != want {
			t.Fatalf("PartitionForRegion(%q) = %q, want %q", region, got, want)
		}
		if again := PartitionForRegion(region); again != got {
			t.Fatalf("PartitionForRegion(%q) is not stable: %q then %q", region, got, again)
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
