package envrepo

import (
	"fmt"
	"reflect"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"
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
		oldRules := []rbacv1.PolicyRule{}
		if old != nil {
			oldRules = rulesOf(old.doc)
		}
		for i, r := range rulesOf(new.doc) {
			if line, wild := uncovered(r, oldRules); line != "" {
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

// rulesOf reads the rules of a Role or ClusterRole leniently from YAML.
func rulesOf(doc any) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range list(get(doc, "rules")) {
		out = append(out, rbacv1.PolicyRule{
			APIGroups:       stringItems(get(r, "apiGroups")),
			Resources:       stringItems(get(r, "resources")),
			Verbs:           stringItems(get(r, "verbs")),
			ResourceNames:   stringItems(get(r, "resourceNames")),
			NonResourceURLs: stringItems(get(r, "nonResourceURLs")),
		})
	}
	return out
}

// uncovered describes what rule r grants that no old rule covers ("" when nothing) and
// whether any of it is a wildcard. Coverage is the API server's own (k8s.io/component-helpers
// auth/rbac/validation.Covers, which the RBAC escalation check uses): "*" verbs, groups and
// resources, "*/subresource", "prefix*" URLs, resourceNames restricting a rule. The uncovered
// one-verb grants are grouped by the verbs newly granted on them: "grants verbs [create] on
// resources [gateways] in apiGroup "..."; verbs [get create] on ...".
func uncovered(r rbacv1.PolicyRule, old []rbacv1.PolicyRule) (string, bool) {
	type target struct{ group, resource, name, url string }
	var order []target
	verbs := map[target][]string{}
	wild := false
	_, grants := rbacvalidation.Covers(old, []rbacv1.PolicyRule{r})
	for _, g := range grants {
		t := target{first(g.APIGroups), first(g.Resources), first(g.ResourceNames), first(g.NonResourceURLs)}
		verb := first(g.Verbs)
		wild = wild || verb == "*" || t.group == "*" || t.resource == "*" || strings.HasPrefix(t.resource, "*/") || strings.HasSuffix(t.url, "*")
		if _, ok := verbs[t]; !ok {
			order = append(order, t)
		}
		verbs[t] = addUnique(verbs[t], verb)
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

// first is the one item of a broken-down rule's list, "" when it has none.
func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
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
