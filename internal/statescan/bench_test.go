package statescan

import (
	"runtime"
	"testing"
)

// BenchmarkScan100MB scans a synthetic state of about 100 MB produced on
// the fly (see synthState), and reports the throughput (MB/s), the peak heap
// during the scan (sampled every millisecond) and the findings.
func BenchmarkScan100MB(b *testing.B) {
	const target = 100 << 20
	size := synthSize(target)
	b.SetBytes(size)
	b.ReportAllocs()
	var peak float64
	var findings, expected int
	for b.Loop() {
		b.StopTimer()
		g := newSynthState(target)
		runtime.GC()
		h := startHeapSampler()
		b.StartTimer()
		res, err := Scan(g, Options{})
		b.StopTimer()
		peak = max(peak, h.Stop())
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Bytes != size {
			b.Fatalf("scanned %d bytes, want %d", res.Bytes, size)
		}
		findings, expected = len(res.Findings), g.expected
	}
	if findings != expected {
		b.Errorf("%d findings, want %d", findings, expected)
	}
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(findings), "findings")
}
