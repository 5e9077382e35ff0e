package rules

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// Route kinds and API groups the rules know.
const (
	GatewayGroup  = gwv1.GroupName
	XGatewayGroup = "gateway.networking.x-k8s.io"

	KindHTTPRoute    = "HTTPRoute"
	KindGRPCRoute    = "GRPCRoute"
	KindTLSRoute     = "TLSRoute"
	KindTCPRoute     = "TCPRoute"
	KindUDPRoute     = "UDPRoute"
	KindGateway      = "Gateway"
	KindXListenerSet = "XListenerSet"
	// KindListenerSet is the standard-channel ListenerSet (gateway.networking.k8s.io/v1, Gateway
	// API v1.5+), the same spec as XListenerSet (v1.6.3 config/crd/standard).
	KindListenerSet = "ListenerSet"
)

// Route is any Gateway API route reduced to what ownership rules judge. Build it with
// FromHTTPRoute, FromGRPCRoute, FromTLSRoute, FromTCPRoute or FromUDPRoute.
type Route struct {
	Kind      string
	Namespace string
	Name      string
	// HasHostnames is false for kinds without spec.hostnames (TCPRoute, UDPRoute).
	HasHostnames bool
	Hostnames    []string
	ParentRefs   []ParentRef
	// Matches are the request paths the route claims; a match on every path is "/".
	// PathMatching is false for kinds that cannot be confined to paths (TLS, TCP, UDP).
	PathMatching bool
	Matches      []PathMatch
	BackendRefs  []BackendRef
	// UseDefaultGateways is spec.useDefaultGateways (attach without parentRefs).
	UseDefaultGateways string
}

// ParentRef is a route's parentRefs entry with defaults applied.
type ParentRef struct {
	Group, Kind, Namespace, Name string
	SectionName                  string
	Port                         int32
	At                           Loc
}

// PathMatch is one path a route matches: Type is PathPrefix, Exact or RegularExpression.
type PathMatch struct {
	Type  string
	Value string
	At    Loc
}

// BackendRef is a backend reference with defaults applied.
type BackendRef struct {
	Group, Kind, Namespace, Name string
	At                           Loc
}

// Cluster answers what the rules need from the live cluster (the webhook's informer cache).
// Implementations must not block on the network. Known is false when no cache is available;
// the rules then judge against the policy only.
type Cluster interface {
	Known() bool
	// GatewayListeners returns the listener names of a Gateway and whether it exists.
	GatewayListeners(namespace, name string) ([]string, bool)
	// ReferenceGrants in namespace.
	ReferenceGrants(namespace string) []gwv1b1.ReferenceGrant
}

// NoCluster is a Cluster with no facts (policy-only checks, render time).
type NoCluster struct{}

func (NoCluster) Known() bool                                      { return false }
func (NoCluster) GatewayListeners(string, string) ([]string, bool) { return nil, false }
func (NoCluster) ReferenceGrants(string) []gwv1b1.ReferenceGrant   { return nil }

// Result is a rule's verdict: Errors deny (with field paths), Warnings are advisories.
type Result struct {
	Errors   field.ErrorList
	Warnings []string
	// Rules names the rules that produced each error (same order), for metrics.
	Rules []string
}

// MaxReported is how many violations one answer lists; the rest are only counted. An answer
// then costs the same whatever a request holds: k8s.io/apimachinery's aggregate error (used by
// apierrors.NewInvalid and ErrorList.ToAggregate) joins messages by string concatenation,
// quadratic in their number.
const MaxReported = 50

