package rules

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/model"
)

func TestValidateReferenceGrant(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	secret := grant("a", "b", "tls")
	secret.Spec.To[0].Kind = "Secret"
	tests := []struct {
		name  string
		grant gwv1b1.ReferenceGrant
		want  []string
	}{
		{"named service", grant("a", "b", "svc"), nil},
		{"grant without to.name", grant("a", "b", ""), []string{`spec.to[0].name: Required value: a tenant grant must name the one object`}},
		{"secret not allowed", secret, []string{`spec.to[0].kind: Unsupported value: "/Secret": supported values: "/Service"`}},
		{"grant in a platform namespace", grant("gateways", "a", ""), nil},
		{"grant in a stray namespace", grant("stray", "a", "svc"), []string{`metadata.namespace: Forbidden`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateReferenceGrant(ix, &tt.grant), tt.want)
			judgeCase(t, ix, &tt.grant, nil, ValidateReferenceGrant(ix, &tt.grant))
		})
	}
}

func TestValidateGateway(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	gateway := func(ns string, from gwv1.FromNamespaces) *gwv1.Gateway {
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "g"}, Spec: gwv1.GatewaySpec{Listeners: []gwv1.Listener{
			{Name: "l", Port: 80, Protocol: "HTTP", AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &from}}}}}}
	}
	tests := []struct {
		name string
		gw   *gwv1.Gateway
		want []string
	}{
		{"platform gateway with selector", gateway("gateways", gwv1.NamespacesFromSelector), nil},
		{"from All", gateway("gateways", gwv1.NamespacesFromAll), []string{`spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "All"`}},
		{"tenant gateway", gateway("a", gwv1.NamespacesFromSame), []string{`metadata.namespace: Forbidden: Gateways live in platform namespaces only`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateGateway(ix, tt.gw), tt.want)
			judgeCase(t, ix, tt.gw, nil, ValidateGateway(ix, tt.gw))
		})
	}
}

func TestValidateListenerSet(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	ls := func(ns, gwName string, from gwv1.FromNamespaces, hosts ...string) *gwxv1a1.XListenerSet {
		o := &gwxv1a1.XListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ls"}}
		o.Spec.ParentRef = gwxv1a1.ParentGatewayReference{Name: gwv1.ObjectName(gwName), Namespace: ptr(gwv1.Namespace("gateways"))}
		for _, h := range hosts {
			l := gwxv1a1.ListenerEntry{Name: "l", Port: 443, Protocol: "HTTPS",
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr(from)}}}
			if h != "" {
				l.Hostname = ptr(gwv1.Hostname(h))
			}
			o.Spec.Listeners = append(o.Spec.Listeners, l)
		}
		return o
	}
	tests := []struct {
		name string
		ls   *gwxv1a1.XListenerSet
		want []string
	}{
		{"own hostname", ls("a", "public", gwv1.NamespacesFromSame, "api.team-a.example.com"), nil},
		{"another team's hostname", ls("a", "public", gwv1.NamespacesFromSame, "api.team-b.example.com"), []string{`spec.listeners[0].hostname: Forbidden: hostname "api.team-b.example.com" belongs to team "team-b"`}},
		{"no hostname", ls("a", "public", gwv1.NamespacesFromSame, ""), []string{`spec.listeners[0].hostname: Required value`}},
		{"from All", ls("a", "public", gwv1.NamespacesFromAll, "x.team-a.example.com"), []string{`spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "All"`}},
		{"unknown gateway", ls("a", "rogue", gwv1.NamespacesFromSame, "x.team-a.example.com"), []string{`spec.parentRef.name: Invalid value: "rogue"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateListenerSet(ix, tt.ls), tt.want)
			judgeCase(t, ix, tt.ls, nil, ValidateListenerSet(ix, tt.ls))
		})
	}
	withCert := func(certNS string) *gwxv1a1.XListenerSet {
		o := ls("a", "public", gwv1.NamespacesFromSame, "x.team-a.example.com")
		o.Spec.Listeners[0].TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "tls", Namespace: ptr(gwv1.Namespace(certNS))}}}
		return o
	}
	certGrant := func(ns, name string) gwv1b1.ReferenceGrant {
		return gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "g"}, Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: XGatewayGroup, Kind: KindXListenerSet, Namespace: "a"}},
			To:   []gwv1b1.ReferenceGrantTo{{Kind: "Secret", Name: ptr(gwv1b1.ObjectName(name))}}}}
	}
	clusterTests := []struct {
		name    string
		ls      *gwxv1a1.XListenerSet
		cluster Cluster
		want    []string
	}{
		// A listener on a shared host takes every path of it: a route without hostnames on it
		// would serve all teams' paths.
		{"shared host", ls("a", "public", gwv1.NamespacesFromSame, "shared.example.com"), nil,
			[]string{`spec.listeners[0].hostname: Forbidden: shared host "shared.example.com" is split by path prefix between teams`}},
		{"certificate in the listener set's namespace", withCert("a"), liveCluster(), nil},
		{"certificate of the platform", withCert("gateways"), liveCluster(certGrant("gateways", "tls")),
			[]string{`spec.listeners[0].tls.certificateRefs[0].namespace: Forbidden: a tenant listener's certificate lives in a namespace of team "team-a", not "gateways"`}},
		{"certificate of another team", withCert("b"), liveCluster(), []string{`not "b"`}},
		{"certificate in the team's other namespace without a grant", withCert("a2"), liveCluster(),
			[]string{`spec.listeners[0].tls.certificateRefs[0]: Forbidden: no ReferenceGrant in namespace "a2" names Secret "tls" for XListenerSet from namespace "a"`}},
		{"certificate in the team's other namespace with a grant", withCert("a2"), liveCluster(certGrant("a2", "tls")), nil},
	}
	for _, tt := range clusterTests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateListenerSetIn(ix, tt.ls, tt.cluster), tt.want)
		})
	}
	res := ValidateListenerSet(ix, ls("a", "public", gwv1.NamespacesFromSelector, "x.team-a.example.com"))
	if len(res.Errors) != 0 || !strings.Contains(joinWarnings(res.Warnings), "from: Selector") {
		t.Errorf("selector: errors %v warnings %q", res.Errors, res.Warnings)
	}
}

