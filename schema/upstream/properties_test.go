package upstream

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/support"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestPropertySchemasMatchWholeSchema: validating key by key gives exactly the errors the whole
// compiled values.schema.json gives, for the guide's values, the chart's own defaults and, at
// every top-level key, values of each JSON type (most of them wrong somewhere below).
func TestPropertySchemasMatchWholeSchema(t *testing.T) {
	shapes := []any{"x", int64(7), 1.5, true, nil, []any{"a", int64(1)}, map[string]any{"enabled": "yes", "zz": int64(1)},
		map[string]any{"enabled": true, "mode": int64(3), "image": map[string]any{"tag": int64(1)}}}
	guide := readYAMLFile(t, "testdata/guide-cilium-values.yaml")
	for _, v := range support.CiliumVersions() {
		t.Run(v, func(t *testing.T) {
			name := "data/cilium/" + v + "-values.schema.json"
			whole, err := compileSchema(name)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := loadPropertySchemas(name)
			if err != nil {
				t.Fatal(err)
			}
			defaults := readYAMLFile(t, filepath.Join("data", "cilium", v+"-values.yaml"))
			docs := []map[string]any{guide, defaults, {}, {"notAKey": int64(1)}}
			for _, k := range sortedKeys(parts.props) {
				for _, s := range shapes {
					docs = append(docs, map[string]any{k: s})
				}
			}
			var failing int
			for _, d := range docs {
				var bad field.ErrorList
				norm, _ := normalize(d, valuesPath, 0, &bad).(map[string]any)
				want := lines(whole.validate(norm, valuesPath, "Cilium chart "+v, nil))
				got := lines(parts.validate(norm, valuesPath, "Cilium chart "+v))
				if !slices.Equal(got, want) {
					t.Errorf("%v:\nper property:\n%s\nwhole schema:\n%s", d, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if len(want) > 0 {
					failing++
				}
			}
			// The comparison means something only if many documents fail.
			if failing < len(parts.props) {
				t.Errorf("only %d of %d documents fail the schema", failing, len(docs))
			}
		})
	}
}

func TestLoadPropertySchemasRefusesOtherShapes(t *testing.T) {
	for _, tt := range []struct{ name, raw, want string }{
		{"required.json", `{"type": "object", "required": ["a"], "properties": {"a": {}}}`, `root keyword "required"`},
		{"array.json", `{"type": "array"}`, "root type array"},
		{"ref.json", `{"properties": {"a": {"$ref": "#/definitions/x"}}}`, "holds $ref"},
		{"list.json", `[]`, "not an object"},
	} {
		_, err := newPropertySchemas(tt.name, []byte(tt.raw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func lines(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}
