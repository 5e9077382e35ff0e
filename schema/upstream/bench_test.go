package upstream

import (
	"testing"

	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/support"
)

// BenchmarkValidateCiliumValues measures one validation with the chart
// already loaded (what every render after the first pays): the guide's
// values, which exercise both the schema and the unknown-key walk.
func BenchmarkValidateCiliumValues(b *testing.B) {
	values := readYAMLFile(b, "testdata/guide-cilium-values.yaml")
	for _, v := range support.CiliumVersions() {
		b.Run(v, func(b *testing.B) {
			if err := ciliumCharts[v].load(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if errs := ValidateCiliumValues(v, values, valuesPath); len(errs) == 0 {
					b.Fatal("expected the guide's mistakes")
				}
			}
		})
	}
}

// BenchmarkLoadCiliumChart measures the one-time cost per chart version and process: parsing
// values.schema.json and compiling the subschemas of the keys the guide's values set.
// BenchmarkCompileWholeCiliumSchema compiles all of it instead, for comparison.
func BenchmarkLoadCiliumChart(b *testing.B) {
	guide := readYAMLFile(b, "testdata/guide-cilium-values.yaml")
	for _, v := range support.CiliumVersions() {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ps, err := loadPropertySchemas("data/cilium/" + v + "-values.schema.json")
				if err != nil {
					b.Fatal(err)
				}
				for k := range guide {
					if _, err := ps.property(k); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkCompileWholeCiliumSchema(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compileSchema("data/cilium/1.19.7-values.schema.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateEksctl measures one validation of a correct ClusterConfig
// with the schema already compiled.
func BenchmarkValidateEksctl(b *testing.B) {
	doc := readYAMLFile(b, "testdata/cluster-config.yaml")
	if _, err := loadEksctl(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateEksctl(doc, eksctlPath); len(errs) != 0 {
			b.Fatal(problem.Lines(errs))
		}
	}
}

// BenchmarkCompileEksctlSchema measures the one-time schema compile.
func BenchmarkCompileEksctlSchema(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compileSchema("data/eksctl/" + EksctlVersion + "-schema.json"); err != nil {
			b.Fatal(err)
		}
	}
}
