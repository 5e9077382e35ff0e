package rules

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

func TestHostnameCovers(t *testing.T) {
	tests := []struct {
		name           string
		pattern, host  string
		covers, overlp bool
	}{
		{"exact equal", "a.example.com", "a.example.com", true, true},
		{"exact different", "a.example.com", "b.example.com", false, false},
		{"wildcard covers one label", "*.example.com", "a.example.com", true, true},
		{"wildcard covers two labels", "*.example.com", "a.b.example.com", true, true},
		{"wildcard not apex", "*.example.com", "example.com", false, false},
		{"wildcard covers narrower wildcard", "*.example.com", "*.a.example.com", true, true},
		{"narrower wildcard does not cover wider", "*.a.example.com", "*.example.com", false, true},
		{"wildcard suffix is per label", "*.example.com", "badexample.com", false, false},
		{"wildcard vs wildcard sibling", "*.a.example.com", "*.b.example.com", false, false},
		{"exact does not cover wildcard", "a.example.com", "*.example.com", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostnameCovers(tt.pattern, tt.host); got != tt.covers {
				t.Errorf("HostnameCovers(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.covers)
			}
			if got := HostnamesOverlap(tt.pattern, tt.host); got != tt.overlp {
				t.Errorf("HostnamesOverlap(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.overlp)
			}
		})
	}
}

func TestNormalizeAndProblem(t *testing.T) {
	tests := []struct {
		in, norm string
		bad      bool
	}{
		{"API.Example.COM.", "api.example.com", false},
		{"*", "*", true},
		{"*.", "*", true},
		{"*.com", "*.com", true},
		{"a.*.example.com", "a.*.example.com", true},
		{"*a.example.com", "*a.example.com", true},
		{"a..example.com", "a..example.com", true},
		{"", "", true},
		{"*.Team-A.example.com", "*.team-a.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n := NormalizeHostname(tt.in)
			if n != tt.norm {
				t.Errorf("NormalizeHostname(%q) = %q, want %q", tt.in, n, tt.norm)
			}
			if got := HostnameProblem(n) != ""; got != tt.bad {
				t.Errorf("HostnameProblem(%q) = %q, want bad=%v", n, HostnameProblem(n), tt.bad)
			}
		})
	}
}