func TestValidateReferenceGrantBy(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	tests := []struct {
		name   string
		grant  gwv1b1.ReferenceGrant
		writer bool
		want   []string
	}{
		{"platform grant in a namespace of no team", grant("certs", "gateways", "wildcard"), true, nil},
		{"tenant grant in a namespace of no team", grant("certs", "a", "wildcard"), false, []string{`metadata.namespace: Forbidden`}},
		{"platform grant in a team namespace is judged", grant("a", "b", ""), true, []string{`spec.to[0].name: Required value`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, ValidateReferenceGrantBy(ix, &tt.grant, tt.writer), tt.want)
		})
	}
}

func TestValidatePolicyObjectWrite(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	writers := []string{"system:masters", "platform-admins"}
	tests := []struct {
		name   string
		user   string
		groups []string
		deny   bool
	}{
		{"cluster admin", "admin", []string{"system:masters"}, false},
		{"platform group", "alice", []string{"platform-admins"}, false},
		{"platform service account", "system:serviceaccount:enigate-system:enigate", nil, false},
		{"tenant", "bob", []string{"team-a"}, true},
		{"tenant service account", "system:serviceaccount:a:deployer", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ValidatePolicyObjectWrite(ix, tt.user, tt.groups, writers)
			if (len(res.Errors) > 0) != tt.deny {
				t.Errorf("deny = %v, want %v (%v)", len(res.Errors) > 0, tt.deny, res.Errors)
			}
		})
	}
}

func qty(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// TestNodePodsQuantities: pod counts are compared as Quantities; values an int conversion
// wraps (Quantity.Value() of 2^64+110 is 110) must not pass a bound of 56.
func TestNodePodsQuantities(t *testing.T) {
	deny := model.CapacityPolicy{Enforcement: "deny", HostNetworkPods: 2}
	tests := []struct {
		name string
		pods string
		deny bool
	}{
		{"at the bound", "56", false},
		{"one over", "57", true},
		{"fraction over", "56500m", true},
		{"2^64+110 wraps to 110", "18446744073709551726", true},
		{"2^64+56 wraps to 56", "18446744073709551672", true},
		{"2^63 wraps negative", "9223372036854775808", true},
		{"1e1000000 has Value 0", "1e1000000", true},
		{"zero", "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{InstanceTypeLabel: " M7G.XLarge "}}}
			n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse(tt.pods)}
			res := ValidateNodePods(deny, NodePodsOf(n))
			if got := len(res.Errors) > 0; got != tt.deny {
				t.Errorf("pods %s: deny = %v, want %v (%v %v)", tt.pods, got, tt.deny, res.Errors, res.Warnings)
			}
		})
	}
}

