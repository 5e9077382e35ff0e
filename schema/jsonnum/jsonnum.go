// Package jsonnum gives JSON numbers decoded with json.Decoder.UseNumber the Go types
// Kubernetes' unstructured objects use: int64 when integral, float64 otherwise. Rendered YAML
// then prints 1048576, never 1.048576e+06.
package jsonnum

import "encoding/json"

// Normalize replaces every json.Number in v (maps and lists are changed in place) and
// returns v.
func Normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = Normalize(x)
		}
	case []any:
		for i, x := range v {
			v[i] = Normalize(x)
		}
	}
	return v
}
