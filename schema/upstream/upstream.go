// Package upstream validates rendered upstream artifacts against the upstream
// projects' own schemas: Cilium Helm values against the chart's
// values.schema.json plus an allow-list of template-only keys, and eksctl
// ClusterConfig documents against eksctl's JSON schema.
//
// The schemas are embedded (see data/PROVENANCE.md) and compiled lazily, on
// first use (the Cilium schema key by key); the validators are otherwise pure
// functions returning every problem as a field.ErrorList. The charts'
// values.yaml files are kept beside the schemas for the tests, which check that
// the schemas cover every key they hold.
package upstream

import (
	"embed"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/internal/editdist"
)

//go:embed data/cilium/*.json data/eksctl/*.json
var dataFS embed.FS

// maxDepth bounds how deep a document may nest before it is rejected, so that
// no input can exhaust the stack of the recursive walkers.
const maxDepth = 64

// normalize converts v into the JSON data model the schema validator accepts
// (map[string]any, []any, string, bool, nil, int64/uint64/float64), so that
// callers may pass values built from Go types such as []string or
// map[string]string. Values that have no JSON form (functions, channels,
// NaN, maps with non-string keys, nesting deeper than maxDepth) are replaced
// by nil and reported.
func normalize(v any, path *field.Path, depth int, errs *field.ErrorList) any {
	switch t := v.(type) {
	case nil, string, bool, int64, uint64:
		return t
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			*errs = append(*errs, invalid(path, v, "must be a finite number"))
			return nil
		}
		return t
	case map[string]any:
		if depth >= maxDepth {
			*errs = append(*errs, invalid(path, nil, fmt.Sprintf("nested deeper than %d levels", maxDepth)))
			return nil
		}
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = normalize(c, path.Child(k), depth+1, errs)
		}
		return out
	case []any:
		if depth >= maxDepth {
			*errs = append(*errs, invalid(path, nil, fmt.Sprintf("nested deeper than %d levels", maxDepth)))
			return nil
		}
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = normalize(c, path.Index(i), depth+1, errs)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface(), path, depth, errs)
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint()
	case reflect.Float32, reflect.Float64:
		return normalize(rv.Float(), path, depth, errs)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			*errs = append(*errs, invalid(path, nil, fmt.Sprintf("must be a map with string keys (got %s)", rv.Type())))
			return nil
		}
		if rv.IsNil() {
			return nil
		}
		m := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			m[iter.Key().String()] = iter.Value().Interface()
		}
		return normalize(m, path, depth, errs)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = rv.Index(i).Interface()
		}
		return normalize(s, path, depth, errs)
	}
	*errs = append(*errs, invalid(path, nil, fmt.Sprintf("has no JSON form (got %T)", v)))
	return nil
}

func invalid(path *field.Path, value any, detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, Field: path.String(), BadValue: value, Detail: detail}
}

func unknown(path *field.Path, detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeForbidden, Field: path.String(), Detail: detail}
}

// sortedKeys returns m's keys in order, so that errors come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// didYouMean returns the candidates closest to name (case-insensitive equal,
// or within edit distance 2 for names longer than 3), best first, at most 3.
func didYouMean(name string, candidates []string) []string {
	type scored struct {
		name string
		d    int
	}
	var best []scored
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		lc := strings.ToLower(c)
		d := editdist.Distance(lname, lc, 3)
		if lc == lname {
			d = 0
		}
		limit := 2
		if len(name) <= 3 {
			limit = 0
		}
		if d <= limit || (len(name) >= 6 && strings.HasPrefix(lc, lname)) {
			best = append(best, scored{c, d})
		}
	}
	sort.SliceStable(best, func(i, j int) bool {
		if best[i].d != best[j].d {
			return best[i].d < best[j].d
		}
		return best[i].name < best[j].name
	})
	var out []string
	for i := 0; i < len(best) && i < 3; i++ {
		out = append(out, best[i].name)
	}
	return out
}
