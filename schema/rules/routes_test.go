package rules

import (
	"sort"
	"strings"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/model"
)

func TestValidateHTTPRoute(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	tests := []struct {
		name    string
		route   *gwv1.HTTPRoute
		cluster Cluster
		want    []string
	}{
		{"own exact host", httpRoute("a", []string{"a.example.com"}), nil, nil},
		{"own wildcard host", httpRoute("a", []string{"*.team-a.example.com"}), nil, nil},
		{"own name under own wildcard", httpRoute("a2", []string{"shop.team-a.example.com"}), nil, nil},
		{"uppercase and trailing dot of own host", httpRoute("a", []string{"A.Example.COM."}), nil, nil},
		{"another team's host", httpRoute("a", []string{"x.team-b.example.com"}), nil,
			[]string{`spec.hostnames[0]: Forbidden: hostname "x.team-b.example.com" belongs to team "team-b", not "team-a"`}},
		{"another team's host uppercase with trailing dot", httpRoute("a", []string{"X.TEAM-B.example.com."}), nil,
			[]string{`belongs to team "team-b"`}},
		{"wildcard over another team", httpRoute("a", []string{"*.example.com"}), nil,
			[]string{`spec.hostnames[0]: Forbidden: hostname "*.example.com" is delegated to no team`}},
		{"bare star", httpRoute("a", []string{"*"}), nil, []string{`spec.hostnames[0]: Invalid value: "*": bare *`}},
		{"undelegated host", httpRoute("a", []string{"evil.org"}), nil, []string{`"evil.org" is delegated to no team; team "team-a" may use: *.team-a.example.com, a.example.com`}},
		{"namespace of no team", httpRoute("stray", []string{"a.example.com"}), nil, []string{`metadata.namespace: Forbidden: namespace "stray" belongs to no team`}},
		{"platform namespace passes", httpRoute("gateways", []string{"anything.org"}), nil, nil},
		{"no hostnames on shared listener", httpRoute("a", nil), nil,
			[]string{`spec.hostnames: Required value: listener "http" of Gateway gateways/public is shared by teams team-a, team-b`}},
		{"no hostnames on own listener", httpRoute("a", nil, withParents(parent("https-a", 0))), nil, nil},
		{"parentRef to another team's listener", httpRoute("a", []string{"a.example.com"}, withParents(parent("https-b", 0))), nil,
			[]string{`spec.parentRefs[0].sectionName: Forbidden: listener "https-b" of Gateway gateways/public is not open to team "team-a"`}},
		{"no sectionName attaches to every listener", httpRoute("a", []string{"a.example.com"}, withParents(parent("", 0))), nil,
			[]string{`listener "https-b" of Gateway gateways/public is not open to team "team-a" (open to: team-b); without sectionName`}},
		{"port 443 without sectionName hits team-b's listener", httpRoute("a", []string{"a.example.com"}, withParents(parent("", 443))), nil,
			[]string{`listener "https-b"`}},
		{"port 80 without sectionName is fine", httpRoute("a", []string{"a.example.com"}, withParents(parent("", 80))), nil, nil},
		{"sectionName with wrong port", httpRoute("a", []string{"a.example.com"}, withParents(parent("https-a", 80))), nil,
			[]string{`spec.parentRefs[0].port: Invalid value: 80: listener "https-a" of Gateway gateways/public listens on port 443`}},
		{"sectionName that does not exist", httpRoute("a", []string{"a.example.com"}, withParents(parent("nope", 0))), nil,
			[]string{`spec.parentRefs[0]: Invalid value: "public": no listener "nope" of Gateway gateways/public carries HTTPRoute`}},
		{"sectionName of a TCP listener", httpRoute("a", []string{"a.example.com"}, withParents(parent("tcp-a", 0))), nil,
			[]string{`spec.parentRefs[0].sectionName: Invalid value: "tcp-a": listener protocol TCP does not carry HTTPRoute`}},
		{"gateway not in policy", httpRoute("a", []string{"a.example.com"}, withParents(gwv1.ParentReference{Name: "rogue", Namespace: ptr(gwv1.Namespace("a"))})), nil,
			[]string{`spec.parentRefs[0].name: Invalid value: "rogue": Gateway a/rogue is not in policy "test"`}},
		{"parentRef namespace defaults to the route's", httpRoute("a", []string{"a.example.com"}, withParents(gwv1.ParentReference{Name: "public"})), nil,
			[]string{`Gateway a/public is not in policy`}},
		{"gateway missing in the cluster", httpRoute("a", []string{"a.example.com"}, withParents(parent("https-a", 0))), testCluster{},
			[]string{`spec.parentRefs[0].name: Invalid value: "public": Gateway gateways/public does not exist in the cluster`}},
		{"listener missing in the cluster", httpRoute("a", []string{"a.example.com"}, withParents(parent("https-a", 0))),
			testCluster{gateways: map[string][]string{"gateways/public": {"http"}}},
			[]string{`listener "https-a" is not on Gateway gateways/public in the cluster`}},
		{"mesh parentRef to a Service", httpRoute("a", []string{"a.example.com"}, withParents(gwv1.ParentReference{Group: ptr(gwv1.Group("")), Kind: ptr(gwv1.Kind("Service")), Name: "svc"})), nil,
			[]string{`spec.parentRefs[0].kind: Unsupported value: "/Service"`}},
		{"shared host path inside prefix", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api", "/api/v1")), nil, nil},
		{"shared host exact path inside prefix", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchExact, "/api/users")), nil, nil},
		// Paths are judged in one normal form (CleanPath): what cannot be judged per segment
		// is denied on any host, with one line per path.
		{"dot-dot segment out of own prefix", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api/../web")), nil,
			[]string{`spec.rules[0].matches[0].path.value: Invalid value: "/api/../web": path must not contain . or .. segments`}},
		{"dot-dot segment into own prefix", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/apiv2/../api/v1")), nil,
			[]string{`. or .. segments`}},
		{"dot segment", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api/./v1")), nil, []string{`. or .. segments`}},
		{"encoded dot-dot", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api/%2e%2E/web")), nil, []string{`also encoded as %2E`}},
		{"encoded slash", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchExact, "/api%2Fv1")), nil, []string{`encoded / or`}},
		{"backslash", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api\\..\\web")), nil, []string{`must not contain \`}},
		{"malformed escape", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api/%zz")), nil, []string{`malformed % escape`}},
		{"dot-dot on an exclusive host", httpRoute("a", []string{"a.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/x/../y")), nil, []string{`. or .. segments`}},
		{"encoded unreserved letters judged decoded", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/%61pi/v1", "/%77eb")), nil,
			[]string{`path "/%77eb" on shared host "shared.example.com" is outside team "team-a"'s prefixes /api`}},
		{"repeated slashes collapse", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "//api//v1")), nil, nil},
		{"shared host /apiv2 is team-b's", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/apiv2")), nil,
			[]string{`spec.rules[0].matches[0].path.value: Forbidden: path "/apiv2" on shared host "shared.example.com" is outside team "team-a"'s prefixes /api`}},
		{"shared host root path", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/")), nil,
			[]string{`path "/" on shared host`}},
		{"shared host without matches claims /", httpRoute("a", []string{"shared.example.com"}), nil,
			[]string{`spec.rules[0].matches: Forbidden: path "/" on shared host`}},
		{"shared host regex", httpRoute("a", []string{"shared.example.com"}, withPaths(gwv1.PathMatchRegularExpression, "/api.*")), nil,
			[]string{`spec.rules[0].matches[0].path.value: Forbidden: a regular expression cannot be confined`}},
		{"team-b /api/v1 on shared host", httpRoute("b", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/api/v1")), nil,
			[]string{`path "/api/v1" on shared host "shared.example.com" is outside team "team-b"'s prefixes /apiv2, /web`}},
		{"team-b /apiv2/x on shared host", httpRoute("b", []string{"shared.example.com"}, withPaths(gwv1.PathMatchPathPrefix, "/apiv2/x")), nil, nil},
		{"shared host of other teams only", httpRoute("c", []string{"shared.example.com"}), nil, []string{`namespace "c" belongs to no team`}},
		{"cross-namespace backend without grant", httpRoute("a", []string{"a.example.com"}, withBackend("shared-svc", "db")), liveCluster(),
			[]string{`spec.rules[0].backendRefs[0]: Forbidden: no ReferenceGrant in namespace "shared-svc" names Service "db" for HTTPRoute from namespace "a"`}},
		{"cross-namespace backend with grant", httpRoute("a", []string{"a.example.com"}, withBackend("shared-svc", "db")), liveCluster(grant("shared-svc", "a", "db")), nil},
		{"grant without to.name does not count", httpRoute("a", []string{"a.example.com"}, withBackend("shared-svc", "db")), liveCluster(grant("shared-svc", "a", "")),
			[]string{`no ReferenceGrant in namespace "shared-svc" names Service "db"`}},
		{"grant for another namespace does not count", httpRoute("a", []string{"a.example.com"}, withBackend("shared-svc", "db")), liveCluster(grant("shared-svc", "b", "db")),
			[]string{`no ReferenceGrant`}},
		{"cross-namespace backend not in policy", httpRoute("a", []string{"a.example.com"}, withBackend("b", "svc")), liveCluster(grant("b", "a", "svc")),
			[]string{`spec.rules[0].backendRefs[0].namespace: Forbidden: team "team-a" may not reference Service b/svc across namespaces`}},
		{"mirror to another namespace", httpRoute("a", []string{"a.example.com"}, func(r *gwv1.HTTPRoute) {
			r.Spec.Rules[0].Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{
				BackendRef: gwv1.BackendObjectReference{Name: "x", Namespace: ptr(gwv1.Namespace("b"))}}}}
		}), liveCluster(), []string{`spec.rules[0].filters[0].requestMirror.backendRef.namespace: Forbidden`}},
		{"useDefaultGateways", httpRoute("a", []string{"a.example.com"}, func(r *gwv1.HTTPRoute) { r.Spec.UseDefaultGateways = "All" }), nil,
			[]string{`spec.useDefaultGateways: Forbidden`}},
		{"every violation at once", httpRoute("a", []string{"x.team-b.example.com", "*"}, withParents(parent("https-b", 0))), nil,
			[]string{`spec.hostnames[0]: Forbidden`, `spec.hostnames[1]: Invalid value: "*"`, `spec.parentRefs[0].sectionName: Forbidden`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cluster
			if c == nil {
				c = liveCluster()
			}
			checkResult(t, ValidateRoute(ix, FromHTTPRoute(tt.route), c), tt.want)
			judgeCase(t, ix, tt.route, c, ValidateRoute(ix, FromHTTPRoute(tt.route), c))
		})
	}
}

