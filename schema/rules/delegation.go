package rules

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

// ValidateDelegations checks the teams' ownership declarations at render time, so that at
// admission a hostname belongs to exactly one team or to none:
//   - names are normalised (lowercase, no trailing dot), no bare "*", wildcards only leftmost;
//   - exclusive hostnames are disjoint across teams, wildcard-aware (*.example.com overlaps
//     team-a.example.com), and no shared host lies inside another team's exclusive names;
//   - on a shared host used by several teams the path prefixes are disjoint per segment
//     (/api overlaps /api/v1, not /apiv2);
//   - a namespace belongs to one team.
//
// path is the field path of the teams list (e.g. field.NewPath("teams")).
func ValidateDelegations(teams []model.Team, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	type claim struct {
		team string
		host string
		path *field.Path
	}
	var exclusive, shared []claim
	type prefixClaim struct {
		team, host, prefix string
		path               *field.Path
	}
	var prefixes []prefixClaim
	nsOwner := map[string]string{}
	teamNames := map[string]bool{}

	for i, t := range teams {
		tp := keyed(path, i, t.Name)
		if t.Name == "" {
			errs = append(errs, field.Required(tp.Child("name"), "team name"))
		} else if teamNames[t.Name] {
			errs = append(errs, field.Duplicate(tp.Child("name"), t.Name))
		}
		teamNames[t.Name] = true
		for j, ns := range t.Namespaces {
			if owner, ok := nsOwner[ns]; ok && owner != t.Name {
				errs = append(errs, field.Invalid(tp.Child("namespaces").Index(j), ns,
					fmt.Sprintf("namespace already belongs to team %q (a namespace belongs to one team)", owner)))
				continue
			}
			nsOwner[ns] = t.Name
		}
		for j, h := range t.Hostnames {
			hp := tp.Child("hostnames").Index(j)
			if e := declaredHostnameError(h, hp); e != nil {
				errs = append(errs, e)
				continue
			}
			exclusive = append(exclusive, claim{t.Name, h, hp})
		}
		for j, sh := range t.SharedHosts {
			sp := tp.Child("sharedHosts").Index(j)
			hp := sp.Child("hostname")
			if e := declaredHostnameError(sh.Hostname, hp); e != nil {
				errs = append(errs, e)
				continue
			}
			if IsWildcard(sh.Hostname) {
				errs = append(errs, field.Invalid(hp, sh.Hostname, "a shared host must be one concrete hostname (wildcards only as exclusive hostnames)"))
				continue
			}
			shared = append(shared, claim{t.Name, sh.Hostname, hp})
			if len(sh.PathPrefixes) == 0 {
				errs = append(errs, field.Required(sp.Child("pathPrefixes"), "a shared host needs at least one path prefix"))
			}
			for k, p := range sh.PathPrefixes {
				pp := sp.Child("pathPrefixes").Index(k)
				if msg := PathProblem(p); msg != "" {
					errs = append(errs, field.Invalid(pp, p, msg))
					continue
				}
				prefixes = append(prefixes, prefixClaim{t.Name, sh.Hostname, p, pp})
			}
		}
	}

	// Exclusive names: disjoint across teams, and within a team no exact duplicates.
	for i := range exclusive {
		for j := range i {
			a, b := exclusive[i], exclusive[j]
			if a.team == b.team {
				if a.host == b.host {
					errs = append(errs, field.Duplicate(a.path, a.host))
				}
				continue
			}
			if HostnamesOverlap(a.host, b.host) {
				errs = append(errs, field.Invalid(a.path, a.host,
					fmt.Sprintf("overlaps %q of team %q at %s (delegations must be disjoint)", b.host, b.team, b.path)))
			}
		}
	}
	// Shared hosts must not lie inside (or cover) another team's exclusive names.
	for _, s := range shared {
		for _, e := range exclusive {
			if e.team != s.team && HostnamesOverlap(e.host, s.host) {
				errs = append(errs, field.Invalid(s.path, s.host,
					fmt.Sprintf("overlaps exclusive hostname %q of team %q at %s (a shared host must be outside every exclusive delegation)", e.host, e.team, e.path)))
			}
		}
	}
	// Path prefixes on the same shared host: disjoint per segment across teams.
	for i := range prefixes {
		for j := range i {
			a, b := prefixes[i], prefixes[j]
			if a.host != b.host {
				continue
			}
			if a.team == b.team {
				if a.prefix == b.prefix && a.path.String() != b.path.String() {
					errs = append(errs, field.Duplicate(a.path, a.prefix))
				}
				continue
			}
			if PathPrefixesOverlap(a.prefix, b.prefix) {
				errs = append(errs, field.Invalid(a.path, a.prefix,
					fmt.Sprintf("overlaps prefix %q of team %q on shared host %q at %s (prefixes are compared per path segment)", b.prefix, b.team, a.host, b.path)))
			}
		}
	}
	return errs
}

