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

	// Exclusive names: disjoint across teams, and within a team no exact duplicates. Each
	// claim is judged against the claims before it (one line per offending claim, naming the
	// first conflict), in time linear in the claims: a policy object of a megabyte is judged in
	// milliseconds, never pairwise.
	seenHost := map[string]bool{}
	hosts := newConflictIndex('.')
	for _, a := range exclusive {
		key := a.team + "\x00" + a.host
		if seenHost[key] {
			errs = append(errs, field.Duplicate(a.path, a.host))
			continue
		}
		seenHost[key] = true
		rev := reverseLabels(a.host)
		if b := hosts.findName(a.team, rev); b != nil {
			errs = append(errs, field.Invalid(a.path, a.host,
				fmt.Sprintf("overlaps %q of team %q at %s (delegations must be disjoint)", b.value, b.team, b.path)))
		}
		hosts.add(rev, conflict{a.team, a.host, a.path})
	}
	// Shared hosts must not lie inside (or equal) another team's exclusive names.
	for _, s := range shared {
		rev := reverseLabels(s.host)
		if b := hosts.findName(s.team, rev); b != nil {
			errs = append(errs, field.Invalid(s.path, s.host,
				fmt.Sprintf("overlaps exclusive hostname %q of team %q at %s (a shared host must be outside every exclusive delegation)", b.value, b.team, b.path)))
		}
	}
	// Path prefixes on the same shared host: disjoint per segment across teams.
	seenPrefix := map[string]bool{}
	paths := newConflictIndex('/')
	for _, a := range prefixes {
		key := a.team + "\x00" + a.host + "\x00" + a.prefix
		if seenPrefix[key] {
			errs = append(errs, field.Duplicate(a.path, a.prefix))
			continue
		}
		seenPrefix[key] = true
		segs := strings.Join(append([]string{a.host}, PathSegments(a.prefix)...), "/")
		if b := paths.findPrefix(a.team, segs); b != nil {
			errs = append(errs, field.Invalid(a.path, a.prefix,
				fmt.Sprintf("overlaps prefix %q of team %q on shared host %q at %s (prefixes are compared per path segment)", b.value, b.team, a.host, b.path)))
		}
		paths.add(segs, conflict{a.team, a.prefix, a.path})
	}
	return errs
}

// conflict is a claim other claims may overlap: its team, the value claimed and where.
type conflict struct {
	team, value string
	path        *field.Path
}

// conflictIndex finds, among the claims added so far, one of another team that overlaps a new
// claim, in time linear in the key's labels rather than in the claims. A key is a list of
// labels from the most general, joined by sep: "com.example.a" for a.example.com,
// "com.example.*" for *.example.com, "shared.example.com/api/v1" for a path prefix. For every
// key it keeps the first claims of two distinct teams at that key and among all keys below it.
type conflictIndex struct {
	sep   byte
	exact map[string]*twoTeams
	below map[string]*twoTeams
}

type twoTeams struct{ first, other *conflict }

func (t *twoTeams) add(c conflict) {
	switch {
	case t.first == nil:
		t.first = &c
	case t.other == nil && c.team != t.first.team:
		t.other = &c
	}
}

// of returns a claim not of team, or nil.
func (t *twoTeams) of(team string) *conflict {
	switch {
	case t == nil:
		return nil
	case t.first != nil && t.first.team != team:
		return t.first
	default:
		return t.other
	}
}

func newConflictIndex(sep byte) *conflictIndex {
	return &conflictIndex{sep: sep, exact: map[string]*twoTeams{}, below: map[string]*twoTeams{}}
}

func (x *conflictIndex) add(key string, c conflict) {
	get := func(m map[string]*twoTeams, k string) *twoTeams {
		t := m[k]
		if t == nil {
			t = &twoTeams{}
			m[k] = t
		}
		return t
	}
	get(x.exact, key).add(c)
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == x.sep {
			get(x.below, key[:i]).add(c)
		}
	}
}

// ancestors calls f with every proper ancestor of key, nearest first, until f returns a claim.
func (x *conflictIndex) ancestors(key string, f func(anc string) *conflict) *conflict {
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == x.sep {
			if c := f(key[:i]); c != nil {
				return c
			}
		}
	}
	return nil
}

// findName returns a claim of another team overlapping hostname claim rev (reversed labels):
// the same name, a wildcard above it, or (for a wildcard, rev ending in ".*") a name below it.
func (x *conflictIndex) findName(team, rev string) *conflict {
	if c := x.exact[rev].of(team); c != nil {
		return c
	}
	base, wildcard := strings.CutSuffix(rev, ".*")
	if wildcard {
		if c := x.below[base].of(team); c != nil {
			return c
		}
	}
	return x.ancestors(base, func(anc string) *conflict { return x.exact[anc+".*"].of(team) })
}

// findPrefix returns a claim of another team overlapping path prefix claim key: the same
// prefix, a prefix above it or a prefix below it (per segment).
func (x *conflictIndex) findPrefix(team, key string) *conflict {
	if c := x.exact[key].of(team); c != nil {
		return c
	}
	if c := x.below[key].of(team); c != nil {
		return c
	}
	return x.ancestors(key, func(anc string) *conflict { return x.exact[anc].of(team) })
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
