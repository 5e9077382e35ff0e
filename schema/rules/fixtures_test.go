package rules

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/schema/model"
)

// testPolicy: two teams sharing shared.example.com by path, one Gateway with a shared HTTP
// listener, per-team HTTPS listeners and TLS/TCP/UDP listeners.
func testPolicy() model.Policy {
	return model.Policy{
		Environment:        "test",
		PlatformNamespaces: []string{"gateways", "enigate-system"},
		Teams: []model.TeamPolicy{
			{Name: "team-a", Namespaces: []string{"a", "a2"}, Hostnames: []string{"*.team-a.example.com", "a.example.com"},
				SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/api"}}},
				Backends:    []model.BackendTarget{{Kind: "Service", Namespace: "shared-svc", Name: "db"}}},
			{Name: "team-b", Namespaces: []string{"b"}, Hostnames: []string{"*.team-b.example.com"},
				SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/apiv2", "/web"}}}},
		},
		Gateways: []model.GatewayPolicy{{Namespace: "gateways", Name: "public", Listeners: []model.ListenerPolicy{
			{Name: "http", Port: 80, Protocol: "HTTP", Teams: []string{"team-a", "team-b"}, Shared: true},
			{Name: "https-a", Port: 443, Protocol: "HTTPS", Hostname: "*.team-a.example.com", Teams: []string{"team-a"}},
			{Name: "https-b", Port: 443, Protocol: "HTTPS", Hostname: "*.team-b.example.com", Teams: []string{"team-b"}},
			{Name: "tls-a", Port: 8443, Protocol: "TLS", Teams: []string{"team-a"}},
			{Name: "tcp-a", Port: 9000, Protocol: "TCP", Teams: []string{"team-a"}},
			{Name: "udp-b", Port: 5353, Protocol: "UDP", Teams: []string{"team-b"}},
		}}},
		Capacity: model.CapacityPolicy{Enforcement: "deny", FirstInterfaceIndex: 0, HostNetworkPods: 2},
	}
}

func mustIndex(t testing.TB, p model.Policy) *Index {
	t.Helper()
	ix, errs := CompilePolicy(p)
	if len(errs) > 0 {
		t.Fatalf("policy: %v", errs.ToAggregate())
	}
	return ix
}

// testCluster holds cluster facts for the rules (a data fixture, as the webhook's cache would).
type testCluster struct {
	gateways map[string][]string
	grants   map[string][]gwv1b1.ReferenceGrant
}

func (c testCluster) Known() bool { return true }
func (c testCluster) GatewayListeners(ns, name string) ([]string, bool) {
	l, ok := c.gateways[ns+"/"+name]
	return l, ok
}
func (c testCluster) ReferenceGrants(ns string) []gwv1b1.ReferenceGrant { return c.grants[ns] }

func liveCluster(grants ...gwv1b1.ReferenceGrant) testCluster {
	c := testCluster{gateways: map[string][]string{"gateways/public": {"http", "https-a", "https-b", "tls-a", "tcp-a", "udp-b"}},
		grants: map[string][]gwv1b1.ReferenceGrant{}}
	for _, g := range grants {
		c.grants[g.Namespace] = append(c.grants[g.Namespace], g)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// parent is a parentRef to gateways/public; section and port may be empty/0.
func parent(section string, port int32) gwv1.ParentReference {
	ref := gwv1.ParentReference{Name: "public", Namespace: ptr(gwv1.Namespace("gateways"))}
	if section != "" {
		ref.SectionName = ptr(gwv1.SectionName(section))
	}
	if port != 0 {
		ref.Port = ptr(gwv1.PortNumber(port))
	}
	return ref
}

type httpOpt func(*gwv1.HTTPRoute)

func httpRoute(ns string, hosts []string, opts ...httpOpt) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"}}
	for _, h := range hosts {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	r.Spec.ParentRefs = []gwv1.ParentReference{parent("http", 0)}
	r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc"}}}}}}
	for _, o := range opts {
		o(r)
	}
	return r
}

func withParents(refs ...gwv1.ParentReference) httpOpt {
	return func(r *gwv1.HTTPRoute) { r.Spec.ParentRefs = refs }
}

func withPaths(typ gwv1.PathMatchType, values ...string) httpOpt {
	return func(r *gwv1.HTTPRoute) {
		var ms []gwv1.HTTPRouteMatch
		for _, v := range values {
			ms = append(ms, gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(typ), Value: ptr(v)}})
		}
		r.Spec.Rules[0].Matches = ms
	}
}

func withBackend(ns, name string) httpOpt {
	return func(r *gwv1.HTTPRoute) {
		r.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(name), Namespace: ptr(gwv1.Namespace(ns))}}}}
	}
}

func grant(ns, fromNS, toName string) gwv1b1.ReferenceGrant {
	g := gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "g"},
		Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: GatewayGroup, Kind: KindHTTPRoute, Namespace: gwv1b1.Namespace(fromNS)}},
			To:   []gwv1b1.ReferenceGrantTo{{Group: "", Kind: "Service"}}}}
	if toName != "" {
		g.Spec.To[0].Name = ptr(gwv1b1.ObjectName(toName))
	}
	return g
}

// checkResult requires exactly the errors in want (substrings, order as returned).
func checkResult(t *testing.T, res Result, want []string) {
	t.Helper()
	checkErrors(t, res.Errors, want)
	if len(res.Rules) != len(res.Errors) {
		t.Errorf("%d rules for %d errors", len(res.Rules), len(res.Errors))
	}
}

func joinWarnings(w []string) string { return strings.Join(w, "\n") }

// toSection is a parentRef to section of gateways/public.
func toSection(section string) []gwv1.ParentReference {
	return []gwv1.ParentReference{parent(section, 0)}
}

func hostnamesOf(hosts []string) []gwv1.Hostname {
	var out []gwv1.Hostname
	for _, h := range hosts {
		out = append(out, gwv1.Hostname(h))
	}
	return out
}

// grpcRoute is GRPCRoute ns/g on section; svc "" matches every method.
func grpcRoute(ns string, hosts []string, section, svc string) *gwv1.GRPCRoute {
	r := &gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "g"}}
	r.Spec.ParentRefs, r.Spec.Hostnames = toSection(section), hostnamesOf(hosts)
	rule := gwv1.GRPCRouteRule{}
	if svc != "" {
		rule.Matches = []gwv1.GRPCRouteMatch{{Method: &gwv1.GRPCMethodMatch{Service: ptr(svc)}}}
	}
	r.Spec.Rules = []gwv1.GRPCRouteRule{rule}
	return r
}

func tlsRoute(ns string, hosts []string, section string) *gwv1a2.TLSRoute {
	r := &gwv1a2.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "t"}}
	r.Spec.ParentRefs, r.Spec.Hostnames = toSection(section), hostnamesOf(hosts)
	return r
}

func tcpRoute(ns, section string) *gwv1a2.TCPRoute {
	r := &gwv1a2.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "t"}}
	r.Spec.ParentRefs = toSection(section)
	return r
}

func udpRoute(ns, section string) *gwv1a2.UDPRoute {
	r := &gwv1a2.UDPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "u"}}
	r.Spec.ParentRefs = toSection(section)
	return r
}
