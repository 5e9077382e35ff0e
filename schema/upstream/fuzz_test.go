package upstream

import (
	"os"
	"testing"

	"github.com/enigate/enigate/schema/support"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// FuzzValidateCiliumValues feeds arbitrary YAML to both validators: they must
// never panic, and every error must carry a path below the given one and a
// detail. The committed corpus is under testdata/fuzz/FuzzValidateCiliumValues.
func FuzzValidateCiliumValues(f *testing.F) {
	if raw, err := os.ReadFile("testdata/guide-cilium-values.yaml"); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var values map[string]any
		if err := yaml.Unmarshal(data, &values); err != nil {
			return
		}
		root := field.NewPath("cilium", "values")
		for _, v := range support.CiliumVersions() {
			checkErrs(t, root, ValidateCiliumValues(v, values, root))
		}
		checkErrs(t, root, ValidateEksctl(values, root))
		checkErrs(t, root, EksctlDeprecations(values, root))
	})
}

func checkErrs(t *testing.T, root *field.Path, errs field.ErrorList) {
	t.Helper()
	for _, e := range errs {
		if e == nil || e.Detail == "" {
			t.Fatalf("error without detail: %#v", e)
		}
		if p := root.String(); e.Field != p && !(len(e.Field) > len(p) && e.Field[:len(p)] == p) {
			t.Fatalf("error outside %s: %s", p, e.Field)
		}
	}
}
