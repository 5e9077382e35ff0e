package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/rules/rulestest"
)

var (
	corpusMu    sync.Mutex
	corpusCases []rulestest.Case
)

func checkCorpus() error {
	corpusMu.Lock()
	defer corpusMu.Unlock()
	cases := append([]rulestest.Case(nil), corpusCases...)
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	got, err := json.MarshalIndent(rulestest.Corpus{Policy: testPolicy(), Cases: cases}, "", "  ")
	if err != nil {
		return err
	}
	got = append(got, '\n')
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		return os.WriteFile(rulestest.Path(), got, 0o644)
	}
	want, err := os.ReadFile(rulestest.Path())
	if err != nil {
		return fmt.Errorf("%w (UPDATE_GOLDEN=1 to create)", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s is stale: a table case changed (UPDATE_GOLDEN=1 to update)", rulestest.Path())
	}
	return nil
}

// apiVersionOf names the API version a test object is written in.
func apiVersionOf(obj any) (apiVersion, kind string) {
	switch o := obj.(type) {
	case *gwv1.HTTPRoute:
		return "gateway.networking.k8s.io/v1", KindHTTPRoute
	case *gwv1.GRPCRoute:
		return "gateway.networking.k8s.io/v1", KindGRPCRoute
	case *gwv1a2.TLSRoute:
		return "gateway.networking.k8s.io/v1alpha2", KindTLSRoute
	case *gwv1a2.TCPRoute:
		return "gateway.networking.k8s.io/v1alpha2", KindTCPRoute
	case *gwv1a2.UDPRoute:
		return "gateway.networking.k8s.io/v1alpha2", KindUDPRoute
	case *gwv1b1.ReferenceGrant:
		return "gateway.networking.k8s.io/v1beta1", KindReferenceGrant
	case *gwv1.Gateway:
		return "gateway.networking.k8s.io/v1", KindGateway
	case *gwxv1a1.XListenerSet:
		return "gateway.networking.x-k8s.io/v1alpha1", KindXListenerSet
	case *corev1.Node:
		return "v1", KindNode
	case map[string]any:
		return o["apiVersion"].(string), o["kind"].(string)
	}
	panic(fmt.Sprintf("judge test: no API version for %T", obj))
}

// judgeCase requires that Judge (from the object's JSON) and JudgeObject give the verdict the
// rule gave directly (direct), and records the case in the judge corpus.
func judgeCase(t *testing.T, ix *Index, obj any, c Cluster, direct Result) {
	t.Helper()
	apiVersion, kind := apiVersionOf(obj)
	var m map[string]any
	b, err := json.Marshal(obj)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	m["apiVersion"], m["kind"] = apiVersion, kind
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	res, ok, err := Judge(ix, Input{Group: group, Kind: kind, Object: raw}, c)
	if !ok || err != nil {
		t.Fatalf("Judge %s: judged=%t err=%v", kind, ok, err)
	}
	if d := resultDiff(res, direct); d != "" {
		t.Errorf("Judge disagrees with the rule: %s", d)
	}
	if _, isMap := obj.(map[string]any); !isMap {
		typed, ok, err := JudgeObject(ix, obj, c)
		if !ok || err != nil {
			t.Fatalf("JudgeObject %s: judged=%t err=%v", kind, ok, err)
		}
		if d := resultDiff(typed, direct); d != "" {
			t.Errorf("JudgeObject disagrees with the rule: %s", d)
		}
	}
	tc := rulestest.Case{Name: t.Name(), APIVersion: apiVersion, Kind: kind, Object: raw,
		Errors: []string{}, Rules: append([]string{}, res.Rules...), Warnings: append([]string{}, res.Warnings...)}
	for _, e := range res.Errors {
		tc.Errors = append(tc.Errors, e.Error())
	}
	if lc, ok := c.(testCluster); ok {
		tc.Cluster = &rulestest.Cluster{Gateways: lc.gateways, Grants: []gwv1b1.ReferenceGrant{}}
		if tc.Cluster.Gateways == nil {
			tc.Cluster.Gateways = map[string][]string{}
		}
		nss := make([]string, 0, len(lc.grants))
		for ns := range lc.grants {
			nss = append(nss, ns)
		}
		sort.Strings(nss)
		for _, ns := range nss {
			tc.Cluster.Grants = append(tc.Cluster.Grants, lc.grants[ns]...)
		}
	}
	corpusMu.Lock()
	corpusCases = append(corpusCases, tc)
	corpusMu.Unlock()
}

