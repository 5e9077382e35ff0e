package envrepo

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"
	sigsjson "sigs.k8s.io/json"
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

// widened compares the RBAC content of an object before (nil when added) and after. An old
// object that does not decode counts as granting nothing; a new one is called out whole.
func widened(old, new *object) (Widening, bool) {
	w := Widening{Object: new.id}
	role := new.isKind(rbacGroup, "Role") || new.isKind(rbacGroup, "ClusterRole")
	if !role && !new.isKind(rbacGroup, "RoleBinding") && !new.isKind(rbacGroup, "ClusterRoleBinding") {
		return w, false
	}
	n, err := rbacOf(new)
	if err != nil {
		w.Grants = append(w.Grants, fmt.Sprintf("is not readable as RBAC (%v): review what it grants by hand", err))
		return w, true
	}
	var o rbacObject
	if old != nil {
		o, _ = rbacOf(old)
	}
	if role {
		for i, r := range n.Rules {
			if line, wild := uncovered(r, o.Rules); line != "" {
				w.Grants = append(w.Grants, fmt.Sprintf("rules[%d]: %s", i, line))
				w.Wildcard = w.Wildcard || wild
			}
		}
		if n.AggregationRule != nil && (old == nil || !reflect.DeepEqual(n.AggregationRule, o.AggregationRule)) {
			w.Grants = append(w.Grants, "aggregationRule: gains the rules of every ClusterRole its selectors match")
		}
		return w, len(w.Grants) > 0
	}
	if old != nil && !reflect.DeepEqual(o.RoleRef, n.RoleRef) {
		w.Grants = append(w.Grants, fmt.Sprintf("roleRef: now %s", describe(n.RoleRef.Kind, "", n.RoleRef.Name)))
	}
	before := map[string]bool{}
	for _, s := range o.Subjects {
		before[describe(s.Kind, s.Namespace, s.Name)] = true
	}
	for i, s := range n.Subjects {
		if d := describe(s.Kind, s.Namespace, s.Name); !before[d] {
			w.Grants = append(w.Grants, fmt.Sprintf("subjects[%d]: binds %s", i, d))
		}
	}
	return w, len(w.Grants) > 0
}

// rbacObject is what a Role, ClusterRole, RoleBinding or ClusterRoleBinding grants.
type rbacObject struct {
	Rules           []rbacv1.PolicyRule     `json:"rules"`
	AggregationRule *rbacv1.AggregationRule `json:"aggregationRule"`
	RoleRef         rbacv1.RoleRef          `json:"roleRef"`
	Subjects        []rbacv1.Subject        `json:"subjects"`
}

// rbacOf decodes an object's RBAC fields with the API server's JSON decoder (field names
// case-sensitive, a value of the wrong type an error).
func rbacOf(o *object) (rbacObject, error) {
	var r rbacObject
	data, err := json.Marshal(o.doc)
	if err == nil {
		err = sigsjson.UnmarshalCaseSensitivePreserveInts(data, &r)
	}
	return r, err
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

// describe renders a subject or roleRef as "Kind namespace/name".
func describe(kind, namespace, name string) string {
	if namespace != "" {
		name = namespace + "/" + name
	}
	return strings.TrimSpace(kind + " " + name)
}
