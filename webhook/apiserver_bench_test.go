package webhook_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/generators/rbac"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/envtest"
)

const (
	// apiCreates is the number of timed HTTPRoute creates per sub-benchmark iteration.
	apiCreates = 500
	// apiWarmup creates precede the timed ones in each sub-benchmark (connections, caches,
	// the API server's admission plugin state).
	apiWarmup = 50
	// apiTeamNS is covered by the rendered VWC and the hostname VAP; apiExcludedNS belongs
	// to the same team but is selected out of both (added to their NotIn namespace lists).
	apiTeamNS     = "bench-a"
	apiExcludedNS = "bench-a-excluded"
)

// BenchmarkAPIServerCreates times HTTPRoute creates through a real kube-apiserver, one at a
// time, as the owning team's impersonated user (admins bypass both the webhook and the VAP by
// match condition, so the team user is required; impersonation costs the same in every
// sub-benchmark). Sub-benchmarks, in this order on one API server:
//
//   - excluded: the rendered VWC and VAPs are installed but the namespace is selected out of
//     both; the handler's decision counter proves the webhook is not called.
//   - webhook: the namespace is covered by the rendered VWC (webhook served in-process by
//     webhook.Run) and, as deployed, also by the hostname-delegation VAP.
//   - vap: the VWC is deleted; only the hostname-delegation VAP judges the creates.
//
// Each reports median-ms and p99-ms of the per-create latency seen by the client. On a
// shared machine the drift between runs a few seconds apart is as large as the effect, so
// webhook and vap interleave their creates with as many in the excluded namespace (the
// control, control-median-ms) and report added-median-ms = median - control median.
// Run with -benchtime 1x: each iteration is 500 creates (plus 500 control creates).
func BenchmarkAPIServerCreates(b *testing.B) {
	a := startAPIBench(b)
	b.Run("excluded", func(b *testing.B) {
		a.run(b, apiExcludedNS, false, false)
	})
	b.Run("webhook", func(b *testing.B) {
		a.run(b, apiTeamNS, true, true)
	})
	b.Run("vap", func(b *testing.B) {
		a.removeWebhook(b)
		a.run(b, apiTeamNS, false, true)
	})
}

// apiBench is one API server with the rendered webhook objects and a running webhook.
type apiBench struct {
	kube  *envtest.Env
	team  client.Client
	ctx   context.Context
	names int // route names handed out so far
}

func apiBenchEnv() model.Environment {
	return model.Environment{
		Name: "apibench", PlatformNamespace: "gateways", PlatformGroup: "platform-admins",
		Gateways: []model.Gateway{{Name: "public", Namespace: "gateways", Listeners: []model.Listener{
			{Name: "http", Protocol: "HTTP", Port: 80, Teams: []string{"bench-a"}},
		}}},
		Teams: []model.Team{{Name: "bench-a", Group: "bench-a", Namespaces: []string{apiTeamNS, apiExcludedNS},
			Hostnames: []string{"*.bench-a.example.com"}}},
		Cilium:   model.Cilium{HostNetworkPods: 2},
		Versions: model.Versions{Enigate: "v0.0.0-test"},
		Enigate:  model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "enigate"}, WebhookReplicas: 2, CapacityEnforcement: "deny"},
	}
}