func resultDiff(got, want Result) string {
	text := func(r Result) []string {
		var out []string
		for _, e := range r.Errors {
			out = append(out, e.Error())
		}
		return out
	}
	switch {
	case !reflect.DeepEqual(text(got), text(want)):
		return fmt.Sprintf("errors %q, want %q", text(got), text(want))
	case !reflect.DeepEqual(got.Rules, want.Rules):
		return fmt.Sprintf("rules %q, want %q", got.Rules, want.Rules)
	case !reflect.DeepEqual(got.Warnings, want.Warnings):
		return fmt.Sprintf("warnings %q, want %q", got.Warnings, want.Warnings)
	}
	return ""
}

// TestJudgeOtherKinds mirrors the cases of TestOtherRouteKinds and TestCapacityRules, whose
// tables hold reduced inputs (Route, NodePods) rather than objects, as objects through Judge.
func TestJudgeOtherKinds(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	node := func(it string, capacity, allocatable int64) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{InstanceTypeLabel: it}}}
		n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(capacity, resource.DecimalSI)}
		if allocatable > 0 {
			n.Status.Allocatable = corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(allocatable, resource.DecimalSI)}
		}
		return n
	}
	ciliumNode := func(it string, firstIndex *int, pre, max int) map[string]any {
		eni := map[string]any{"instance-type": it}
		if firstIndex != nil {
			eni["first-interface-index"] = *firstIndex
		}
		return map[string]any{"apiVersion": "cilium.io/v2", "kind": KindCiliumNode, "metadata": map[string]any{"name": "n1"},
			"spec": map[string]any{"eni": eni, "ipam": map[string]any{"pre-allocate": pre, "max-allocate": max}}}
	}
	capacity := ix.Policy.Capacity
	tests := []struct {
		name   string
		obj    any
		direct Result
		want   []string
	}{
		{"grpc another team's host", grpcRoute("a", []string{"x.team-b.example.com"}, "https-a", ""), Result{}, []string{`belongs to team "team-b"`}},
		{"grpc no hostnames on shared listener", grpcRoute("a", nil, "http", ""), Result{}, []string{`spec.hostnames: Required value`}},
		{"grpc service inside shared prefix", grpcRoute("a", []string{"shared.example.com"}, "http", "api"), Result{}, nil},
		{"grpc service outside shared prefix", grpcRoute("a", []string{"shared.example.com"}, "http", "apiv2.Users"), Result{},
			[]string{`spec.rules[0].matches[0].method.service: Forbidden: path "/apiv2.Users"`}},
		{"grpc without method on shared host", grpcRoute("a", []string{"shared.example.com"}, "http", ""), Result{}, []string{`spec.rules[0].matches: Forbidden: path "/"`}},
		{"tls own host", tlsRoute("a", []string{"db.team-a.example.com"}, "tls-a"), Result{}, nil},
		{"tls another team's host", tlsRoute("a", []string{"db.team-b.example.com"}, "tls-a"), Result{}, []string{`belongs to team "team-b"`}},
		{"tls on an HTTP listener", tlsRoute("a", []string{"db.team-a.example.com"}, "https-a"), Result{}, []string{`listener protocol HTTPS does not carry TLSRoute`}},
		{"tls on shared host", tlsRoute("a", []string{"shared.example.com"}, "tls-a"), Result{}, []string{`spec.hostnames[0]: Forbidden: shared host "shared.example.com" is split by path prefix`}},
		{"tcp own listener", tcpRoute("a", "tcp-a"), Result{}, nil},
		{"tcp on the shared listener", tcpRoute("a", "http"), Result{}, []string{`listener protocol HTTP does not carry TCPRoute`}},
		{"udp another team's listener", udpRoute("a", "udp-b"), Result{}, []string{`listener "udp-b" of Gateway gateways/public is not open to team "team-a"`}},
		{"udp own listener", udpRoute("b", "udp-b"), Result{}, nil},
		{"node at AMI default 58 pods", node("m7g.xlarge", 58, 58), ValidateNodePods(capacity, NodePodsOf(node("m7g.xlarge", 58, 58))),
			[]string{`status.capacity[pods]: Invalid value: "58"`, `status.allocatable[pods]: Invalid value: "58"`}},
		{"node within bound", node("m7g.xlarge", 56, 0), ValidateNodePods(capacity, NodePodsOf(node("m7g.xlarge", 56, 0))), nil},
		{"node unknown type warns", node("zz9.mega", 500, 0), ValidateNodePods(capacity, NodePodsOf(node("zz9.mega", 500, 0))), nil},
		{"ciliumnode max-allocate over ENI addresses", ciliumNode("m7g.xlarge", nil, 8, 60),
			ValidateCiliumNode(capacity, CiliumNodeIPAM{Name: "n1", InstanceType: "m7g.xlarge", PreAllocate: 8, MaxAllocate: 60}),
			[]string{`spec.ipam.max-allocate: Invalid value: 60`}},
		{"ciliumnode first interface index from spec", ciliumNode("m7g.xlarge", ptr(1), 50, 0),
			ValidateCiliumNode(capacity, CiliumNodeIPAM{Name: "n1", InstanceType: "m7g.xlarge", FirstInterfaceIndex: ptr(1), PreAllocate: 50}),
			[]string{`spec.ipam.pre-allocate: Invalid value: 50`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := liveCluster()
			direct := tt.direct
			switch o := tt.obj.(type) {
			case *gwv1.GRPCRoute:
				direct = ValidateRoute(ix, FromGRPCRoute(o), c)
			case *gwv1a2.TLSRoute:
				direct = ValidateRoute(ix, FromTLSRoute(o), c)
			case *gwv1a2.TCPRoute:
				direct = ValidateRoute(ix, FromTCPRoute(o), c)
			case *gwv1a2.UDPRoute:
				direct = ValidateRoute(ix, FromUDPRoute(o), c)
			}
			checkResult(t, direct, tt.want)
			judgeCase(t, ix, tt.obj, c, direct)
		})
	}
}

