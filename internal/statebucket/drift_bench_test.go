package statebucket

import (
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// BenchmarkDrift measures the comparison a refresh makes of what S3 reports
// against the hardened spec, for a compliant bucket and a drifted one.
func BenchmarkDrift(b *testing.B) {
	spec := Spec{Bucket: "b", KeyARN: keyARN, NoncurrentDays: 90, Logging: &Logging{TargetBucket: "b-logs", TargetPrefix: "b/"},
		Policy: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
			{Sid: "S", Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: policydoc.StringSet{"s3:*"},
				Resource:  policydoc.StringSet{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
				Condition: policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}}},
		}}}
	good := compliant(spec)
	good.Logging = *spec.Logging
	bad := compliant(spec)
	bad.Versioning, bad.Policy = "Suspended", `{"Version":"2012-10-17","Statement":[]}`
	for name, o := range map[string]*Observed{"compliant": good, "drifted": bad} {
		drifted := 0
		for _, problem := range Drift(spec, o) {
			if problem != "" {
				drifted++
			}
		}
		if (name == "compliant") != (drifted == 0) {
			b.Fatalf("%s bucket: %d drifted controls", name, drifted)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Drift(spec, o)
			}
		})
	}
}