// Summary lists the first max errors, one per line, and counts the rest.
func Summary(errs field.ErrorList, max int) string {
	var b strings.Builder
	for i, e := range errs {
		if i == max {
			fmt.Fprintf(&b, "\n(and %d more)", len(errs)-max)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (r *Result) deny(rule string, e *field.Error) {
	r.Errors = append(r.Errors, e)
	r.Rules = append(r.Rules, rule)
}

func (r *Result) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Rule names used in Result.Rules and metrics.
const (
	RuleNamespace   = "namespace"
	RuleHostname    = "hostname"
	RuleSharedHost  = "shared-listener-hostnames"
	RuleParentRef   = "parent-ref"
	RulePath        = "shared-host-path"
	RulePathForm    = "path-form"
	RuleBackendRef  = "backend-ref-grant"
	RuleGrant       = "reference-grant"
	RuleGateway     = "gateway"
	RuleListenerSet = "listener-set"
	RuleCapacity    = "capacity"
	RulePolicy      = "policy-object"
)

// ValidateRoute applies the ownership rules to a route in a tenant namespace:
//  1. every hostname lies inside the team's delegation, and no wildcard covers another
//     team's names;
//  2. a route on a shared listener declares hostnames;
//  3. parentRefs only to Gateways/listeners the team may use, which exist;
//  4. on a shared host, path matches only within the team's prefixes (per segment);
//  5. cross-namespace backendRefs are allowed by the policy and named by a ReferenceGrant.
//
// Routes in platform namespaces are not tenant writes and pass.
func ValidateRoute(ix *Index, r Route, c Cluster) Result {
	var res Result
	if c == nil {
		c = NoCluster{}
	}
	if ix.IsPlatform(r.Namespace) {
		return res
	}
	team := ix.TeamOf(r.Namespace)
	if team == "" {
		res.deny(RuleNamespace, field.Forbidden(field.NewPath("metadata", "namespace"),
			fmt.Sprintf("namespace %q belongs to no team in policy %q (routes live in a team's namespaces)", r.Namespace, ix.Policy.Environment)))
		return res
	}
	hosts := validateRouteHostnames(ix, team, r, &res)
	validateParentRefs(ix, team, r, c, &res)
	paths := validatePathForms(r, &res)
	validateSharedHostPaths(ix, team, r, hosts, paths, &res)
	validateBackendRefs(ix, team, r, c, &res)
	return res
}

func hostnamesPath() *field.Path { return field.NewPath("spec", "hostnames") }

// validateRouteHostnames is rule 1; it returns the normalised hostnames.
func validateRouteHostnames(ix *Index, team string, r Route, res *Result) []string {
	out := make([]string, len(r.Hostnames)) // aligned with r.Hostnames; "" for malformed
	for i, raw := range r.Hostnames {
		if h, ok := checkHostname(ix, team, raw, hostnamesPath().Index(i), res); ok {
			out[i] = h
		}
	}
	return out
}

// checkHostname judges one hostname of team at p; it returns the normalised name and
// whether it is well formed (ownership errors are recorded in res either way).
func checkHostname(ix *Index, team, raw string, p *field.Path, res *Result) (string, bool) {
	h := NormalizeHostname(raw)
	if msg := HostnameProblem(h); msg != "" {
		res.deny(RuleHostname, field.Invalid(p, raw, msg))
		return h, false
	}
	owner := ix.OwnerOf(h)
	sharedTeams := ix.SharedTeams(h)
	switch {
	case owner == team:
	case owner == "" && slices.Contains(sharedTeams, team):
	case owner != "":
		res.deny(RuleHostname, field.Forbidden(p, fmt.Sprintf("hostname %q belongs to team %q, not %q (%s)", raw, owner, team, ix.teamDelegation(team))))
		return h, true
	case len(sharedTeams) > 0:
		res.deny(RuleHostname, field.Forbidden(p, fmt.Sprintf("shared host %q has no path prefix for team %q (teams on it: %s)", raw, team, strings.Join(sharedTeams, ", "))))
		return h, true
	default:
		res.deny(RuleHostname, field.Forbidden(p, fmt.Sprintf("hostname %q is delegated to no team; team %q may use: %s", raw, team, strings.TrimPrefix(ix.teamDelegation(team), "allowed: "))))
		return h, true
	}
	for _, n := range ix.NamesUnder(h) {
		if n.team != team {
			res.deny(RuleHostname, field.Forbidden(p, fmt.Sprintf("wildcard %q covers %q of team %q", raw, n.name, n.team)))
			break
		}
	}
	return h, true
}

// listenerAccepts reports whether a listener protocol carries the route kind.
func listenerAccepts(protocol, kind string) bool {
	switch kind {
	case KindHTTPRoute, KindGRPCRoute:
		return protocol == "HTTP" || protocol == "HTTPS"
	case KindTLSRoute:
		return protocol == "TLS"
	case KindTCPRoute:
		return protocol == "TCP" || protocol == "TLS"
	case KindUDPRoute:
		return protocol == "UDP"
	}
	return false
}

// validateParentRefs is rules 2 and 3.
func validateParentRefs(ix *Index, team string, r Route, c Cluster, res *Result) {
	if r.UseDefaultGateways != "" && r.UseDefaultGateways != "None" {
		res.deny(RuleParentRef, field.Forbidden(field.NewPath("spec", "useDefaultGateways"),
			"attaching to default Gateways bypasses listener ownership (name the Gateway in parentRefs)"))
	}
	for _, ref := range r.ParentRefs {
		switch {
		case ref.Group == GatewayGroup && ref.Kind == KindGateway:
		case ref.Group == XGatewayGroup && strings.HasSuffix(ref.Kind, "ListenerSet"), ref.Group == GatewayGroup && ref.Kind == KindListenerSet:
			if ix.TeamOf(ref.Namespace) != team {
				res.deny(RuleParentRef, field.Forbidden(ref.At.Path().Child("namespace"),
					fmt.Sprintf("ListenerSet %s/%s is not in a namespace of team %q", ref.Namespace, ref.Name, team)))
			}
			continue
		default:
			res.deny(RuleParentRef, field.NotSupported(ref.At.Path().Child("kind"), ref.Group+"/"+ref.Kind,
				[]string{GatewayGroup + "/" + KindGateway, GatewayGroup + "/" + KindListenerSet, XGatewayGroup + "/" + KindXListenerSet}))
			continue
		}
		gw, ok := ix.Gateway(ref.Namespace, ref.Name)
		if !ok {
			res.deny(RuleParentRef, field.Invalid(ref.At.Path().Child("name"), ref.Name, fmt.Sprintf("Gateway %s/%s is not in policy %q", ref.Namespace, ref.Name, ix.Policy.Environment)))
			continue
		}
		var live []string
		if c.Known() {
			var exists bool
			live, exists = c.GatewayListeners(ref.Namespace, ref.Name)
			if !exists {
				res.deny(RuleParentRef, field.Invalid(ref.At.Path().Child("name"), ref.Name, fmt.Sprintf("Gateway %s/%s does not exist in the cluster", ref.Namespace, ref.Name)))
				continue
			}
		}
		matched := 0
		for _, l := range gw.Listeners {
			if ref.SectionName != "" && l.Name != ref.SectionName {
				continue
			}
			if ref.Port != 0 && int32(l.Port) != ref.Port {
				if ref.SectionName != "" {
					res.deny(RuleParentRef, field.Invalid(ref.At.Path().Child("port"), ref.Port,
						fmt.Sprintf("listener %q of Gateway %s/%s listens on port %d", l.Name, ref.Namespace, ref.Name, l.Port)))
					matched = -1
				}
				continue
			}
			if !listenerAccepts(l.Protocol, r.Kind) {
				if ref.SectionName != "" {
					res.deny(RuleParentRef, field.Invalid(ref.At.Path().Child("sectionName"), ref.SectionName,
						fmt.Sprintf("listener protocol %s does not carry %s", l.Protocol, r.Kind)))
					matched = -1
				}
				continue
			}
			matched++
			lp := func() *field.Path {
				if ref.SectionName == "" {
					return ref.At.Path()
				}
				return ref.At.Path().Child("sectionName")
			}
			if !ix.ListenerOpen(ref.Namespace, ref.Name, l.Name, team) {
				hint := ""
				if ref.SectionName == "" {
					hint = "; without sectionName the route attaches to every matching listener, name one with sectionName"
				}
				res.deny(RuleParentRef, field.Forbidden(lp(), fmt.Sprintf("listener %q of Gateway %s/%s is not open to team %q (open to: %s)%s",
					l.Name, ref.Namespace, ref.Name, team, strings.Join(l.Teams, ", "), hint)))
				continue
			}
			if live != nil && !slices.Contains(live, l.Name) {
				res.deny(RuleParentRef, field.Invalid(lp(), l.Name, fmt.Sprintf("listener %q is not on Gateway %s/%s in the cluster", l.Name, ref.Namespace, ref.Name)))
			}
			if l.Shared && len(r.Hostnames) == 0 {
				hp := lp()
				if r.HasHostnames {
					hp = hostnamesPath()
				}
				res.deny(RuleSharedHost, field.Required(hp, fmt.Sprintf("listener %q of Gateway %s/%s is shared by teams %s: a route on it must declare hostnames",
					l.Name, ref.Namespace, ref.Name, strings.Join(l.Teams, ", "))))
			}
		}
		if matched == 0 {
			what := "no listener"
			if ref.SectionName != "" {
				what = fmt.Sprintf("no listener %q", ref.SectionName)
			}
			res.deny(RuleParentRef, field.Invalid(ref.At.Path(), ref.Name, fmt.Sprintf("%s of Gateway %s/%s carries %s%s", what, ref.Namespace, ref.Name, r.Kind, portSuffix(ref.Port))))
		}
	}
}

func portSuffix(p int32) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprintf(" on port %d", p)
}

// validatePathForms judges every PathPrefix and Exact path in its one normal form (CleanPath):
// a path that cannot be judged per segment is denied on any host. It returns the clean paths
// aligned with r.Matches ("" where denied).
func validatePathForms(r Route, res *Result) []string {
	out := make([]string, len(r.Matches))
	for i, m := range r.Matches {
		if m.Type == "RegularExpression" {
			continue
		}
		clean, problem := CleanPath(m.Value)
		if problem != "" {
			// A path without its leading slash is the CRD's CEL rule to refuse (it runs before
			// admission, and at render); the rules do not say it twice.
			if strings.HasPrefix(m.Value, "/") {
				res.deny(RulePathForm, field.Invalid(m.At.Path(), m.Value, problem))
			}
			continue
		}
		out[i] = clean
	}
	return out
}

// validateSharedHostPaths is rule 4: on a shared host, every path (clean, aligned with
// r.Matches) lies in the team's prefixes.
func validateSharedHostPaths(ix *Index, team string, r Route, hosts, paths []string, res *Result) {
	t := ix.teams[team]
	for i, h := range hosts {
		prefixes, ok := t.shared[h]
		if !ok {
			continue
		}
		if !r.PathMatching {
			res.deny(RulePath, field.Forbidden(hostnamesPath().Index(i),
				fmt.Sprintf("shared host %q is split by path prefix; a %s cannot be confined to paths (use an HTTPRoute or GRPCRoute)", h, r.Kind)))
			continue
		}
		for j, m := range r.Matches {
			if m.Type == "RegularExpression" {
				res.deny(RulePath, field.Forbidden(m.At.Path(), fmt.Sprintf("a regular expression cannot be confined to team %q's prefixes on shared host %q (use PathPrefix or Exact)", team, h)))
				continue
			}
			if paths[j] == "" {
				continue // denied by validatePathForms
			}
			within := false
			for _, p := range prefixes {
				if PathWithin(paths[j], p) {
					within = true
					break
				}
			}
			if !within {
				res.deny(RulePath, field.Forbidden(m.At.Path(), fmt.Sprintf("path %q on shared host %q is outside team %q's prefixes %s (judged per path segment)",
					m.Value, h, team, strings.Join(prefixes, ", "))))
			}
		}
	}
}

// validateBackendRefs is rule 5.
func validateBackendRefs(ix *Index, team string, r Route, c Cluster, res *Result) {
	t := ix.teams[team]
	for _, b := range r.BackendRefs {
		if b.Namespace == r.Namespace {
			continue
		}
		allowed := false
		for _, bt := range t.backends {
			kind := bt.Kind
			if kind == "" {
				kind = "Service"
			}
			if kind == b.Kind && bt.Namespace == b.Namespace && (bt.Name == "" || bt.Name == b.Name) {
				allowed = true
				break
			}
		}
		if !allowed {
			res.deny(RuleBackendRef, field.Forbidden(b.At.Path().Child("namespace"),
				fmt.Sprintf("team %q may not reference %s %s/%s across namespaces (policy teams[].backends)", team, b.Kind, b.Namespace, b.Name)))
			continue
		}
		if !c.Known() {
			res.warn("%s: ReferenceGrant for %s %s/%s not checked (no cluster cache)", b.At, b.Kind, b.Namespace, b.Name)
			continue
		}
		if !GrantAllows(c.ReferenceGrants(b.Namespace), GatewayGroup, r.Kind, r.Namespace, b.Group, b.Kind, b.Name) {
			res.deny(RuleBackendRef, field.Forbidden(b.At.Path(), fmt.Sprintf("no ReferenceGrant in namespace %q names %s %q for %s from namespace %q (a grant must set to.name)",
				b.Namespace, b.Kind, b.Name, r.Kind, r.Namespace)))
		}
	}
}

// GrantAllows reports whether one of grants (all in the target's namespace) lets objects of
// fromGroup/fromKind in fromNamespace reference the named target. Grants without to.name do
// not count: enigate requires every grant to name its target.
func GrantAllows(grants []gwv1b1.ReferenceGrant, fromGroup, fromKind, fromNamespace, toGroup, toKind, toName string) bool {
	for i := range grants {
		g := &grants[i]
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNamespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, to := range g.Spec.To {
			if string(to.Group) == toGroup && string(to.Kind) == toKind && to.Name != nil && string(*to.Name) == toName {
				return true
			}
		}
	}
	return false
}

// --- adapters from Gateway API types ---

func parentRefs(ns string, refs []gwv1.ParentReference, p Loc) []ParentRef {
	out := make([]ParentRef, 0, len(refs))
	for i, ref := range refs {
		pr := ParentRef{Group: GatewayGroup, Kind: KindGateway, Namespace: ns, Name: string(ref.Name), At: p.Index(i)}
		if ref.Group != nil {
			pr.Group = string(*ref.Group)
		}
		if ref.Kind != nil {
			pr.Kind = string(*ref.Kind)
		}
		if ref.Namespace != nil {
			pr.Namespace = string(*ref.Namespace)
		}
		if ref.SectionName != nil {
			pr.SectionName = string(*ref.SectionName)
		}
		if ref.Port != nil {
			pr.Port = int32(*ref.Port)
		}
		out = append(out, pr)
	}
	return out
}

func backendRef(ns string, ref gwv1.BackendObjectReference, p Loc) BackendRef {
	b := BackendRef{Group: "", Kind: "Service", Namespace: ns, Name: string(ref.Name), At: p}
	if ref.Group != nil {
		b.Group = string(*ref.Group)
	}
	if ref.Kind != nil {
		b.Kind = string(*ref.Kind)
	}
	if ref.Namespace != nil {
		b.Namespace = string(*ref.Namespace)
	}
	return b
}

func hostnames(hs []gwv1.Hostname) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h)
	}
	return out
}