// declaredHostnameError checks one hostname in a declaration: it must already be normalised
// and well formed.
func declaredHostnameError(h string, p *field.Path) *field.Error {
	if n := NormalizeHostname(h); n != h {
		return field.Invalid(p, h, fmt.Sprintf("hostname must be normalised (write %q: lowercase, no trailing dot)", n))
	}
	if msg := HostnameProblem(h); msg != "" {
		return field.Invalid(p, h, msg)
	}
	return nil
}

// ValidateGatewayListeners checks the environment's Gateway listeners against its teams:
// every listener team exists, a shared listener (several teams) of an HTTP-family or TLS
// protocol has no catch-all use (routes must bring hostnames: checked at admission), no
// listener uses from: All, and a single-team listener's hostname lies inside that team's
// delegation.
func ValidateGatewayListeners(env model.Environment, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	teams := map[string]model.Team{}
	for _, t := range env.Teams {
		teams[t.Name] = t
	}
	for i, g := range env.Gateways {
		gp := keyed(path, i, g.Name)
		for j, l := range g.Listeners {
			lp := keyed(gp.Child("listeners"), j, l.Name)
			if l.AllowAll {
				errs = append(errs, field.Invalid(lp.Child("allowAll"), true, "from: All lets any namespace attach (use the teams list; rendered as from: Selector)"))
			}
			for k, tn := range l.Teams {
				if _, ok := teams[tn]; !ok {
					errs = append(errs, field.NotFound(lp.Child("teams").Index(k), tn))
				}
			}
			if l.Hostname == "" {
				continue
			}
			hp := lp.Child("hostname")
			if e := declaredHostnameError(l.Hostname, hp); e != nil {
				errs = append(errs, e)
				continue
			}
			if len(l.Teams) != 1 {
				continue
			}
			t, ok := teams[l.Teams[0]]
			if !ok {
				continue
			}
			if !delegationCovers(t.Hostnames, t.SharedHosts, l.Hostname) {
				errs = append(errs, field.Invalid(hp, l.Hostname,
					fmt.Sprintf("listener of team %q has a hostname outside the team's delegation (%s)", t.Name, describeDelegation(t.Hostnames, t.SharedHosts))))
			}
		}
	}
	return errs
}

// delegationCovers reports whether name lies inside the exclusive hostnames or is one of the
// shared hosts.
func delegationCovers(hostnames []string, sharedHosts []model.SharedHost, name string) bool {
	for _, h := range hostnames {
		if HostnameCovers(NormalizeHostname(h), name) {
			return true
		}
	}
	for _, sh := range sharedHosts {
		if NormalizeHostname(sh.Hostname) == name {
			return true
		}
	}
	return false
}

func describeDelegation(hostnames []string, sharedHosts []model.SharedHost) string {
	var parts []string
	parts = append(parts, hostnames...)
	for _, sh := range sharedHosts {
		parts = append(parts, sh.Hostname+" (paths "+strings.Join(sh.PathPrefixes, " ")+")")
	}
	if len(parts) == 0 {
		return "the team owns no hostnames"
	}
	return "allowed: " + strings.Join(parts, ", ")
}

// keyed is the path of a list item declared as a map entry: by its name (teams[team-a], as
// the declaration spells it and messages quote it), by index only when it has none.
func keyed(p *field.Path, i int, name string) *field.Path {
	if name == "" {
		return p.Index(i)
	}
	return p.Key(name)
}
