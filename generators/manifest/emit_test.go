package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/enigate/enigate/schema/jsonnum"
)

// checkSame fails when appendYAML wrote m differently from yaml.v2; it returns whether
// appendYAML wrote it at all.
func checkSame(t testing.TB, m map[string]any) bool {
	t.Helper()
	want, err := yaml.Marshal(m)
	if err != nil {
		t.Fatalf("yaml.v2: %v", err)
	}
	got, ok := appendYAML(nil, m)
	if ok && !bytes.Equal(got, want) {
		t.Errorf("appendYAML differs from yaml.v2 for %#v\n--- appendYAML:\n%s--- yaml.v2:\n%s", m, got, want)
	}
	return ok
}

func TestAppendYAMLCases(t *testing.T) {
	long := strings.Repeat("word ", 20)
	for _, tt := range []struct {
		name string
		m    map[string]any
		fast bool // appendYAML writes it itself
	}{
		{"empty", map[string]any{}, true},
		{"scalars", map[string]any{"s": "x", "i": int64(-3), "nil": nil, "b": true, "f": 1.5, "g": 3.0, "h": 1e21, "int": 7}, true},
		{"special floats", map[string]any{"a": math.Inf(1), "b": math.Inf(-1), "c": math.NaN()}, true},
		{"nested", map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}, "e": []any{}}, "f": map[string]any{}}, true},
		{"lists", map[string]any{"l": []any{"a", map[string]any{"x": int64(1), "z": []any{"p", "q"}}, []any{"b", []any{"c"}}, []any{}, map[string]any{}}}, true},
		{"key order", map[string]any{"a10": 1, "a2": 2, "b": 3, "B": 4, "a-1": 5, "a_1": 6, "a.1": 7, "a01": 8, "a1": 9, "_x": 10, "/y": 11}, true},
		{"quoted values", map[string]any{"a": "true", "b": "1.0", "c": "*.example.com", "d": "a: b", "e": "", "f": " lead", "g": "0x1F", "h": "~", "i": "yes", "j": "#c", "k": "- x", "l": "it's", "m": "10.0.0.0/16", "o": "ключ"}, true},
		{"short with spaces", map[string]any{"description": "fails closed while it is down"}, true},
		{"folded", map[string]any{"description": long}, false},
		{"folded in list", map[string]any{"l": []any{long}}, false},
		{"multi-line", map[string]any{"a": "x\ny"}, false},
		{"quoted key", map[string]any{"true": 1}, false},
		{"spaced key", map[string]any{"a b": 1}, false},
		{"long key", map[string]any{strings.Repeat("k", 129): 1}, false},
		{"other type", map[string]any{"a": []string{"x"}}, false},
		{"uint", map[string]any{"a": uint(3)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if ok := checkSame(t, tt.m); ok != tt.fast {
				t.Errorf("written by appendYAML: %v, want %v", ok, tt.fast)
			}
			// YAML gives yaml.v2's bytes either way.
			want, _ := yaml.Marshal(tt.m)
			got, err := YAML("x.cue", tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte(Header("x.cue")), want...)) {
				t.Errorf("YAML:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestAppendYAMLRandom compares random JSON-shaped documents (random nesting, keys and
// scalars, tricky strings among them) with yaml.v2.
func TestAppendYAMLRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	const docs = 3000
	for range docs {
		if m, _ := randomValue(r, 0, true).(map[string]any); m != nil && checkSame(t, m) {
			fast++
		}
		if t.Failed() {
			return
		}
	}
	if fast < docs/3 {
		t.Errorf("appendYAML wrote only %d of %d documents itself", fast, docs)
	}
}

var (
	randomKeys    = []string{"a", "b", "name", "a10", "a2", "a01", "x-y", "x_y", "x.y", "k/v", "B", "_h", "metadata", "apiVersion", "v1", "z9"}
	randomStrings = []string{"x", "team-a.example.com", "/api", "", "true", "no", "1", "1.5", "-", "*.a", "a: b", "a #b", "it's", "é", "x y", "  ", "0o17", "null", "2001-12-14", "1:20", "@at", "%p", "a\ty", strings.Repeat("long words ", 9), "ends ", "10.0.0.0/16"}
)

func randomValue(r *rand.Rand, depth int, mustMap bool) any {
	kind := r.IntN(10)
	if mustMap {
		kind = 0
	}
	if depth > 4 && kind < 3 {
		kind = 5
	}
	switch kind {
	case 0, 1:
		m := map[string]any{}
		for range r.IntN(5) {
			k := randomKeys[r.IntN(len(randomKeys))]
			if r.IntN(40) == 0 {
				k = randomStrings[r.IntN(len(randomStrings))]
			}
			m[k] = randomValue(r, depth+1, false)
		}
		return m
	case 2:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randomValue(r, depth+1, false)
		}
		return s
	case 3:
		return []any{int64(r.IntN(2000) - 1000), 0.25 * float64(r.IntN(100)), nil, true}[r.IntN(4)]
	default:
		if r.IntN(4) == 0 {
			return randomStrings[r.IntN(len(randomStrings))]
		}
		return randomKeys[r.IntN(len(randomKeys))]
	}
}

// FuzzAppendYAML: for any JSON object, appendYAML either declines or writes yaml.v2's bytes.
func FuzzAppendYAML(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a": 1, "b": [1, "x", {"c": null}], "d": {"e": [[], {}]}}`,
		`{"kind": "HTTPRoute", "spec": {"hostnames": ["a.example.com"], "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]}}`,
		`{"a": "yes", "b": "1e3", "c": "x y", "d": "\u00e9"}`,
		fmt.Sprintf(`{"description": %q}`, strings.Repeat("a b ", 30)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil || m == nil || depth(m) > 32 {
			return // deep nesting only makes both encoders slow (output grows with depth squared)
		}
		jsonnum.Normalize(m)
		checkSame(t, m)
	})
}

func depth(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			d = max(d, depth(x))
		}
	case []any:
		for _, x := range v {
			d = max(d, depth(x))
		}
	default:
		return 0
	}
	return d + 1
}

// BenchmarkYAML: one HTTPRoute as render writes it, by YAML (appendYAML) and by yaml.v2.
func BenchmarkYAML(b *testing.B) {
	route := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "team-1-r0", "namespace": "team-1", "labels": map[string]any{"enigate.dev/team": "team-1"}},
		"spec": map[string]any{
			"hostnames":  []any{"team-1.example.com"},
			"parentRefs": []any{map[string]any{"name": "shared-1", "namespace": "infra", "sectionName": "https"}},
			"rules": []any{map[string]any{
				"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/svc-0"}}, map[string]any{"headers": []any{map[string]any{"name": "x-canary", "value": "true"}}}},
				"backendRefs": []any{map[string]any{"name": "svc-0", "port": int64(8080), "weight": int64(90)}, map[string]any{"name": "svc-1", "port": int64(8080), "weight": int64(10)}},
			}},
		},
	}
	b.Run("appendYAML", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := YAML("overlays/x/environment.cue", route); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("yaml.v2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := yaml.Marshal(route); err != nil {
				b.Fatal(err)
			}
		}
	})
}