func common(kind, ns, name string, spec gwv1.CommonRouteSpec, hs []gwv1.Hostname, withHostnames bool) Route {
	r := Route{Kind: kind, Namespace: ns, Name: name,
		ParentRefs:         parentRefs(ns, spec.ParentRefs, NewLoc("spec", "parentRefs")),
		UseDefaultGateways: string(spec.UseDefaultGateways)}
	if withHostnames {
		r.HasHostnames = true
		r.Hostnames = hostnames(hs)
	}
	return r
}

func mirrorRefs(ns string, filters []gwv1.HTTPRouteFilter, p Loc) []BackendRef {
	var out []BackendRef
	for i, f := range filters {
		if f.RequestMirror != nil {
			out = append(out, backendRef(ns, f.RequestMirror.BackendRef, p.Index(i).Child("requestMirror", "backendRef")))
		}
	}
	return out
}

// FromHTTPRoute reduces an HTTPRoute. A rule without matches, or a match without a path,
// matches every path ("/").
func FromHTTPRoute(o *gwv1.HTTPRoute) Route {
	r := common(KindHTTPRoute, o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Spec.Hostnames, true)
	r.PathMatching = true
	rulesPath := NewLoc("spec", "rules")
	for i, rule := range o.Spec.Rules {
		rp := rulesPath.Index(i)
		if len(rule.Matches) == 0 {
			r.Matches = append(r.Matches, PathMatch{Type: "PathPrefix", Value: "/", At: rp.Child("matches")})
		}
		for j, m := range rule.Matches {
			mp := rp.Child("matches").Index(j).Child("path")
			pm := PathMatch{Type: "PathPrefix", Value: "/", At: mp}
			if m.Path != nil {
				if m.Path.Type != nil {
					pm.Type = string(*m.Path.Type)
				}
				if m.Path.Value != nil {
					pm.Value = *m.Path.Value
				}
				pm.At = mp.Child("value")
			}
			r.Matches = append(r.Matches, pm)
		}
		r.BackendRefs = append(r.BackendRefs, mirrorRefs(o.Namespace, rule.Filters, rp.Child("filters"))...)
		for j, b := range rule.BackendRefs {
			bp := rp.Child("backendRefs").Index(j)
			r.BackendRefs = append(r.BackendRefs, backendRef(o.Namespace, b.BackendObjectReference, bp))
			r.BackendRefs = append(r.BackendRefs, mirrorRefs(o.Namespace, b.Filters, bp.Child("filters"))...)
		}
	}
	return r
}