// TestWildcardOverAnotherTeam covers a wildcard inside a team's delegation that still covers
// another team's name: only possible with nested delegations, which CompilePolicy refuses, so
// the index is built from a policy that skipped validation.
func TestWildcardOverAnotherTeam(t *testing.T) {
	p := testPolicy()
	p.Teams[0].Hostnames = append(p.Teams[0].Hostnames, "*.corp.example.com")
	p.Teams[1].Hostnames = append(p.Teams[1].Hostnames, "b.corp.example.com")
	if _, errs := CompilePolicy(p); len(errs) == 0 {
		t.Fatal("nested delegation accepted by CompilePolicy")
	}
	ix := mustIndex(t, testPolicy())
	ix.owners["*.corp.example.com"] = "team-a"
	ix.owners["b.corp.example.com"] = "team-b"
	ix.reversed = append(ix.reversed, reversedName{reverseLabels("b.corp.example.com"), "b.corp.example.com", "team-b", false})
	sort.Slice(ix.reversed, func(a, b int) bool { return ix.reversed[a].rev < ix.reversed[b].rev })
	res := ValidateRoute(ix, FromHTTPRoute(httpRoute("a", []string{"*.corp.example.com"})), liveCluster())
	checkResult(t, res, []string{`wildcard "*.corp.example.com" covers "b.corp.example.com" of team "team-b"`})
}

