package policies

import (
	"fmt"
	"testing"
)

// BenchmarkBackendPolicies measures what a plan or refresh pays to write every
// policy document of one backend: the key policy, the bucket policy and one
// access policy per environment, each rendered to the JSON sent to AWS.
func BenchmarkBackendPolicies(b *testing.B) {
	base := backends()["monitored"]
	for _, envs := range []int{1, 10, 50} {
		names := make([]string, envs)
		for i := range names {
			names[i] = fmt.Sprintf("env%02d", i)
		}
		b.Run(fmt.Sprintf("environments=%d", envs), func(b *testing.B) {
			b.ReportAllocs()
			bytes := 0
			for b.Loop() {
				bytes = len(Render(KeyPolicy(base))) + len(Render(BucketPolicy(base)))
				for _, env := range names {
					bytes += len(Render(AccessPolicy(base, env)))
				}
			}
			b.ReportMetric(float64(bytes), "policy-bytes")
		})
	}
}