// FromGRPCRoute reduces a GRPCRoute; a method match becomes the path /service/method that
// gRPC puts on the wire, and a match without service matches every path.
func FromGRPCRoute(o *gwv1.GRPCRoute) Route {
	r := common(KindGRPCRoute, o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Spec.Hostnames, true)
	r.PathMatching = true
	rulesPath := NewLoc("spec", "rules")
	grpcMirrors := func(filters []gwv1.GRPCRouteFilter, p Loc) {
		for i, f := range filters {
			if f.RequestMirror != nil {
				r.BackendRefs = append(r.BackendRefs, backendRef(o.Namespace, f.RequestMirror.BackendRef, p.Index(i).Child("requestMirror", "backendRef")))
			}
		}
	}
	for i, rule := range o.Spec.Rules {
		rp := rulesPath.Index(i)
		if len(rule.Matches) == 0 {
			r.Matches = append(r.Matches, PathMatch{Type: "PathPrefix", Value: "/", At: rp.Child("matches")})
		}
		for j, m := range rule.Matches {
			mp := rp.Child("matches").Index(j).Child("method")
			pm := PathMatch{Type: "PathPrefix", Value: "/", At: mp}
			if m.Method != nil {
				if m.Method.Type != nil && *m.Method.Type == gwv1.GRPCMethodMatchRegularExpression {
					pm.Type = "RegularExpression"
				} else if m.Method.Service != nil && *m.Method.Service != "" {
					pm.Value = "/" + *m.Method.Service
					if m.Method.Method != nil && *m.Method.Method != "" {
						pm.Type, pm.Value = "Exact", pm.Value+"/"+*m.Method.Method
					}
					pm.At = mp.Child("service")
				}
			}
			r.Matches = append(r.Matches, pm)
		}
		grpcMirrors(rule.Filters, rp.Child("filters"))
		for j, b := range rule.BackendRefs {
			bp := rp.Child("backendRefs").Index(j)
			r.BackendRefs = append(r.BackendRefs, backendRef(o.Namespace, b.BackendObjectReference, bp))
			grpcMirrors(b.Filters, bp.Child("filters"))
		}
	}
	return r
}

