package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/schema/rules/rulestest"
	"github.com/enigate/enigate/webhook/policyreport"
)

func testIndex(t testing.TB) *rules.Index {
	t.Helper()
	c, err := rulestest.Load()
	if err != nil {
		t.Fatal(err)
	}
	ix, errs := rules.CompilePolicy(c.Policy)
	if len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	return ix
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// route is an HTTPRoute of ns on listener https-a (team-a's) with one rule matching path.
func route(ns, name string, age time.Duration, host, path string) Item {
	prefix := gwv1.PathMatchPathPrefix
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name),
		CreationTimestamp: metav1.NewTime(t0.Add(-age))}}
	r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(host)}
	gwNS, section := gwv1.Namespace("gateways"), gwv1.SectionName("https-a")
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "public", Namespace: &gwNS, SectionName: &section}}
	rule := gwv1.HTTPRouteRule{}
	if path != "" {
		rule.Matches = []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}}
	}
	r.Spec.Rules = []gwv1.HTTPRouteRule{rule}
	return Item{GVK: gwv1.SchemeGroupVersion.WithKind(rules.KindHTTPRoute), Obj: r}
}

func node(name string, pods int64) Item {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), Labels: map[string]string{rules.InstanceTypeLabel: "m7g.xlarge"}}}
	n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)}
	return Item{GVK: corev1.SchemeGroupVersion.WithKind(rules.KindNode), Obj: n}
}

// line renders a report result as "kind ns/name rule field: message".
func lines(rep *policyreport.Report) []string {
	var out []string
	for _, r := range rep.Results {
		res := r.Resources[0]
		out = append(out, fmt.Sprintf("%s %s %s/%s %s %s: %s", r.Result, res.Kind, res.Namespace, res.Name, r.Rule, r.Properties["field"], r.Message))
	}
	return out
}

func TestEvaluate(t *testing.T) {
	ix := testIndex(t)
	items := []Item{
		route("a", "foreign", time.Hour, "x.team-b.example.com", ""),
		route("a", "shop", 2*time.Hour, "shop.team-a.example.com", "/cart"),
		route("a", "shop-v2", time.Hour, "shop.team-a.example.com", "/cart"),          // same match, newer: shadowed
		route("a2", "shop-same-age", 2*time.Hour, "shop.team-a.example.com", "/cart"), // same team, same age: name order
		route("a", "shop-other-path", time.Hour, "shop.team-a.example.com", "/checkout"),
		route("gateways", "platform", time.Hour, "anything.org", ""),
		node("n1", 58),
		node("n2", 56),
	}
	a := Evaluate(ix, items, rules.NoCluster{})
	namespaced, cluster := a.Reports(t0)

	want := map[string][]string{
		"a": {
			`fail HTTPRoute a/foreign hostname spec.hostnames[0]: Forbidden: hostname "x.team-b.example.com" belongs to team "team-b", not "team-a" (allowed: *.team-a.example.com, a.example.com, shared.example.com (paths /api))`,
			`fail HTTPRoute a/shop-v2 hostname-conflict spec.rules[0].matches[0]: shadowed: HTTPRoute a/shop (older, created 2025-12-31T22:00:00Z) has the same match on host "shop.team-a.example.com" and listener; Gateway API sends the traffic to the oldest route, so this rule receives none (change the path or host, or merge the routes)`,
		},
		"a2": {
			`fail HTTPRoute a2/shop-same-age hostname-conflict spec.rules[0].matches[0]: shadowed: HTTPRoute a/shop (older, created 2025-12-31T22:00:00Z) has the same match on host "shop.team-a.example.com" and listener; Gateway API sends the traffic to the oldest route, so this rule receives none (change the path or host, or merge the routes)`,
		},
		"gateways": nil,
	}
	if len(namespaced) != len(want) {
		t.Errorf("reports for %d namespaces, want %d", len(namespaced), len(want))
	}
	for ns, w := range want {
		rep := namespaced[ns]
		if rep == nil {
			t.Fatalf("no report for %s", ns)
		}
		if got := lines(rep); strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("report %s:\n%s\nwant\n%s", ns, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
		if rep.Kind != policyreport.KindPolicyReport || rep.Name != ReportName || rep.Namespace != ns || rep.Labels[ManagedByLabel] != Source {
			t.Errorf("report %s meta: %+v %+v", ns, rep.TypeMeta, rep.ObjectMeta)
		}
	}
	if s := namespaced["a"].Summary; s.Fail != 2 || s.Pass != 2 {
		t.Errorf("summary a = %+v, want 2 fail, 2 pass", s)
	}
	if s := namespaced["gateways"].Summary; s.Pass != 1 || s.Fail != 0 {
		t.Errorf("summary gateways = %+v", s)
	}
	cl := lines(cluster)
	if len(cl) != 1 || !strings.HasPrefix(cl[0], `fail Node /n1 capacity status.capacity[pods]: Invalid value: "58": max pods 58 on m7g.xlarge exceeds the bound`) {
		t.Errorf("cluster report %q", cl)
	}
	if cluster.Summary.Pass != 1 || cluster.Kind != policyreport.KindClusterPolicyReport {
		t.Errorf("cluster report %+v", cluster.Summary)
	}
	v := a.Violations()
	if v[[2]string{"a", rules.RuleHostname}] != 1 || v[[2]string{"a", RuleHostnameConflict}] != 1 || v[[2]string{"", rules.RuleCapacity}] != 1 || len(v) != 4 {
		t.Errorf("violations %v", v)
	}
}

// TestReportsDoNotDependOnListOrder: the runner skips writing unchanged reports, so a report
// must be the same whatever order the cache lists objects in.
func TestReportsDoNotDependOnListOrder(t *testing.T) {
	ix := testIndex(t)
	items := []Item{route("a", "r1", time.Hour, "x.team-b.example.com", ""), route("a", "r2", time.Hour, "y.team-b.example.com", ""), node("n1", 58)}
	rev := []Item{items[2], items[1], items[0]}
	a, _ := Evaluate(ix, items, nil).Reports(t0)
	b, _ := Evaluate(ix, rev, nil).Reports(t0)
	if strings.Join(lines(a["a"]), "\n") != strings.Join(lines(b["a"]), "\n") {
		t.Errorf("order changes the report:\n%q\n%q", lines(a["a"]), lines(b["a"]))
	}
}

// TestAuditedKindsAreTheJudgedKinds: the audit lists every kind rules.Judge judges.
func TestAuditedKindsAreTheJudgedKinds(t *testing.T) {
	want := map[string]bool{}
	for _, gk := range rules.JudgedKinds() {
		want[gk.String()] = true
	}
	got := map[string]bool{}
	for _, k := range auditedKinds() {
		got[k.gvk.GroupKind().String()] = true
		if k.obj().GetObjectKind() == nil || k.list() == nil {
			t.Errorf("%s: no object or list type", k.gvk)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audited kinds %v, judged kinds %v", got, want)
	}
}
