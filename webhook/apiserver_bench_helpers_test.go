package webhook_test

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// excludeNamespace adds ns to the `kubernetes.io/metadata.name NotIn` requirement of sel,
// the form the rendered VWC and VAP binding use to select namespaces out.
func excludeNamespace(b *testing.B, sel *metav1.LabelSelector, ns string) {
	b.Helper()
	for i, r := range sel.MatchExpressions {
		if r.Key == "kubernetes.io/metadata.name" && r.Operator == metav1.LabelSelectorOpNotIn {
			sel.MatchExpressions[i].Values = append(slices.Clone(r.Values), ns)
			return
		}
	}
	b.Fatalf("selector %v has no kubernetes.io/metadata.name NotIn requirement", sel)
}

// apiGateway is the Gateway the benchmark routes attach to.
func apiGateway() *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "cilium", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: "HTTP"}}}}
}

// apiRoute is a valid HTTPRoute of team bench-a on the shared listener, with a hostname
// derived from its name unless hosts are given, a path match and an in-namespace backend.
func apiRoute(ns, name string, hosts ...string) *gwv1.HTTPRoute {
	if len(hosts) == 0 {
		hosts = []string{name + ".bench-a.example.com"}
	}
	r := route(ns, name, hosts...)
	prefix, path := gwv1.PathMatchPathPrefix, "/"+name
	r.Spec.Rules = []gwv1.HTTPRouteRule{{
		Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
		BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc", Port: ptr(gwv1.PortNumber(80))}}}},
	}}
	return r
}

// routeDecisions is the handler's count of HTTPRoute decisions (every result), from the
// enigate_webhook_decisions_total counter on controller-runtime's registry.
func routeDecisions(b *testing.B) float64 {
	b.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "enigate_webhook_decisions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == "HTTPRoute" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// quantiles sorts s and returns its median and 99th percentile.
func quantiles(s []time.Duration) (median, p99 time.Duration) {
	slices.Sort(s)
	return s[len(s)/2], s[int(0.99*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
