package rules

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/model"
)

func deref[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// ValidateGateway checks a Gateway: only in platform namespaces, and no listener opens
// itself to every namespace (allowedRoutes.namespaces.from: All).
func ValidateGateway(ix *Index, g *gwv1.Gateway) Result {
	var res Result
	if !ix.IsPlatform(g.Namespace) {
		res.deny(RuleGateway, field.Forbidden(field.NewPath("metadata", "namespace"),
			fmt.Sprintf("Gateways live in platform namespaces only (%v)", ix.Policy.PlatformNamespaces)))
	}
	lp := field.NewPath("spec", "listeners")
	for i, l := range g.Spec.Listeners {
		if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil &&
			*l.AllowedRoutes.Namespaces.From == gwv1.NamespacesFromAll {
			res.deny(RuleGateway, field.NotSupported(lp.Index(i).Child("allowedRoutes", "namespaces", "from"), "All",
				[]string{"Same", "Selector"}))
		}
	}
	if al := g.Spec.AllowedListeners; al != nil && al.Namespaces != nil && al.Namespaces.From != nil && *al.Namespaces.From == gwv1.NamespacesFromAll {
		res.deny(RuleGateway, field.NotSupported(field.NewPath("spec", "allowedListeners", "namespaces", "from"), "All",
			[]string{"None", "Same", "Selector"}))
	}
	return res
}

// ValidateListenerSet is ValidateListenerSetIn without cluster facts.
func ValidateListenerSet(ix *Index, ls *gwxv1a1.XListenerSet) Result {
	return ValidateListenerSetIn(ix, ls, NoCluster{})
}

// ValidateListenerSetIn checks a tenant's XListenerSet (gateway.networking.x-k8s.io/v1alpha1,
// the experimental ListenerSet of Gateway API v1.4) or ListenerSet (gateway.networking.k8s.io/v1,
// standard from v1.5, the same spec, decoded into the same type): it lives in a team namespace, attaches to
// a policy Gateway on which the team has a listener, and every listener has a hostname inside
// the team's exclusive delegation (never a shared host, nor a wildcard over one: a listener
// takes every path of its host, and a route without hostnames inherits it), no from: All, and
// certificates only from the team's own namespaces, named by a ReferenceGrant when in another
// namespace.
func ValidateListenerSetIn(ix *Index, ls *gwxv1a1.XListenerSet, c Cluster) Result {
	if c == nil {
		c = NoCluster{}
	}
	var res Result
	if ix.IsPlatform(ls.Namespace) {
		return res
	}
	team := ix.TeamOf(ls.Namespace)
	if team == "" {
		res.deny(RuleNamespace, field.Forbidden(field.NewPath("metadata", "namespace"),
			fmt.Sprintf("namespace %q belongs to no team in policy %q", ls.Namespace, ix.Policy.Environment)))
		return res
	}
	pr := ls.Spec.ParentRef
	pp := field.NewPath("spec", "parentRef")
	ns := ls.Namespace
	if pr.Namespace != nil {
		ns = string(*pr.Namespace)
	}
	if (pr.Group != nil && string(*pr.Group) != GatewayGroup) || (pr.Kind != nil && string(*pr.Kind) != KindGateway) {
		res.deny(RuleListenerSet, field.NotSupported(pp.Child("kind"), fmt.Sprintf("%v/%v", deref(pr.Group), deref(pr.Kind)), []string{GatewayGroup + "/" + KindGateway}))
	} else if gw, ok := ix.Gateway(ns, string(pr.Name)); !ok {
		res.deny(RuleListenerSet, field.Invalid(pp.Child("name"), pr.Name, fmt.Sprintf("Gateway %s/%s is not in policy %q", ns, pr.Name, ix.Policy.Environment)))
	} else if !slices.ContainsFunc(gw.Listeners, func(l model.ListenerPolicy) bool { return slices.Contains(l.Teams, team) }) {
		res.deny(RuleListenerSet, field.Forbidden(pp.Child("name"), fmt.Sprintf("team %q has no listener on Gateway %s/%s", team, ns, pr.Name)))
	}
	lp := field.NewPath("spec", "listeners")
	for i, l := range ls.Spec.Listeners {
		p := lp.Index(i)
		if l.Hostname == nil || *l.Hostname == "" {
			res.deny(RuleListenerSet, field.Required(p.Child("hostname"), "a tenant listener must declare a hostname inside the team's delegation (without one it captures every host on its port)"))
		} else {
			before := len(res.Errors)
			h, ok := checkHostname(ix, team, string(*l.Hostname), p.Child("hostname"), &res)
			if shared := sharedHostUnder(ix, h); ok && len(res.Errors) == before && shared != "" {
				res.deny(RuleListenerSet, field.Forbidden(p.Child("hostname"), fmt.Sprintf("shared host %q is split by path prefix between teams; a listener takes every path of it "+
					"(attach an HTTPRoute confined to the team's prefixes to the platform's shared listener)", shared)))
			}
		}
		if l.TLS != nil {
			for j, ref := range l.TLS.CertificateRefs {
				checkCertificateRef(ix, team, ls, ref, p.Child("tls", "certificateRefs").Index(j), c, &res)
			}
		}
		if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil {
			switch *l.AllowedRoutes.Namespaces.From {
			case gwv1.NamespacesFromAll:
				res.deny(RuleListenerSet, field.NotSupported(p.Child("allowedRoutes", "namespaces", "from"), "All", []string{"Same"}))
			case gwv1.NamespacesFromSelector:
				res.warn("%s: from: Selector may admit routes of other teams' namespaces (prefer Same)", p.Child("allowedRoutes", "namespaces", "from"))
			}
		}
	}
	return res
}

// sharedHostUnder returns the shared host h is or covers (as a wildcard), or "".
func sharedHostUnder(ix *Index, h string) string {
	if len(ix.SharedTeams(h)) > 0 {
		return h
	}
	for _, n := range ix.NamesUnder(h) {
		if n.shared {
			return n.name
		}
	}
	return ""
}

// checkCertificateRef judges one certificateRef of a tenant listener: a Secret in the listener
// set's namespace, or in another namespace of the same team named by a ReferenceGrant from
// the XListenerSet's namespace (Gateway API's rule for cross-namespace references).
func checkCertificateRef(ix *Index, team string, ls *gwxv1a1.XListenerSet, ref gwv1.SecretObjectReference, p *field.Path, c Cluster, res *Result) {
	ns := ls.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	if ns == ls.Namespace {
		return
	}
	group, kind := deref(ref.Group), "Secret"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ix.TeamOf(ns) != team {
		res.deny(RuleListenerSet, field.Forbidden(p.Child("namespace"), fmt.Sprintf("a tenant listener's certificate lives in a namespace of team %q, not %q "+
			"(certificates of other teams and of the platform are served by the platform's listeners)", team, ns)))
		return
	}
	if !c.Known() {
		res.warn("%s: ReferenceGrant for %s %s/%s not checked (no cluster cache)", p, kind, ns, ref.Name)
		return
	}
	if !GrantAllows(c.ReferenceGrants(ns), XGatewayGroup, KindXListenerSet, ls.Namespace, group, kind, string(ref.Name)) {
		res.deny(RuleListenerSet, field.Forbidden(p, fmt.Sprintf("no ReferenceGrant in namespace %q names %s %q for %s from namespace %q (a grant must set to.name)",
			ns, kind, ref.Name, KindXListenerSet, ls.Namespace)))
	}
}
