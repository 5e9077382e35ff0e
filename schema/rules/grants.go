package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// ValidateReferenceGrant checks a ReferenceGrant written in a tenant namespace: every to entry
// names its target (to.name) and grants only kinds the policy lets teams reference (Service,
// plus the kinds in any team's backends). Grants in platform namespaces pass.
func ValidateReferenceGrant(ix *Index, g *gwv1b1.ReferenceGrant) Result {
	var res Result
	if ix.IsPlatform(g.Namespace) {
		return res
	}
	if ix.TeamOf(g.Namespace) == "" {
		res.deny(RuleNamespace, field.Forbidden(field.NewPath("metadata", "namespace"),
			fmt.Sprintf("namespace %q belongs to no team in policy %q (grants live in a team's or a platform namespace)", g.Namespace, ix.Policy.Environment)))
		return res
	}
	toPath := field.NewPath("spec", "to")
	for i, to := range g.Spec.To {
		p := toPath.Index(i)
		if to.Name == nil || *to.Name == "" {
			res.deny(RuleGrant, field.Required(p.Child("name"), "a tenant grant must name the one object it shares (to.name); without it every object of the kind is shared"))
		}
		key := string(to.Group) + "/" + string(to.Kind)
		if !ix.grantKinds[key] {
			res.deny(RuleGrant, field.NotSupported(p.Child("kind"), key, ix.GrantKinds()))
		}
	}
	return res
}

// GrantKinds lists the group/kind pairs tenants may grant, sorted ("/Service" is core Service).
func (ix *Index) GrantKinds() []string {
	out := make([]string, 0, len(ix.grantKinds))
	for k := range ix.grantKinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsPolicyWriter reports whether a user (with groups) is a policy writer: one of writers by
// name or group, or a service account of a platform namespace. Policy writers write the policy
// ConfigMap and manage ReferenceGrants outside team namespaces.
func IsPolicyWriter(ix *Index, user string, groups []string, writers []string) bool {
	for _, w := range writers {
		if w == user || slices.Contains(groups, w) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok && ix != nil {
		if ns, _, ok := strings.Cut(rest, ":"); ok && ix.IsPlatform(ns) {
			return true
		}
	}
	return false
}

// ValidatePolicyObjectWrite denies writes to the policy ConfigMap by anyone but the policy
// writers (IsPolicyWriter).
func ValidatePolicyObjectWrite(ix *Index, user string, groups []string, writers []string) Result {
	var res Result
	if IsPolicyWriter(ix, user, groups, writers) {
		return res
	}
	res.deny(RulePolicy, field.Forbidden(field.NewPath("metadata", "name"),
		fmt.Sprintf("the enigate policy is platform-owned; user %q may not change it (writers: %s, or service accounts in platform namespaces)", user, strings.Join(writers, ", "))))
	return res
}

// ValidateReferenceGrantBy is ValidateReferenceGrant for a known writer: in a namespace that
// belongs to no team (where the platform renders grants, e.g. for certificates or shared
// services) a policy writer's grant passes; RBAC decides who may write there at all.
func ValidateReferenceGrantBy(ix *Index, g *gwv1b1.ReferenceGrant, policyWriter bool) Result {
	if policyWriter && ix.TeamOf(g.Namespace) == "" {
		return Result{}
	}
	return ValidateReferenceGrant(ix, g)
}
