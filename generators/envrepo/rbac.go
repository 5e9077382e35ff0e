package envrepo

import (
	"fmt"
	"reflect"
	"strings"
)

const rbacGroup = "rbac.authorization.k8s.io"

// Widening calls out an RBAC object that grants more than before: a Role or ClusterRole whose
// rules grant a verb, resource, API group, resource name or URL not granted before (wildcards
// named as such), or a binding that binds new subjects or another role.
type Widening struct {
	Object ObjectID `json:"object"`
	// Grants says what is new, one line per rule or subject.
	Grants []string `json:"grants"`
	// Wildcard is true when a newly granted verb, resource, API group or URL is "*".
	Wildcard bool `json:"wildcard"`
}

// widened compares the RBAC content of an object before (nil when added) and after.
func widened(old, new *object) (Widening, bool) {
	w := Widening{Object: new.id}
	switch {
	case new.isKind(rbacGroup, "Role"), new.isKind(rbacGroup, "ClusterRole"):
		oldRules := []rbacRule{}
		if old != nil {
			oldRules = rulesOf(old.doc)
		}
		for i, r := range rulesOf(new.doc) {
			if line, wild := r.uncovered(oldRules); line != "" {
				w.Grants = append(w.Grants, fmt.Sprintf("rules[%d]: %s", i, line))
				w.Wildcard = w.Wildcard || wild
			}
		}
		if agg := get(new.doc, "aggregationRule"); agg != nil && (old == nil || !reflect.DeepEqual(agg, get(old.doc, "aggregationRule"))) {
			w.Grants = append(w.Grants, "aggregationRule: gains the rules of every ClusterRole its selectors match")
		}
	case new.isKind(rbacGroup, "RoleBinding"), new.isKind(rbacGroup, "ClusterRoleBinding"):
		if old != nil && !reflect.DeepEqual(get(old.doc, "roleRef"), get(new.doc, "roleRef")) {
			w.Grants = append(w.Grants, fmt.Sprintf("roleRef: now %s", describe(get(new.doc, "roleRef"))))
		}
		before := map[string]bool{}
		if old != nil {
			for _, s := range list(get(old.doc, "subjects")) {
				before[describe(s)] = true
			}
		}
		for i, s := range list(get(new.doc, "subjects")) {
			if d := describe(s); !before[d] {
				w.Grants = append(w.Grants, fmt.Sprintf("subjects[%d]: binds %s", i, d))
			}
		}
	}
	return w, len(w.Grants) > 0
}

// rbacRule is one PolicyRule, read leniently from YAML.
type rbacRule struct {
	groups, resources, verbs, names, urls []string
}

func rulesOf(doc any) []rbacRule {
	var out []rbacRule
	for _, r := range list(get(doc, "rules")) {
		out = append(out, rbacRule{
			groups:    stringItems(get(r, "apiGroups")),
			resources: stringItems(get(r, "resources")),
			verbs:     stringItems(get(r, "verbs")),
			names:     stringItems(get(r, "resourceNames")),
			urls:      stringItems(get(r, "nonResourceURLs")),
		})
	}
	return out
}

// grant is one (apiGroup, resource, resourceName) or URL with one verb. name "" = every name.
type grant struct{ group, resource, name, url, verb string }

func (r rbacRule) grants() []grant {
	var out []grant
	names := r.names
	if len(names) == 0 {
		names = []string{""}
	}
	for _, v := range r.verbs {
		for _, g := range r.groups {
			for _, res := range r.resources {
				for _, n := range names {
					out = append(out, grant{group: g, resource: res, name: n, verb: v})
				}
			}
		}
		for _, u := range r.urls {
			out = append(out, grant{url: u, verb: v})
		}
	}
	return out
}

// covers reports whether the rule already grants g, with the API server's matching: "*" verb,
// group and resource, "*/subresource", "prefix*" URLs, and resourceNames restricting a rule.
func (r rbacRule) covers(g grant) bool {
	if !matchAny(r.verbs, g.verb, false) {
		return false
	}
	if g.url != "" {
		return matchAny(r.urls, g.url, true)
	}
	if !matchAny(r.groups, g.group, false) || !matchResource(r.resources, g.resource) {
		return false
	}
	if len(r.names) == 0 {
		return true
	}
	return g.name != "" && contains(r.names, g.name)
}