// startAPIBench starts the API server with the rendered VWC, installs the rendered policy
// ConfigMap, VAPs and team RBAC, and runs the webhook in-process until the benchmark ends.
func startAPIBench(b *testing.B) *apiBench {
	// Without a logger controller-runtime prints a stack trace after 30 s; logs are not
	// wanted in a benchmark.
	ctrllog.SetLogger(logr.Discard())
	env := apiBenchEnv()
	vwc := deploy.WebhookConfiguration(env, "", nil)
	for i := range vwc.Webhooks {
		if vwc.Webhooks[i].Name == "routes.enigate.io" {
			excludeNamespace(b, vwc.Webhooks[i].NamespaceSelector, apiExcludedNS)
		}
	}
	root, err := envtest.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	gwDir, err := envtest.GatewayAPIDir(root)
	if err != nil {
		b.Fatal(err)
	}
	exp := filepath.Join(gwDir, "config", "crd", "experimental")
	kube := envtest.Start(b,
		envtest.WithWebhooks(crenvtest.WebhookInstallOptions{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{vwc}}),
		envtest.WithCRDPaths(filepath.Join(exp, "gateway.networking.k8s.io_tcproutes.yaml"), filepath.Join(exp, "gateway.networking.k8s.io_udproutes.yaml")))
	ctx, cancel := context.WithCancel(context.Background())
	admin := kube.Client
	for _, ns := range []string{"enigate-system", "gateways", apiTeamNS, apiExcludedNS} {
		mustCreateB(b, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	objs, err := deploy.Webhook(env)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			if o.Spec.MatchResources != nil && o.Spec.MatchResources.NamespaceSelector != nil {
				excludeNamespace(b, o.Spec.MatchResources.NamespaceSelector, apiExcludedNS)
			}
			mustCreateB(b, admin, o)
		case *corev1.ConfigMap, *admissionregistrationv1.ValidatingAdmissionPolicy:
			mustCreateB(b, admin, o)
		}
	}
	for _, o := range rbac.Objects(env, nil) {
		mustCreateB(b, admin, o.(client.Object))
	}
	mustCreateB(b, admin, apiGateway())

	serveWebhook(b, ctx, cancel, kube)
	return &apiBench{kube: kube, team: kube.Impersonate("alice", "bench-a"), ctx: ctx}
}

// run warms up, then times apiCreates distinct valid HTTPRoute creates per b.N in ns (and,
// with control, as many in the excluded namespace, alternating which goes first), checks
// that the webhook was called for every create in ns (called) or for none, and reports the
// quantiles.
func (a *apiBench) run(b *testing.B, ns string, called, control bool) {
	// Hostname delegation: when a VAP (or the webhook) covers ns, a foreign hostname is
	// denied; in the excluded namespace nothing stops it.
	err := a.team.Create(a.ctx, apiRoute(ns, a.nextName(), "x.other.example.com"))
	switch {
	case ns == apiExcludedNS && err != nil:
		b.Fatalf("excluded namespace: foreign hostname denied: %v", err)
	case ns != apiExcludedNS && !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err):
		b.Fatalf("covered namespace: foreign hostname not denied: %v", err)
	}
	for i := range apiWarmup {
		warm := ns
		if control && i%2 == 1 {
			warm = apiExcludedNS
		}
		if err := a.team.Create(a.ctx, apiRoute(warm, a.nextName())); err != nil {
			b.Fatal(err)
		}
	}
	timed := func(ns string, into *[]time.Duration) {
		r := apiRoute(ns, a.nextName())
		start := time.Now()
		err := a.team.Create(a.ctx, r)
		*into = append(*into, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	before := routeDecisions(b)
	samples := make([]time.Duration, 0, apiCreates*b.N)
	var controls []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range apiCreates {
			switch {
			case !control:
				timed(ns, &samples)
			case i%2 == 0:
				timed(ns, &samples)
				timed(apiExcludedNS, &controls)
			default:
				timed(apiExcludedNS, &controls)
				timed(ns, &samples)
			}
		}
	}
	b.StopTimer()
	switch got := routeDecisions(b) - before; {
	case called && got != float64(len(samples)):
		b.Fatalf("webhook decided %v HTTPRoutes for %d creates", got, len(samples))
	case !called && got != 0:
		b.Fatalf("webhook called %v times, want 0", got)
	}
	median, p99 := quantiles(samples)
	b.ReportMetric(ms(median), "median-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	if control {
		cm, _ := quantiles(controls)
		b.ReportMetric(ms(cm), "control-median-ms")
		b.ReportMetric(ms(median-cm), "added-median-ms")
	}
	b.ReportMetric(0, "ns/op") // the per-create quantiles are the result, not the loop time
}

// removeWebhook deletes the VWC and waits until the API server stops calling the webhook.
func (a *apiBench) removeWebhook(b *testing.B) {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: deploy.WebhookConfigName}}
	if err := a.kube.Client.Delete(a.ctx, vwc); err != nil && !apierrors.IsNotFound(err) {
		b.Fatal(err)
	}
	for range 600 {
		before := routeDecisions(b)
		if err := a.team.Create(a.ctx, apiRoute(apiTeamNS, a.nextName())); err != nil {
			b.Fatal(err)
		}
		if routeDecisions(b) == before {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("API server still calls the webhook a minute after the VWC was deleted")
}

func (a *apiBench) nextName() string {
	a.names++
	return fmt.Sprintf("r-%d", a.names)
}
