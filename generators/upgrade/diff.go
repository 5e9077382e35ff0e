package upgrade

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators"
)

// valuesFile is where the render puts the Cilium values.
const valuesFile = "cilium/values.yaml"

// renderedValueKeys are the leaf keys of the Cilium values in either render.
func renderedValueKeys(renders ...[]generators.File) []string {
	set := map[string]bool{}
	for _, files := range renders {
		for _, f := range files {
			if f.Path != valuesFile {
				continue
			}
			var v map[string]any
			if yaml.Unmarshal(f.Data, &v) != nil {
				continue
			}
			for _, k := range leafPaths(v, "") {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// identitiesFile holds the IAM policies of the operator and the load balancer controller.
const identitiesFile = "eksctl/identities.yaml"

// iamDiff compares the actions each identity of the rendered eksctl identities phase allows.
func iamDiff(old, new []generators.File) []IAMChange {
	a, b := identityActions(old), identityActions(new)
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	out := []IAMChange{}
	for _, n := range sortedKeys(names) {
		c := IAMChange{Identity: n}
		for _, x := range b[n] {
			if !slices.Contains(a[n], x) {
				c.Added = append(c.Added, x)
			}
		}
		for _, x := range a[n] {
			if !slices.Contains(b[n], x) {
				c.Removed = append(c.Removed, x)
			}
		}
		if len(c.Added) > 0 || len(c.Removed) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// identityActions maps "namespace/serviceaccount" to the sorted actions its policy allows, for
// Pod Identity associations and IRSA service accounts alike.
func identityActions(files []generators.File) map[string][]string {
	out := map[string][]string{}
	for _, f := range files {
		if f.Path != identitiesFile {
			continue
		}
		var doc map[string]any
		if yaml.Unmarshal(f.Data, &doc) != nil {
			continue
		}
		iam, _ := doc["iam"].(map[string]any)
		for _, key := range []string{"podIdentityAssociations", "serviceAccounts"} {
			list, _ := iam[key].([]any)
			for _, x := range list {
				m, _ := x.(map[string]any)
				name := fmt.Sprintf("%v/%v", m["namespace"], m["serviceAccountName"])
				if md, ok := m["metadata"].(map[string]any); ok {
					name = fmt.Sprintf("%v/%v", md["namespace"], md["name"])
				}
				var actions []string
				collectActions(m, &actions)
				slices.Sort(actions)
				out[name] = slices.Compact(actions)
			}
		}
	}
	return out
}

func collectActions(v any, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "Action" {
				switch a := x.(type) {
				case string:
					*out = append(*out, a)
				case []any:
					for _, s := range a {
						*out = append(*out, fmt.Sprint(s))
					}
				}
				continue
			}
			collectActions(x, out)
		}
	case []any:
		for _, x := range t {
			collectActions(x, out)
		}
	}
}

// fileDiff compares two renders file by file: unified diffs, and for the vendored Gateway API
// CRDs only their bundle versions and line counts.
func fileDiff(old, new []generators.File) []FileChange {
	a, b := map[string][]byte{}, map[string][]byte{}
	paths := map[string]bool{}
	for _, f := range old {
		a[f.Path] = f.Data
		paths[f.Path] = true
	}
	for _, f := range new {
		b[f.Path] = f.Data
		paths[f.Path] = true
	}
	out := []FileChange{}
	for _, p := range sortedKeys(paths) {
		x, inA := a[p]
		y, inB := b[p]
		var c FileChange
		switch {
		case !inA:
			c = FileChange{Path: p, Change: "added"}
		case !inB:
			c = FileChange{Path: p, Change: "removed"}
		case string(x) == string(y):
			continue
		default:
			c = FileChange{Path: p, Change: "changed"}
		}
		if strings.HasPrefix(p, "crds/gateway.networking.") {
			c.Summary = crdSummary(x, y)
		} else {
			c.Diff, _ = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(string(x)), B: difflib.SplitLines(string(y)),
				FromFile: "a/" + p, ToFile: "b/" + p, Context: 2,
			})
		}
		out = append(out, c)
	}
	return out
}

// crdSummary names the Gateway API bundle versions and channels of two CRD files and the lines
// each has.
func crdSummary(old, new []byte) string {
	describe := func(b []byte) string {
		if b == nil {
			return "absent"
		}
		var d struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				Versions []struct {
					Name   string `json:"name"`
					Served bool   `json:"served"`
				} `json:"versions"`
			} `json:"spec"`
		}
		_ = yaml.Unmarshal(b, &d)
		var served []string
		for _, v := range d.Spec.Versions {
			if v.Served {
				served = append(served, v.Name)
			}
		}
		return fmt.Sprintf("%s %s serving %s, %d lines", d.Metadata.Annotations["gateway.networking.k8s.io/bundle-version"],
			d.Metadata.Annotations["gateway.networking.k8s.io/channel"], strings.Join(served, ", "), strings.Count(string(b), "\n"))
	}
	return describe(old) + " -> " + describe(new)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
