// Package checks holds the render-time rules: every mistake in the seed guide that a check can
// catch, and the cross-artifact rules that tie the eksctl configs, the Cilium values and the
// Gateway API objects together. Each check is a pure function of its inputs returning every
// problem with a field path; ownership and capacity rules come from schema/rules and
// schema/capacity, shared with the webhook.
package checks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
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

// Lines formats errors as "path: what is wrong (what is allowed)", one per problem.
func Lines(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		if e == nil {
			continue
		}
		detail := e.Detail
		switch {
		case detail == "":
			out = append(out, e.Error())
			continue
		case e.Type == field.ErrorTypeNotFound:
			detail = fmt.Sprintf("%v not found (%s)", e.BadValue, detail)
		}
		out = append(out, e.Field+": "+detail)
	}
	return out
}

// Rekey rewrites list indexes in error paths into the names the declaration uses (the CUE
// shape is keyed by name): teams[0] -> teams[team-a], gateways[0].listeners[1] ->
// gateways[web].listeners[https], nodeGroups[2] -> nodeGroups[general].
func Rekey(env model.Environment, errs field.ErrorList) field.ErrorList {
	out := make(field.ErrorList, 0, len(errs))
	for _, e := range errs {
		c := *e
		c.Field = rekeyPath(env, c.Field)
		out = append(out, &c)
	}
	return out
}

func rekeyPath(env model.Environment, p string) string {
	replaceIndex := func(p, list string, name func(i int) (string, bool)) (string, int) {
		prefix := list + "["
		i := strings.Index(p, prefix)
		if i < 0 {
			return p, -1
		}
		end := strings.Index(p[i:], "]")
		if end < 0 {
			return p, -1
		}
		n, err := strconv.Atoi(p[i+len(prefix) : i+end])
		if err != nil {
			return p, -1
		}
		key, ok := name(n)
		if !ok {
			return p, -1
		}
		return p[:i] + prefix + key + p[i+end:], n
	}
	p, _ = replaceIndex(p, "teams", func(i int) (string, bool) {
		if i < len(env.Teams) {
			return env.Teams[i].Name, true
		}
		return "", false
	})
	p, _ = replaceIndex(p, "nodeGroups", func(i int) (string, bool) {
		if i < len(env.NodeGroups) {
			return env.NodeGroups[i].Name, true
		}
		return "", false
	})
	if rest, ok := strings.CutPrefix(p, "vpc.subnets["); ok {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			if i, err := strconv.Atoi(rest[:end]); err == nil && i < len(env.VPC.Subnets) {
				sn := env.VPC.Subnets[i]
				p = "vpc.subnets[" + sn.Kind + "][" + sn.AZ + "]" + rest[end+1:]
			}
		}
	}
	var g int
	p, g = replaceIndex(p, "gateways", func(i int) (string, bool) {
		if i < len(env.Gateways) {
			return env.Gateways[i].Name, true
		}
		return "", false
	})
	if g >= 0 {
		p, _ = replaceIndex(p, "listeners", func(i int) (string, bool) {
			if i < len(env.Gateways[g].Listeners) {
				return env.Gateways[g].Listeners[i].Name, true
			}
			return "", false
		})
	}
	return p
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
