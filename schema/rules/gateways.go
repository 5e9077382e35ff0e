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

// ValidateListenerSet checks a tenant's XListenerSet (gateway.networking.x-k8s.io/v1alpha1,
// the experimental ListenerSet of Gateway API v1.4) or ListenerSet (gateway.networking.k8s.io/v1,
// standard from v1.5, the same spec, decoded into the same type): it lives in a team namespace, attaches to
// a policy Gateway on which the team has a listener, and every listener has a hostname inside
// the team's delegation and no from: All.
func ValidateListenerSet(ix *Index, ls *gwxv1a1.XListenerSet) Result {
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
			checkHostname(ix, team, string(*l.Hostname), p.Child("hostname"), &res)
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
