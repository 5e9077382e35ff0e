package rules

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestRouteOnListenerSet: a route may attach to a ListenerSet of its own team, the standard
// ListenerSet (gateway.networking.k8s.io, Gateway API v1.5+) as well as the experimental
// XListenerSet, and to no other team's.
func TestRouteOnListenerSet(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	ref := func(group, kind, ns string) gwv1.ParentReference {
		return gwv1.ParentReference{Group: ptr(gwv1.Group(group)), Kind: ptr(gwv1.Kind(kind)), Namespace: ptr(gwv1.Namespace(ns)), Name: "ls"}
	}
	tests := []struct {
		name string
		ref  gwv1.ParentReference
		want []string
	}{
		{"standard ListenerSet of the team", ref(GatewayGroup, KindListenerSet, "a"), nil},
		{"experimental XListenerSet of the team", ref(XGatewayGroup, KindXListenerSet, "a"), nil},
		{"standard ListenerSet of another team", ref(GatewayGroup, KindListenerSet, "b"), []string{`ListenerSet b/ls is not in a namespace of team "team-a"`}},
		{"XListenerSet kind in the standard group", ref(GatewayGroup, KindXListenerSet, "a"),
			[]string{`spec.parentRefs[0].kind: Unsupported value: "gateway.networking.k8s.io/XListenerSet"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpRoute("a", []string{"x.team-a.example.com"}, withParents(tt.ref))
			checkResult(t, ValidateRoute(ix, FromHTTPRoute(r), liveCluster()), tt.want)
		})
	}
}
