package rules

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

// Index is a checked, compiled model.Policy for admission-time lookups. Build it with
// CompilePolicy; it is read-only afterwards and safe for concurrent use.
type Index struct {
	Policy   model.Policy
	teams    map[string]*teamIndex
	nsTeam   map[string]string
	platform map[string]bool
	gateways map[gatewayKey]*model.GatewayPolicy
	// owners maps a normalised exclusive hostname (exact or wildcard) to its team.
	owners map[string]string
	// sharedTeams maps a normalised shared host to the teams with prefixes on it.
	sharedTeams map[string][]string
	// reversed is every exclusive and shared name, labels reversed ("com.example.a"), sorted,
	// so the names under a wildcard are one contiguous range.
	reversed []reversedName
	// listenerTeams maps a listener to the teams it is open to.
	listenerTeams map[listenerKey]map[string]bool
	// grantKinds are the kinds tenants may grant in a ReferenceGrant ("group/Kind").
	grantKinds map[string]bool
}

type gatewayKey struct{ namespace, name string }

type listenerKey struct{ namespace, gateway, listener string }

type teamIndex struct {
	name      string
	hostnames []string            // normalised exclusive names
	shared    map[string][]string // normalised shared host -> path prefixes
	backends  []model.BackendTarget
}

type reversedName struct {
	rev    string
	name   string
	team   string
	shared bool
}

// Enforcement values of model.CapacityPolicy.
const (
	EnforcementDeny = "deny"
	EnforcementWarn = "warn"
)

