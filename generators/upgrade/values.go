package upgrade

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ValueChange is one chart key whose default or documented meaning differs between two charts'
// values.yaml, or that only one of them has.
type ValueChange struct {
	Key string `json:"key"`
	// Change is "default", "meaning" (the key's documentation changed, its default did not),
	// "removed" or "added".
	Change string `json:"change"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Rendered: the environment's rendered values set this key (or a key below or above it).
	Rendered bool `json:"rendered"`
}

// chartKey is one leaf of a values.yaml: its default (compact YAML) and its documentation
// (the helm-docs "# --" comment, without the @schema blocks).
type chartKey struct{ value, doc string }

// chartKeys flattens a values.yaml into its leaf keys (dotted paths). A map with keys is walked;
// scalars, lists and empty maps are leaves.
func chartKeys(data []byte) (map[string]chartKey, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := map[string]chartKey{}
	if len(doc.Content) == 0 {
		return out, nil
	}
	var walk func(n *yaml.Node, prefix string) error
	walk = func(n *yaml.Node, prefix string) error {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			if prefix != "" {
				key = prefix + "." + k.Value
			}
			if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
				if err := walk(v, key); err != nil {
					return err
				}
				continue
			}
			val, err := compact(v)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			out[key] = chartKey{value: val, doc: docOf(k.HeadComment)}
		}
		return nil
	}
	return out, walk(doc.Content[0], "")
}

// compact renders a value node as one line of YAML flow style.
func compact(n *yaml.Node) (string, error) {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Style |= yaml.FlowStyle
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}

// docOf keeps the "# --" documentation of a head comment, dropping "# @schema" blocks, joined
// into one normalized line.
func docOf(comment string) string {
	var out []string
	inSchema := false
	for _, line := range strings.Split(comment, "\n") {
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if t == "@schema" {
			inSchema = !inSchema
			continue
		}
		if inSchema || t == "" {
			continue
		}
		out = append(out, strings.TrimPrefix(t, "-- "))
	}
	return strings.Join(strings.Fields(strings.Join(out, " ")), " ")
}

// valueChanges compares two charts' values.yaml. rendered are the dotted key paths the
// environment's values set.
func valueChanges(from, to []byte, rendered []string) ([]ValueChange, error) {
	a, err := chartKeys(from)
	if err != nil {
		return nil, fmt.Errorf("values.yaml of the current chart: %w", err)
	}
	b, err := chartKeys(to)
	if err != nil {
		return nil, fmt.Errorf("values.yaml of the target chart: %w", err)
	}
	var out []ValueChange
	for k, x := range a {
		y, ok := b[k]
		switch {
		case !ok:
			out = append(out, ValueChange{Key: k, Change: "removed", From: x.value})
		case x.value != y.value:
			out = append(out, ValueChange{Key: k, Change: "default", From: x.value, To: y.value})
		case x.doc != y.doc:
			out = append(out, ValueChange{Key: k, Change: "meaning", From: x.doc, To: y.doc})
		}
	}
	for k, y := range b {
		if _, ok := a[k]; !ok {
			out = append(out, ValueChange{Key: k, Change: "added", To: y.value})
		}
	}
	for i := range out {
		out[i].Rendered = touches(out[i].Key, rendered)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// touches reports whether key is one of rendered, or above or below one of them.
func touches(key string, rendered []string) bool {
	for _, r := range rendered {
		if r == key || strings.HasPrefix(r, key+".") || strings.HasPrefix(key, r+".") {
			return true
		}
	}
	return false
}

// leafPaths lists the dotted key paths of a values map's leaves.
func leafPaths(v map[string]any, prefix string) []string {
	var out []string
	for k, x := range v {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if m, ok := x.(map[string]any); ok && len(m) > 0 {
			out = append(out, leafPaths(m, p)...)
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
