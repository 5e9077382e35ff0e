package webhook_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/envtest"
	"github.com/enigate/enigate/test/policyfixture"
	"github.com/enigate/enigate/webhook"
)

const (
	benchTeams          = 1000
	benchRoutesPerTeam  = 10
	benchDistinctInputs = 2000
)

// benchPolicy is the shared benchmark policy of benchTeams teams (test/policyfixture).
func benchPolicy() model.Policy { return policyfixture.Teams(benchTeams) }

func benchRoute(team string, i int, shared bool) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: team, Name: fmt.Sprintf("r-%d", i)}}
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "public", Namespace: ptr(gwv1.Namespace("gateways")), SectionName: ptr(gwv1.SectionName("http"))}}
	r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(fmt.Sprintf("app-%d.%s.example.com", i, team))}
	prefix := gwv1.PathMatchPathPrefix
	path := "/"
	if shared {
		r.Spec.Hostnames = append(r.Spec.Hostnames, "shared.example.com")
		path = "/" + team + "/v1"
	}
	r.Spec.Rules = []gwv1.HTTPRouteRule{{
		Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
		BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc", Port: ptr(gwv1.PortNumber(80))}}}},
	}}
	return r
}

// benchRequests are distinct CREATE requests across all teams: three quarters allowed, one
// quarter claiming the next team's hostname (denied).
func benchRequests(b *testing.B) []admission.Request {
	out := make([]admission.Request, benchDistinctInputs)
	for i := range out {
		team := fmt.Sprintf("team-%04d", i%benchTeams)
		r := benchRoute(team, 1000+i, i%2 == 0)
		if i%4 == 3 {
			r.Spec.Hostnames[0] = gwv1.Hostname(fmt.Sprintf("x.team-%04d.example.com", (i+1)%benchTeams))
		}
		raw, err := yaml.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ = yaml.YAMLToJSON(raw)
		out[i] = admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "u", Operation: admissionv1.Create, Namespace: team, Name: r.Name,
			Kind:     metav1.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
			UserInfo: authnv1.UserInfo{Username: "u", Groups: []string{team}},
			Object:   k8sruntime.RawExtension{Raw: raw},
		}}
	}
	return out
}

// runDecisions times every Handle call and reports p50/p99 in microseconds: wall time, and
// the thread's CPU time (which leaves out waiting for a core on a shared machine).
func runDecisions(b *testing.B, h *webhook.Handler, reqs []admission.Request) {
	samples := make([]time.Duration, 0, b.N)
	cpuSamples := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	denied := 0
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cpu0, cpuOK := threadCPU()
		start := time.Now()
		resp := h.Handle(ctx, reqs[i%len(reqs)])
		samples = append(samples, time.Since(start))
		if cpu1, ok := threadCPU(); ok && cpuOK {
			cpuSamples = append(cpuSamples, cpu1-cpu0)
		}
		if !resp.Allowed {
			denied++
		}
	}
	b.StopTimer()
	if b.N >= len(reqs) && (denied < b.N/5 || denied > b.N/3) {
		b.Fatalf("%d of %d denied, want about a quarter", denied, b.N)
	}
	q := func(s []time.Duration, p float64) float64 {
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(q(samples, 0.50), "p50-us")
	b.ReportMetric(q(samples, 0.99), "p99-us")
	if len(cpuSamples) > 0 {
		b.ReportMetric(q(cpuSamples, 0.50), "p50-cpu-us")
		b.ReportMetric(q(cpuSamples, 0.99), "p99-cpu-us")
	}
}

// BenchmarkHandlePolicyOnly: the decision with 1,000 teams and no cluster cache.
func BenchmarkHandlePolicyOnly(b *testing.B) {
	store := &webhook.PolicyStore{}
	data, _ := yaml.Marshal(benchPolicy())
	if err := store.Load("bench", data); err != nil {
		b.Fatal(err)
	}
	runDecisions(b, webhook.NewHandler(webhook.HandlerOptions{Policy: store}), benchRequests(b))
}