// uncovered describes the grants of r that no old rule covers ("" when none) and whether one
// of them is a wildcard. Grants are grouped by the verbs newly granted on them: "grants verbs
// [create] on resources [gateways] in apiGroups [...]; verbs [get create] on ...".
func (r rbacRule) uncovered(old []rbacRule) (string, bool) {
	type target struct{ group, resource, name, url string }
	var order []target
	verbs := map[target][]string{}
	wild := false
	for _, g := range r.grants() {
		covered := false
		for _, o := range old {
			if o.covers(g) {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		wild = wild || g.verb == "*" || g.group == "*" || g.resource == "*" || strings.HasPrefix(g.resource, "*/") || strings.HasSuffix(g.url, "*")
		t := target{g.group, g.resource, g.name, g.url}
		if _, ok := verbs[t]; !ok {
			order = append(order, t)
		}
		verbs[t] = addUnique(verbs[t], g.verb)
	}
	if len(order) == 0 {
		return "", false
	}
	// Merge targets that gained the same verbs in the same API group.
	type cluster struct {
		verbs, group           string
		isURL                  bool
		resources, names, urls []string
	}
	var clusters []*cluster
	byKey := map[string]*cluster{}
	for _, t := range order {
		key := fmt.Sprintf("%s|%s|%v", strings.Join(verbs[t], " "), t.group, t.url != "")
		c, ok := byKey[key]
		if !ok {
			c = &cluster{verbs: strings.Join(verbs[t], " "), group: t.group, isURL: t.url != ""}
			byKey[key] = c
			clusters = append(clusters, c)
		}
		if c.isURL {
			c.urls = addUnique(c.urls, t.url)
			continue
		}
		c.resources = addUnique(c.resources, t.resource)
		if t.name != "" {
			c.names = addUnique(c.names, t.name)
		}
	}
	var parts []string
	for _, c := range clusters {
		if c.isURL {
			parts = append(parts, fmt.Sprintf("verbs [%s] on nonResourceURLs [%s]", c.verbs, strings.Join(c.urls, " ")))
			continue
		}
		part := fmt.Sprintf("verbs [%s] on resources [%s] in apiGroup %q", c.verbs, strings.Join(c.resources, " "), c.group)
		if len(c.names) > 0 {
			part += fmt.Sprintf(" named [%s]", strings.Join(c.names, " "))
		}
		parts = append(parts, part)
	}
	prefix := "grants "
	if wild {
		prefix = "wildcard: grants "
	}
	return prefix + strings.Join(parts, "; ") + " not granted before", wild
}

func matchAny(allowed []string, v string, prefix bool) bool {
	for _, a := range allowed {
		if a == "*" || a == v || prefix && strings.HasSuffix(a, "*") && strings.HasPrefix(v, strings.TrimSuffix(a, "*")) {
			return true
		}
	}
	return false
}

func matchResource(allowed []string, res string) bool {
	for _, a := range allowed {
		if a == "*" || a == res {
			return true
		}
		if sub, ok := strings.CutPrefix(a, "*/"); ok {
			if i := strings.Index(res, "/"); i >= 0 && res[i+1:] == sub {
				return true
			}
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func addUnique(list []string, v string) []string {
	if contains(list, v) {
		return list
	}
	return append(list, v)
}

// get returns m[key] when v is a map, nil otherwise.
func get(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// stringItems returns the string items of a YAML list, ignoring anything else.
func stringItems(v any) []string {
	var out []string
	for _, it := range list(v) {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// describe renders a subject or roleRef as "Kind namespace/name".
func describe(v any) string {
	m, _ := v.(map[string]any)
	kind, _ := m["kind"].(string)
	name, _ := m["name"].(string)
	ns, _ := m["namespace"].(string)
	if ns != "" {
		name = ns + "/" + name
	}
	return strings.TrimSpace(kind + " " + name)
}