func TestOtherRouteKinds(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	tests := []struct {
		name  string
		route Route
		want  []string
	}{
		{"grpc another team's host", FromGRPCRoute(grpcRoute("a", []string{"x.team-b.example.com"}, "https-a", "")), []string{`belongs to team "team-b"`}},
		{"grpc no hostnames on shared listener", FromGRPCRoute(grpcRoute("a", nil, "http", "")), []string{`spec.hostnames: Required value`}},
		{"grpc service inside shared prefix", FromGRPCRoute(grpcRoute("a", []string{"shared.example.com"}, "http", "api")), nil},
		{"grpc service outside shared prefix", FromGRPCRoute(grpcRoute("a", []string{"shared.example.com"}, "http", "apiv2.Users")),
			[]string{`spec.rules[0].matches[0].method.service: Forbidden: path "/apiv2.Users"`}},
		{"grpc without method on shared host", FromGRPCRoute(grpcRoute("a", []string{"shared.example.com"}, "http", "")), []string{`spec.rules[0].matches: Forbidden: path "/"`}},
		{"tls own host", FromTLSRoute(tlsRoute("a", []string{"db.team-a.example.com"}, "tls-a")), nil},
		{"tls another team's host", FromTLSRoute(tlsRoute("a", []string{"db.team-b.example.com"}, "tls-a")), []string{`belongs to team "team-b"`}},
		{"tls on an HTTP listener", FromTLSRoute(tlsRoute("a", []string{"db.team-a.example.com"}, "https-a")), []string{`listener protocol HTTPS does not carry TLSRoute`}},
		{"tls on shared host", FromTLSRoute(tlsRoute("a", []string{"shared.example.com"}, "tls-a")), []string{`spec.hostnames[0]: Forbidden: shared host "shared.example.com" is split by path prefix; a TLSRoute cannot`}},
		{"tcp own listener", FromTCPRoute(tcpRoute("a", "tcp-a")), nil},
		{"tcp on the shared listener", FromTCPRoute(tcpRoute("a", "http")), []string{`listener protocol HTTP does not carry TCPRoute`}},
		{"udp another team's listener", FromUDPRoute(udpRoute("a", "udp-b")), []string{`listener "udp-b" of Gateway gateways/public is not open to team "team-a"`}},
		{"udp own listener", FromUDPRoute(udpRoute("b", "udp-b")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateRoute(ix, tt.route, liveCluster()), tt.want)
		})
	}
}