// BenchmarkHandleCached: the decision with 1,000 teams and 10,000 HTTPRoutes (plus the
// Gateway and a ReferenceGrant per team) in a real informer cache fed by a real
// kube-apiserver; reports the heap the cache holds. Skips without envtest binaries.
func BenchmarkHandleCached(b *testing.B) {
	kube := envtest.Start(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	admin := kube.Client
	mustCreateB(b, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gateways"}})
	mustCreateB(b, admin, &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "cilium", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: "HTTP"}}}})
	work, wait := createAll(ctx, b, admin)
	for t := range benchTeams {
		team := fmt.Sprintf("team-%04d", t)
		work <- &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: team}}
	}
	close(work)
	wait()
	work, wait = createAll(ctx, b, admin)
	for t := range benchTeams {
		team := fmt.Sprintf("team-%04d", t)
		work <- &gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: team, Name: "g"}, Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "gateways"}},
			To:   []gwv1b1.ReferenceGrantTo{{Kind: "Service", Name: ptr(gwv1b1.ObjectName("svc"))}}}}
		for i := range benchRoutesPerTeam {
			work <- benchRoute(team, i, i == 0)
		}
	}
	close(work)
	wait()
	if b.Failed() {
		return
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	readOnly := true // as webhook.Run configures its cache
	c, err := cache.New(kube.Config, cache.Options{Scheme: webhook.Scheme(), ByObject: map[client.Object]cache.ByObject{
		&gwv1.Gateway{}: {UnsafeDisableDeepCopy: &readOnly}, &gwv1b1.ReferenceGrant{}: {UnsafeDisableDeepCopy: &readOnly}, &gwv1.HTTPRoute{}: {UnsafeDisableDeepCopy: &readOnly}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.IndexField(ctx, &gwv1.HTTPRoute{}, webhook.HostnameIndex, webhook.IndexHTTPRouteHostnames); err != nil {
		b.Fatal(err)
	}
	for _, o := range []client.Object{&gwv1.Gateway{}, &gwv1b1.ReferenceGrant{}} {
		if _, err := c.GetInformer(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("cache sync")
	}
	var routes gwv1.HTTPRouteList
	if err := c.List(ctx, &routes); err != nil || len(routes.Items) != benchTeams*benchRoutesPerTeam {
		b.Fatalf("cached %d routes: %v", len(routes.Items), err)
	}
	routes = gwv1.HTTPRouteList{}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cacheMiB := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)

	store := &webhook.PolicyStore{}
	data, _ := yaml.Marshal(benchPolicy())
	if err := store.Load("bench", data); err != nil {
		b.Fatal(err)
	}
	h := webhook.NewHandler(webhook.HandlerOptions{Policy: store, Cluster: &webhook.CacheCluster{Reader: c, Routes: true}})
	reqs := benchRequests(b)
	b.Run("http-route", func(b *testing.B) {
		runDecisions(b, h, reqs)
		b.ReportMetric(cacheMiB, "cache-heap-MiB")
	})
}

func mustCreateB(b *testing.B, c client.Client, o client.Object) {
	b.Helper()
	if err := c.Create(context.Background(), o); err != nil {
		b.Fatalf("create %T %s: %v", o, o.GetName(), err)
	}
}

// BenchmarkParsePolicy: one policy reload (strict YAML decode + CompilePolicy, whose
// delegation checks are pairwise) with 1,000 teams.
func BenchmarkParsePolicy(b *testing.B) {
	data, err := yaml.Marshal(benchPolicy())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.ParsePolicy(data); err != nil {
			b.Fatal(err)
		}
	}
}

// createAll creates every object sent on the returned channel with 8 workers; close the
// channel, then call wait.
func createAll(ctx context.Context, b *testing.B, c client.Client) (chan<- client.Object, func()) {
	work := make(chan client.Object, 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for o := range work {
				if err := c.Create(ctx, o); err != nil {
					b.Error(err)
				}
			}
		})
	}
	return work, wg.Wait
}

// brokenPolicy is an adversarial policy a writer might push: every team claims the same
// wildcard and the same prefix of one shared host, so every pair of teams conflicts.
func brokenPolicy(teams int) []byte {
	var p model.Policy
	p.Environment = "broken"
	p.PlatformNamespaces = []string{"gateways"}
	for i := range teams {
		n := fmt.Sprintf("t%d", i)
		p.Teams = append(p.Teams, model.TeamPolicy{Name: n, Namespaces: []string{n}, Hostnames: []string{"*.example.com"},
			SharedHosts: []model.SharedHost{{Hostname: "shared.example.org", PathPrefixes: []string{"/api"}}}})
	}
	data, _ := yaml.Marshal(p)
	return data
}

// BenchmarkRefuseBrokenPolicy: refusing a broken policy (every pair of teams conflicting)
// must stay well inside PolicyCheckBudget, itself under the VWC's 5 s timeout.
func BenchmarkRefuseBrokenPolicy(b *testing.B) {
	for _, teams := range []int{100, 250, 1000, 7000} {
		data := brokenPolicy(teams)
		b.Run(fmt.Sprintf("teams=%d/KiB=%d", teams, len(data)/1024), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := webhook.ParsePolicy(data); err == nil {
					b.Fatal("broken policy accepted")
				}
			}
		})
	}
}

// BenchmarkHandleViolations: one request with n violations (hostnames of another team);
// the answer's cost must grow linearly in n, whatever the API server would let through.
func BenchmarkHandleViolations(b *testing.B) {
	store := &webhook.PolicyStore{}
	data, err := yaml.Marshal(benchPolicy())
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Load("bench", data); err != nil {
		b.Fatal(err)
	}
	h := webhook.NewHandler(webhook.HandlerOptions{Policy: store})
	for _, n := range []int{1000, 8000} {
		r := benchRoute("team-0000", 1, false)
		r.Spec.Hostnames = nil
		for i := range n {
			r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(fmt.Sprintf("h%d.team-0001.example.com", i)))
		}
		raw, err := yaml.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ = yaml.YAMLToJSON(raw)
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "u", Operation: admissionv1.Create, Namespace: "team-0000", Name: r.Name,
			Kind:     metav1.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
			UserInfo: authnv1.UserInfo{Username: "u", Groups: []string{"team-0000"}},
			Object:   k8sruntime.RawExtension{Raw: raw},
		}}
		b.Run(fmt.Sprintf("violations=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if resp := h.Handle(context.Background(), req); resp.Allowed {
					b.Fatal("allowed")
				}
			}
		})
	}
}