// hostnameIndex is a HostnameRoutes fixture: routes by normalised hostname.
type hostnameIndex struct {
	testCluster
	routes map[string][]types.NamespacedName
}

func (h hostnameIndex) RoutesWithHostname(host string, limit int64) []types.NamespacedName {
	r := h.routes[host]
	return r[:min(int64(len(r)), limit)]
}

func TestJudge(t *testing.T) {
	ix := mustIndex(t, testPolicy())
	route := func(ns, host string) []byte {
		b, err := json.Marshal(httpRoute(ns, []string{host}, withParents(parent("https-a", 0))))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	others := hostnameIndex{testCluster: liveCluster(), routes: map[string][]types.NamespacedName{
		"x.team-a.example.com": {{Namespace: "a", Name: "older"}}}}
	bad, good := route("a", "x.team-b.example.com"), route("a", "x.team-a.example.com")
	tests := []struct {
		name     string
		in       Input
		c        Cluster
		judged   bool
		errs     []string
		warnings string
		err      string
	}{
		{"unjudged kind", Input{Group: "", Kind: "ConfigMap", Object: []byte(`{}`)}, nil, false, nil, "", ""},
		{"same kind name in another group", Input{Group: "example.com", Kind: KindHTTPRoute, Object: bad}, nil, false, nil, "", ""},
		{"create denied", Input{Group: GatewayGroup, Kind: KindHTTPRoute, Object: bad}, liveCluster(), true, []string{`belongs to team "team-b"`}, "", ""},
		{"namespace from the request", Input{Group: GatewayGroup, Kind: KindHTTPRoute, Namespace: "stray",
			Object: []byte(`{"metadata":{"name":"r"},"spec":{}}`)}, nil, true, []string{`namespace "stray" belongs to no team`}, "", ""},
		{"another route on the hostname", Input{Group: GatewayGroup, Kind: KindHTTPRoute, Object: good}, others, true, nil, `hostname "x.team-a.example.com" is also served by HTTPRoute a/older`, ""},
		{"no object", Input{Group: GatewayGroup, Kind: KindGateway}, nil, true, nil, "", "Gateway has no object"},
		{"malformed object", Input{Group: GatewayGroup, Kind: KindGateway, Object: []byte(`{"spec":[]}`)}, nil, true, nil, "", "decode Gateway"},
		{"node pods beyond int64 compared as quantities", Input{Group: "", Kind: KindNode, Object: []byte(`{"metadata":{"name":"n","labels":{"node.kubernetes.io/instance-type":"m7g.xlarge"}},"status":{"capacity":{"pods":"18446744073709551726"}}}`)},
			nil, true, []string{`status.capacity[pods]: Invalid value: "18446744073709551726"`}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, judged, err := Judge(ix, tt.in, tt.c)
			if judged != tt.judged {
				t.Errorf("judged = %t, want %t", judged, tt.judged)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tt.errs)
			if w := joinWarnings(res.Warnings); tt.warnings == "" && w != "" || !strings.Contains(w, tt.warnings) {
				t.Errorf("warnings %q, want %q", res.Warnings, tt.warnings)
			}
		})
	}
}