func TestPathOverlap(t *testing.T) {
	tests := []struct {
		a, b    string
		within  bool // a within b
		overlap bool
	}{
		{"/api/v1", "/api", true, true},
		{"/api", "/api/v1", false, true},
		{"/apiv2", "/api", false, false},
		{"/api/", "/api", true, true},
		{"/", "/api", false, true},
		{"/api", "/", true, true},
		{"//api//v1", "/api", true, true},
		{"/web", "/api", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := PathWithin(tt.a, tt.b); got != tt.within {
				t.Errorf("PathWithin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.within)
			}
			if got := PathPrefixesOverlap(tt.a, tt.b); got != tt.overlap {
				t.Errorf("PathPrefixesOverlap(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.overlap)
			}
		})
	}
}

func TestValidateDelegations(t *testing.T) {
	teamA := model.Team{Name: "team-a", Namespaces: []string{"a"}, Hostnames: []string{"*.team-a.example.com", "a.example.com"},
		SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/api"}}}}
	teamB := model.Team{Name: "team-b", Namespaces: []string{"b"}, Hostnames: []string{"*.team-b.example.com"},
		SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/apiv2", "/web"}}}}
	tests := []struct {
		name  string
		teams []model.Team
		want  []string // substrings of errors, in order; empty means valid
	}{
		{"disjoint teams", []model.Team{teamA, teamB}, nil},
		{"wildcard over another team's name", []model.Team{teamA, {Name: "team-c", Hostnames: []string{"*.example.com"}}},
			[]string{`teams[team-c].hostnames[0]: Invalid value: "*.example.com": overlaps "*.team-a.example.com" of team "team-a" at teams[team-a].hostnames[0]`,
				`teams[team-a].sharedHosts[0].hostname: Invalid value: "shared.example.com": overlaps exclusive hostname "*.example.com"`}},
		{"same exact name", []model.Team{teamA, {Name: "team-c", Hostnames: []string{"a.example.com"}}},
			[]string{`teams[team-c].hostnames[0]: Invalid value: "a.example.com": overlaps "a.example.com" of team "team-a" at teams[team-a].hostnames[1]`}},
		{"name under other team's wildcard", []model.Team{teamA, {Name: "team-c", Hostnames: []string{"x.team-a.example.com"}}},
			[]string{`overlaps "*.team-a.example.com"`}},
		{"bare star", []model.Team{{Name: "t", Hostnames: []string{"*"}}}, []string{"bare *"}},
		{"not normalised", []model.Team{{Name: "t", Hostnames: []string{"A.example.com."}}}, []string{`write "a.example.com"`}},
		{"shared prefixes overlap per segment", []model.Team{teamA, {Name: "team-c", SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/api/v1"}}}}},
			[]string{`teams[team-c].sharedHosts[0].pathPrefixes[0]: Invalid value: "/api/v1": overlaps prefix "/api" of team "team-a"`}},
		{"root prefix overlaps all", []model.Team{teamA, {Name: "team-c", SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/"}}}}},
			[]string{`overlaps prefix "/api"`}},
		{"shared host without prefixes", []model.Team{{Name: "t", SharedHosts: []model.SharedHost{{Hostname: "s.example.com"}}}},
			[]string{"teams[t].sharedHosts[0].pathPrefixes: Required value"}},
		{"shared wildcard", []model.Team{{Name: "t", SharedHosts: []model.SharedHost{{Hostname: "*.s.example.com", PathPrefixes: []string{"/"}}}}},
			[]string{"one concrete hostname"}},
		{"namespace in two teams", []model.Team{teamA, {Name: "team-c", Namespaces: []string{"a"}}},
			[]string{`teams[team-c].namespaces[0]: Invalid value: "a": namespace already belongs to team "team-a"`}},
		{"duplicate team", []model.Team{{Name: "t"}, {Name: "t"}}, []string{"teams[t].name: Duplicate value"}},
		{"bad prefix", []model.Team{{Name: "t", SharedHosts: []model.SharedHost{{Hostname: "s.example.com", PathPrefixes: []string{"api"}}}}},
			[]string{"must start with /"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateDelegations(tt.teams, field.NewPath("teams"))
			checkErrors(t, errs, tt.want)
		})
	}
}

func TestValidateGatewayListeners(t *testing.T) {
	env := model.Environment{
		Teams: []model.Team{{Name: "team-a", Hostnames: []string{"*.team-a.example.com"}}},
		Gateways: []model.Gateway{{Name: "gw", Namespace: "gateways", Listeners: []model.Listener{
			{Name: "ok", Hostname: "*.team-a.example.com", Teams: []string{"team-a"}},
			{Name: "outside", Hostname: "b.example.com", Teams: []string{"team-a"}},
			{Name: "ghost", Teams: []string{"team-z"}},
			{Name: "all", AllowAll: true, Teams: []string{"team-a"}},
		}}},
	}
	errs := ValidateGatewayListeners(env, field.NewPath("gateways"))
	checkErrors(t, errs, []string{
		`gateways[gw].listeners[outside].hostname: Invalid value: "b.example.com": listener of team "team-a" has a hostname outside`,
		`gateways[gw].listeners[ghost].teams[0]: Not found: "team-z"`,
		`gateways[gw].listeners[all].allowAll`,
	})
}

// checkErrors requires exactly len(want) errors when want is set, each containing the
// substring at the same index (order as returned); with want empty, no errors.
func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), errs.ToAggregate())
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
		}
	}
}

// TestValidateDelegationsMatchesPairwise checks the linear conflict index against the pairwise
// definition (HostnamesOverlap, PathPrefixesOverlap): a claim is refused exactly when an
// earlier claim of another team overlaps it.
func TestValidateDelegationsMatchesPairwise(t *testing.T) {
	names := []string{"example.com", "a.example.com", "*.example.com", "*.a.example.com", "b.a.example.com", "*.b.a.example.com", "c.example.org", "*.example.org"}
	paths := []string{"/", "/api", "/api/v1", "/apiv2", "/api/v1/x", "/web"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var teams []model.Team
		type claim struct{ team, value, path string }
		var hosts, prefixes []claim
		for ti := range 1 + rnd.IntN(4) {
			tm := model.Team{Name: fmt.Sprintf("t%d", ti)}
			for j := range rnd.IntN(3) {
				h := names[rnd.IntN(len(names))]
				tm.Hostnames = append(tm.Hostnames, h)
				hosts = append(hosts, claim{tm.Name, h, fmt.Sprintf("teams[%s].hostnames[%d]", tm.Name, j)})
			}
			if rnd.IntN(2) == 0 {
				sh := model.SharedHost{Hostname: "shared.example.net"}
				for k := range 1 + rnd.IntN(2) {
					p := paths[rnd.IntN(len(paths))]
					sh.PathPrefixes = append(sh.PathPrefixes, p)
					prefixes = append(prefixes, claim{tm.Name, p, fmt.Sprintf("teams[%s].sharedHosts[0].pathPrefixes[%d]", tm.Name, k)})
				}
				tm.SharedHosts = []model.SharedHost{sh}
			}
			teams = append(teams, tm)
		}
		want := map[string]bool{}
		for _, set := range []struct {
			claims  []claim
			overlap func(a, b string) bool
		}{{hosts, HostnamesOverlap}, {prefixes, PathPrefixesOverlap}} {
			for i, a := range set.claims {
				for _, b := range set.claims[:i] {
					if a.team == b.team && a.value == b.value || a.team != b.team && set.overlap(a.value, b.value) {
						want[a.path] = true
						break
					}
				}
			}
		}
		got := map[string]bool{}
		for _, e := range ValidateDelegations(teams, field.NewPath("teams")) {
			if !strings.Contains(e.Field, "sharedHosts[0].hostname") {
				got[e.Field] = true
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: teams %+v\nrefused %v\nwant    %v", round, teams, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}
}
