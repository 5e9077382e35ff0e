// Package checks holds the render-time rules: every mistake in the seed guide that a check can
// catch, and the cross-artifact rules that tie the eksctl configs, the Cilium values and the
// Gateway API objects together. Each check is a pure function of its inputs returning every
// problem with a field path; ownership and capacity rules come from schema/rules and
// schema/capacity, shared with the webhook.
package checks

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Report is what a check found: errors stop the render, warnings are printed.
type Report struct {
	Errors   field.ErrorList
	Warnings []string
}

// Add appends another report.
func (r *Report) Add(o Report) {
	r.Errors = append(r.Errors, o.Errors...)
	r.Warnings = append(r.Warnings, o.Warnings...)
}

func (r *Report) errorf(path *field.Path, format string, args ...any) {
	r.Errors = append(r.Errors, &field.Error{Type: field.ErrorTypeInvalid, Field: path.String(), Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) warnf(path *field.Path, format string, args ...any) {
	r.Warnings = append(r.Warnings, path.String()+": "+fmt.Sprintf(format, args...))
}

// SortedWarnings returns warnings sorted and without duplicates.
func SortedWarnings(w []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range w {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// lookup walks a nested map by keys.
func lookup(m map[string]any, keys ...string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func lookupString(m map[string]any, keys ...string) string {
	v, _ := lookup(m, keys...)
	s, _ := v.(string)
	return s
}

func lookupBool(m map[string]any, keys ...string) (bool, bool) {
	v, ok := lookup(m, keys...)
	b, isBool := v.(bool)
	return b, ok && isBool
}

// lookupInt reads a number of any numeric Go type; ok is false when absent or not a number.
func lookupInt(m map[string]any, keys ...string) (int64, bool) {
	v, ok := lookup(m, keys...)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case uint64:
		return int64(n), true
	}
	return 0, false
}

func pathOf(root *field.Path, keys ...string) *field.Path {
	p := root
	for _, k := range keys {
		p = p.Child(k)
	}
	return p
}
