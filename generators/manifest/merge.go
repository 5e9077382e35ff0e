package manifest

// Merge deep-merges src into dst and returns dst: maps merge key by key, anything else
// (scalars, lists) in src replaces dst's. Neither input's nested maps are shared with the result.
func Merge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, sv := range src {
		sm, sIsMap := sv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		switch {
		case sIsMap && dIsMap:
			dst[k] = Merge(Clone(dm), sm)
		case sIsMap:
			dst[k] = Clone(sm)
		default:
			dst[k] = sv
		}
	}
	return dst
}

// Clone deep-copies nested maps and lists.
func Clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return Clone(v)
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = cloneValue(v[i])
		}
		return out
	default:
		return v
	}
}
