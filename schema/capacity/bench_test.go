package capacity

import "testing"

// BenchmarkComputeAllTypes computes every known type in both modes (secondary IPs and prefix
// delegation; types that cannot do prefix delegation return their error). Target: < 5 ms/op.
func BenchmarkComputeAllTypes(b *testing.B) {
	tab, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		for _, it := range tab.Types {
			for _, pd := range []bool{false, true} {
				_, _ = tab.Compute(Input{InstanceType: it.Name, PrefixDelegation: pd, HostNetworkPods: DefaultHostNetworkPods})
			}
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(2*len(tab.Types)), "computes/op")
}

// BenchmarkTableLoad parses the embedded table, as the first Lookup does. Target: < 1 ms/op.
func BenchmarkTableLoad(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(embeddedTable)))
	cpu := processCPU()
	for b.Loop() {
		if _, err := ParseTable(embeddedTable); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkNearest ranks every known name for a misspelt type (the unknown-type error path).
func BenchmarkNearest(b *testing.B) {
	tab, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tab.Nearest("m7g.xlarg", 3)
	}
}

// reportCPU adds "cpu-ns/op": process CPU time (all threads, GC included) since start, per op.
func reportCPU(b *testing.B, start int64) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