// plainBackends adds the backendRefs of n rules (TLS, TCP, UDP), rule i's from refs(i).
func plainBackends(r *Route, n int, refs func(i int) []gwv1.BackendRef) {
	for i := range n {
		for j, b := range refs(i) {
			r.BackendRefs = append(r.BackendRefs, backendRef(r.Namespace, b.BackendObjectReference, NewLoc("spec", "rules").Index(i).Child("backendRefs").Index(j)))
		}
	}
}

// FromTLSRoute reduces a TLSRoute (hostnames, no paths).
func FromTLSRoute(o *gwv1a2.TLSRoute) Route {
	r := common(KindTLSRoute, o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Spec.Hostnames, true)
	plainBackends(&r, len(o.Spec.Rules), func(i int) []gwv1.BackendRef { return o.Spec.Rules[i].BackendRefs })
	return r
}

// FromTCPRoute reduces a TCPRoute (no hostnames, no paths).
func FromTCPRoute(o *gwv1a2.TCPRoute) Route {
	r := common(KindTCPRoute, o.Namespace, o.Name, o.Spec.CommonRouteSpec, nil, false)
	plainBackends(&r, len(o.Spec.Rules), func(i int) []gwv1.BackendRef { return o.Spec.Rules[i].BackendRefs })
	return r
}

// FromUDPRoute reduces a UDPRoute (no hostnames, no paths).
func FromUDPRoute(o *gwv1a2.UDPRoute) Route {
	r := common(KindUDPRoute, o.Namespace, o.Name, o.Spec.CommonRouteSpec, nil, false)
	plainBackends(&r, len(o.Spec.Rules), func(i int) []gwv1.BackendRef { return o.Spec.Rules[i].BackendRefs })
	return r
}