func TestCapacityRules(t *testing.T) {
	deny := model.CapacityPolicy{Enforcement: "deny", HostNetworkPods: 2}
	warn := deny
	warn.Enforcement = "warn"
	// m7g.xlarge: 4 ENIs x 15 IPv4: (4-0)*(15-1) = 56 pod addresses, bound 56-2+2 = 56.
	t.Run("node at AMI default 58 pods", func(t *testing.T) {
		res := ValidateNodePods(deny, NodePods{Name: "n1", InstanceType: "m7g.xlarge", Capacity: qty("58"), Allocatable: qty("58")})
		checkResult(t, res, []string{`status.capacity[pods]: Invalid value: "58": max pods 58 on m7g.xlarge exceeds the bound: bound 56`,
			`status.allocatable[pods]: Invalid value: "58"`})
		if !strings.Contains(res.Errors[0].Error(), "E=4 ENIs, I=15 IPv4/ENI") {
			t.Errorf("message lacks inputs: %s", res.Errors[0])
		}
	})
	t.Run("node within bound", func(t *testing.T) {
		checkResult(t, ValidateNodePods(deny, NodePods{Name: "n1", InstanceType: "m7g.xlarge", Capacity: qty("56")}), nil)
	})
	t.Run("warn enforcement", func(t *testing.T) {
		res := ValidateNodePods(warn, NodePods{Name: "n1", InstanceType: "m7g.xlarge", Capacity: qty("58")})
		checkResult(t, res, nil)
		if !strings.Contains(joinWarnings(res.Warnings), "exceeds the bound") {
			t.Errorf("warnings %q", res.Warnings)
		}
	})
	t.Run("unknown type warns", func(t *testing.T) {
		res := ValidateNodePods(deny, NodePods{Name: "n1", InstanceType: "zz9.mega", Capacity: qty("500")})
		checkResult(t, res, nil)
		if len(res.Warnings) != 1 {
			t.Errorf("warnings %q", res.Warnings)
		}
	})
	t.Run("ciliumnode max-allocate over ENI addresses", func(t *testing.T) {
		res := ValidateCiliumNode(deny, CiliumNodeIPAM{Name: "n1", InstanceType: "m7g.xlarge", PreAllocate: 8, MaxAllocate: 60})
		checkResult(t, res, []string{`spec.ipam.max-allocate: Invalid value: 60: max-allocate 60 on m7g.xlarge exceeds the 56 addresses its ENIs hold for pods: (E-F)*(I-1) = 56 with E=4 ENIs`})
	})
	t.Run("ciliumnode unknown spec type does not hide a known label", func(t *testing.T) {
		res := ValidateCiliumNode(deny, CiliumNodeIPAM{Name: "n1", InstanceType: "zz9.mega", LabelInstanceType: "m7g.xlarge", MaxAllocate: 60})
		checkResult(t, res, []string{`spec.ipam.max-allocate: Invalid value: 60: max-allocate 60 on m7g.xlarge exceeds the 56 addresses`})
	})
	t.Run("ciliumnode label and spec differ: the smaller bound wins", func(t *testing.T) {
		res := ValidateCiliumNode(deny, CiliumNodeIPAM{Name: "n1", InstanceType: "m7g.16xlarge", LabelInstanceType: "m7g.xlarge", MaxAllocate: 60})
		checkResult(t, res, []string{`spec.ipam.max-allocate: Invalid value: 60: max-allocate 60 on m7g.xlarge exceeds`})
	})
	t.Run("ciliumnode first interface index from spec", func(t *testing.T) {
		res := ValidateCiliumNode(deny, CiliumNodeIPAM{Name: "n1", InstanceType: "m7g.xlarge", FirstInterfaceIndex: ptr(1), PreAllocate: 50})
		checkResult(t, res, []string{`spec.ipam.pre-allocate: Invalid value: 50: pre-allocate 50 on m7g.xlarge exceeds the 42 addresses`})
	})
}