// CompilePolicy checks p (delegations disjoint, listener teams exist, enforcement known) and
// indexes it. A policy with errors is not returned: the caller keeps its last good one.
func CompilePolicy(p model.Policy) (*Index, field.ErrorList) {
	var errs field.ErrorList
	teams := make([]model.Team, len(p.Teams))
	for i, t := range p.Teams {
		teams[i] = model.Team{Name: t.Name, Namespaces: t.Namespaces, Hostnames: t.Hostnames, SharedHosts: t.SharedHosts, Backends: t.Backends}
	}
	errs = append(errs, ValidateDelegations(teams, field.NewPath("teams"))...)
	ix := &Index{
		Policy: p, teams: map[string]*teamIndex{}, nsTeam: map[string]string{}, platform: map[string]bool{},
		gateways: map[gatewayKey]*model.GatewayPolicy{}, owners: map[string]string{}, sharedTeams: map[string][]string{},
		grantKinds: map[string]bool{"/Service": true}, listenerTeams: map[listenerKey]map[string]bool{},
	}
	for i, ns := range p.PlatformNamespaces {
		ix.platform[ns] = true
		if ns == "" {
			errs = append(errs, field.Required(field.NewPath("platformNamespaces").Index(i), "namespace name"))
		}
	}
	for i, t := range p.Teams {
		ti := &teamIndex{name: t.Name, shared: map[string][]string{}, backends: t.Backends}
		ix.teams[t.Name] = ti
		for j, ns := range t.Namespaces {
			if ix.platform[ns] {
				errs = append(errs, field.Invalid(keyed(field.NewPath("teams"), i, t.Name).Child("namespaces").Index(j), ns, "a platform namespace cannot belong to a team"))
			}
			ix.nsTeam[ns] = t.Name
		}
		for _, h := range t.Hostnames {
			n := NormalizeHostname(h)
			ti.hostnames = append(ti.hostnames, n)
			ix.owners[n] = t.Name
			ix.reversed = append(ix.reversed, reversedName{reverseLabels(n), n, t.Name, false})
		}
		for _, sh := range t.SharedHosts {
			n := NormalizeHostname(sh.Hostname)
			ti.shared[n] = append(ti.shared[n], sh.PathPrefixes...)
			ix.sharedTeams[n] = append(ix.sharedTeams[n], t.Name)
			ix.reversed = append(ix.reversed, reversedName{reverseLabels(n), n, t.Name, true})
		}
		for _, b := range t.Backends {
			kind := b.Kind
			if kind == "" {
				kind = "Service"
			}
			ix.grantKinds["/"+kind] = true
		}
	}
	sort.Slice(ix.reversed, func(a, b int) bool { return ix.reversed[a].rev < ix.reversed[b].rev })
	for i := range p.Gateways {
		g := &p.Gateways[i]
		gp := keyed(field.NewPath("gateways"), i, g.Name)
		key := gatewayKey{g.Namespace, g.Name}
		if _, dup := ix.gateways[key]; dup {
			errs = append(errs, field.Duplicate(gp, g.Namespace+"/"+g.Name))
		}
		ix.gateways[key] = g
		if !ix.platform[g.Namespace] {
			errs = append(errs, field.Invalid(gp.Child("namespace"), g.Namespace, "gateways live in platform namespaces only"))
		}
		for j, l := range g.Listeners {
			open := map[string]bool{}
			ix.listenerTeams[listenerKey{g.Namespace, g.Name, l.Name}] = open
			for k, tn := range l.Teams {
				open[tn] = true
				if _, ok := ix.teams[tn]; !ok {
					errs = append(errs, field.NotFound(keyed(gp.Child("listeners"), j, l.Name).Child("teams").Index(k), tn))
				}
			}
		}
	}
	switch p.Capacity.Enforcement {
	case EnforcementDeny, EnforcementWarn, "":
	default:
		errs = append(errs, field.NotSupported(field.NewPath("capacity", "enforcement"), p.Capacity.Enforcement, []string{EnforcementDeny, EnforcementWarn}))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ix, nil
}

// TeamOf returns the team owning namespace ns, or "".
func (ix *Index) TeamOf(ns string) string { return ix.nsTeam[ns] }

// IsPlatform reports whether ns is a platform namespace.
func (ix *Index) IsPlatform(ns string) bool { return ix.platform[ns] }

// Gateway returns the policy entry of a Gateway.
func (ix *Index) Gateway(ns, name string) (*model.GatewayPolicy, bool) {
	g, ok := ix.gateways[gatewayKey{ns, name}]
	return g, ok
}

// ListenerOpen reports whether listener of Gateway ns/gateway admits team.
func (ix *Index) ListenerOpen(ns, gateway, listener, team string) bool {
	return ix.listenerTeams[listenerKey{ns, gateway, listener}][team]
}

// OwnerOf returns the team whose exclusive delegation covers the normalised hostname h
// (exact or wildcard), or "". Shared hosts are not owned; see SharedTeams.
func (ix *Index) OwnerOf(h string) string {
	if t, ok := ix.owners[h]; ok {
		return t
	}
	rest := strings.TrimPrefix(h, "*.")
	for {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 {
			return ""
		}
		rest = rest[dot+1:]
		if t, ok := ix.owners["*."+rest]; ok {
			return t
		}
	}
}

// SharedTeams returns the teams with path prefixes on shared host h.
func (ix *Index) SharedTeams(h string) []string { return ix.sharedTeams[h] }

// NamesUnder returns every delegated name (exclusive or shared) a wildcard w covers, with its
// team. Non-wildcards cover nothing but themselves and return nil.
func (ix *Index) NamesUnder(w string) []reversedName {
	if !IsWildcard(w) {
		return nil
	}
	prefix := reverseLabels(w[2:]) + "."
	i := sort.Search(len(ix.reversed), func(i int) bool { return ix.reversed[i].rev >= prefix })
	var out []reversedName
	for ; i < len(ix.reversed) && strings.HasPrefix(ix.reversed[i].rev, prefix); i++ {
		out = append(out, ix.reversed[i])
	}
	return out
}

// reverseLabels turns a.b.example.com into com.example.b.a (a wildcard's "*" stays a label).
func reverseLabels(h string) string {
	labels := strings.Split(h, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

// teamDelegation describes a team's delegation for messages.
func (ix *Index) teamDelegation(team string) string {
	t := ix.teams[team]
	if t == nil {
		return "the team owns no hostnames"
	}
	var shared []model.SharedHost
	hosts := make([]string, 0, len(t.shared))
	for h := range t.shared {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		shared = append(shared, model.SharedHost{Hostname: h, PathPrefixes: t.shared[h]})
	}
	return describeDelegation(t.hostnames, shared)
}

func (ix *Index) String() string {
	return fmt.Sprintf("policy %q: %d teams, %d gateways", ix.Policy.Environment, len(ix.teams), len(ix.gateways))
}