func TestNoClusterWarnsAboutGrants(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	res := ValidateRoute(ix, FromHTTPRoute(httpRoute("a", []string{"a.example.com"}, withBackend("shared-svc", "db"))), NoCluster{})
	checkResult(t, res, nil)
	if !strings.Contains(joinWarnings(res.Warnings), "ReferenceGrant for Service shared-svc/db not checked") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestCompilePolicyRejectsBrokenPolicies(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*model.Policy)
		want   string
	}{
		{"overlapping teams", func(p *model.Policy) { p.Teams[1].Hostnames = []string{"*.example.com"} }, `teams[team-b].hostnames[0]`},
		{"unknown listener team", func(p *model.Policy) { p.Gateways[0].Listeners[0].Teams = []string{"ghost"} }, `gateways[public].listeners[http].teams[0]: Not found: "ghost"`},
		{"gateway outside platform", func(p *model.Policy) { p.Gateways[0].Namespace = "a" }, `gateways[public].namespace: Invalid value: "a"`},
		{"team owns platform namespace", func(p *model.Policy) { p.Teams[0].Namespaces = []string{"gateways"} }, `teams[team-a].namespaces[0]`},
		{"bad enforcement", func(p *model.Policy) { p.Capacity.Enforcement = "maybe" }, `capacity.enforcement: Unsupported value: "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy()
			tt.mutate(&p)
			ix, errs := CompilePolicy(p)
			if ix != nil || len(errs) == 0 {
				t.Fatal("broken policy compiled")
			}
			if !strings.Contains(errs.ToAggregate().Error(), tt.want) {
				t.Errorf("errors %q, want %q", errs.ToAggregate(), tt.want)
			}
		})
	}
}
