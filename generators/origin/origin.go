// Package origin records where the user declared each value a generator renders, so that a
// problem found in a rendered artifact (cilium.values.maglev.hashSeed) points at the
// declaration (cilium.maglev.hashSeed, or the override that set the value).
package origin

import "strings"

// Map maps rendered field paths (keys joined by ".", as field.Path.Child prints them) to the
// declaration paths they come from.
type Map map[string]string

// Declared is a rendered value taken from the declaration path From; Record unwraps it.
type Declared struct {
	From  string
	Value any
}

// From marks v, a value of a map a generator builds (not an item of a list), as rendered from
// the declaration path from.
func From(from string, v any) Declared { return Declared{From: from, Value: v} }

// Record replaces every Declared value in m (nested maps included) by its value, recording
// its path (under root) and From, and returns m.
func (o Map) Record(root string, m map[string]any) map[string]any {
	for k, v := range m {
		p := join(root, k)
		if d, ok := v.(Declared); ok {
			o[p] = d.From
			v = d.Value
			m[k] = v
		}
		if mm, ok := v.(map[string]any); ok {
			o.Record(p, mm)
		}
	}
	return m
}

// Override records the values an override (deep-merged over the rendered values under root)
// sets as declared at decl and the same keys: each value that is not a map, and each map
// where nothing else is recorded (a key the generator sets inside it keeps its own origin).
func (o Map) Override(root, decl string, override map[string]any) {
	for k, v := range override {
		p, d := join(root, k), decl+"."+k
		m, isMap := v.(map[string]any)
		if _, recorded := o[p]; !isMap || !recorded {
			o[p] = d
		}
		if isMap {
			o.Override(p, d, m)
		}
	}
}

// Under records every entry of sub with root prefixed to its rendered path.
func (o Map) Under(root string, sub Map) {
	for p, d := range sub {
		o[join(root, p)] = d
	}
}

// Of returns the declaration path of the rendered path p: the one recorded for p, else the
// one of its nearest recorded parent with the rest of p appended (bpf.natMax of a map
// rendered from cilium.bpf is cilium.bpf.natMax), else p itself.
func (o Map) Of(p string) string {
	for q := p; q != ""; q = parent(q) {
		if d, ok := o[q]; ok {
			return d + p[len(q):]
		}
	}
	return p
}

// parent drops the last key or index of a field path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func join(root, key string) string {
	if root == "" {
		return key
	}
	return root + "." + key
}
