package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/test/envtest"
	"github.com/enigate/enigate/test/policyfixture"
)

const (
	benchTeams         = 1000
	benchRoutesPerTeam = 10
)

// benchPolicy is the shared benchmark policy of benchTeams teams (test/policyfixture).
func benchPolicy() model.Policy { return policyfixture.Teams(benchTeams) }

// benchRoutes: 10 HTTPRoutes per team; route 0 is on the shared host, route 9 claims the next
// team's hostname (a violation), route 8 repeats route 7's host and path (a conflict).
func benchRoutes() []*gwv1.HTTPRoute {
	var out []*gwv1.HTTPRoute
	prefix := gwv1.PathMatchPathPrefix
	for t := range benchTeams {
		team := fmt.Sprintf("team-%04d", t)
		for i := range benchRoutesPerTeam {
			r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: team, Name: fmt.Sprintf("r-%d", i), UID: types.UID(fmt.Sprintf("%s-%d", team, i))}}
			r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "public", Namespace: ptr(gwv1.Namespace("gateways")), SectionName: ptr(gwv1.SectionName("http"))}}
			host, path := fmt.Sprintf("app-%d.%s.example.com", i, team), "/"
			switch i {
			case 0:
				host, path = "shared.example.com", "/"+team+"/v1"
			case 8:
				host = fmt.Sprintf("app-7.%s.example.com", team)
			case 9:
				host = fmt.Sprintf("x.team-%04d.example.com", (t+1)%benchTeams)
			}
			r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(host)}
			r.Spec.Rules = []gwv1.HTTPRouteRule{{
				Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc", Port: ptr(gwv1.PortNumber(80))}}}},
			}}
			out = append(out, r)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// memCluster is the cluster of the benchmark: the Gateway exists with its listener.
type memCluster struct{}

func (memCluster) Known() bool { return true }
func (memCluster) GatewayListeners(ns, name string) ([]string, bool) {
	return []string{"http"}, ns == "gateways" && name == "public"
}
func (memCluster) ReferenceGrants(string) []gwv1b1.ReferenceGrant { return nil }

// BenchmarkEvaluate10kRoutes: judging 10,000 HTTPRoutes of 1,000 teams and building the 1,000
// PolicyReports, in memory (the CPU part of a pass).
func BenchmarkEvaluate10kRoutes(b *testing.B) {
	ix, errs := rules.CompilePolicy(benchPolicy())
	if len(errs) > 0 {
		b.Fatal(errs.ToAggregate())
	}
	routes := benchRoutes()
	items := make([]Item, len(routes))
	for i, r := range routes {
		items[i] = Item{GVK: gwv1.SchemeGroupVersion.WithKind(rules.KindHTTPRoute), Obj: r}
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		a := Evaluate(ix, items, memCluster{})
		ns, _ := a.Reports(now)
		if v := a.Violations(); len(ns) != benchTeams || v[[2]string{"team-0000", rules.RuleHostname}] != 1 || v[[2]string{"team-0000", RuleHostnameConflict}] != 1 {
			b.Fatalf("%d reports, violations of team-0000: %v", len(ns), v)
		}
	}
}

// BenchmarkAuditPass10kRoutes: a real audit on a real kube-apiserver holding 10,000 HTTPRoutes
// in 1,000 namespaces: from start (cache sync) to the first pass published (1,000
// PolicyReports applied), the heap the audit holds then, and a pass after a policy change
// that changes no report. Run with -benchtime=1x; skips
// without envtest binaries.
func BenchmarkAuditPass10kRoutes(b *testing.B) {
	log.SetLogger(logr.Discard())
	kube := envtest.Start(b, envtest.WithCRDPaths(filepath.Join("..", "policyreport", "data")))
	ctx := context.Background()
	admin := kube.Client
	createAll := func(objs []client.Object) {
		work := make(chan client.Object, 64)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for o := range work {
					if err := admin.Create(ctx, o); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, o := range objs {
			work <- o
		}
		close(work)
		wg.Wait()
	}
	nss := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gateways"}}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "enigate-system"}}}
	for t := range benchTeams {
		nss = append(nss, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%04d", t)}})
	}
	createAll(nss)
	data, err := yaml.Marshal(benchPolicy())
	if err != nil {
		b.Fatal(err)
	}
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "enigate-system", Name: "enigate-policy"}, Data: map[string]string{"policy.yaml": string(data)}},
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}, Spec: gwv1.GatewaySpec{
			GatewayClassName: "cilium", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: "HTTP"}}}},
	}
	for _, r := range benchRoutes() {
		r.UID = ""
		objs = append(objs, r)
	}
	createAll(objs)
	if b.Failed() {
		return
	}
	var last time.Duration
	var heapMiB float64
	var passSec, againSec float64
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		runCtx, cancel := context.WithCancel(ctx)
		passed := make(chan Audit, 1)
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			done <- Run(runCtx, Options{Config: kube.Config, Interval: time.Hour, Settle: time.Millisecond, MetricsAddr: "0", HealthAddr: "0",
				Passed: func(a Audit) {
					select {
					case passed <- a:
					default:
					}
				}})
		}()
		var a Audit
		select {
		case a = <-passed:
		case err := <-done:
			b.Fatalf("audit stopped: %v", err)
		}
		last = time.Since(start)
		passSec = readGauge(passSeconds)
		// A policy change: every object judged again, no report changed, nothing written.
		var cm corev1.ConfigMap
		if err := admin.Get(ctx, client.ObjectKey{Namespace: "enigate-system", Name: "enigate-policy"}, &cm); err != nil {
			b.Fatal(err)
		}
		cm.Data["policy.yaml"] += "\n"
		if err := admin.Update(ctx, &cm); err != nil {
			b.Fatal(err)
		}
		select {
		case <-passed:
		case err := <-done:
			b.Fatalf("audit stopped: %v", err)
		}
		againSec = readGauge(passSeconds)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heapMiB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if len(a.Verdicts) != benchTeams*benchRoutesPerTeam+1 { // the routes and the Gateway
			b.Fatalf("audited %d objects", len(a.Verdicts))
		}
		runtime.KeepAlive(a)
	}
	b.ReportMetric(last.Seconds(), "start-to-reports-s")
	b.ReportMetric(passSec, "first-pass-s")
	b.ReportMetric(againSec, "unchanged-pass-s")
	b.ReportMetric(heapMiB, "heap-MiB")
}

func readGauge(g interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return 0
	}
	return m.GetGauge().GetValue()
}
