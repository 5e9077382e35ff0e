package webhook_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/generators/rbac"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/envtest"
)

func integrationEnv() model.Environment {
	return model.Environment{
		Name: "itest", PlatformNamespace: "gateways", PlatformGroup: "platform-admins",
		Gateways: []model.Gateway{{Name: "public", Namespace: "gateways", Listeners: []model.Listener{
			{Name: "http", Protocol: "HTTP", Port: 80, Teams: []string{"team-a", "team-b"}},
			{Name: "https-a", Protocol: "HTTPS", Port: 443, Hostname: "*.team-a.example.com", Teams: []string{"team-a"}},
		}}},
		Teams: []model.Team{
			{Name: "team-a", Group: "team-a", Namespaces: []string{"team-a"}, Hostnames: []string{"*.team-a.example.com"},
				SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/api"}}},
				Backends:    []model.BackendTarget{{Kind: "Service", Namespace: "shared-svc", Name: "db"}}},
			{Name: "team-b", Group: "team-b", Namespaces: []string{"team-b"}, Hostnames: []string{"*.team-b.example.com"},
				SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/web"}}}},
		},
		Cilium:   model.Cilium{HostNetworkPods: 2},
		Versions: model.Versions{Enigate: "v0.0.0-test"},
		Enigate: model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "enigate"}, WebhookReplicas: 2, CapacityEnforcement: "deny",
			PolicyWriters: []string{gitopsWriter}},
	}
}

// TestIntegration registers the rendered ValidatingWebhookConfiguration (pointed at a local
// server by envtest), runs the webhook against a real kube-apiserver, and acts as team users
// holding the rendered team RBAC.
func TestIntegration(t *testing.T) {
	env := integrationEnv()
	vwc := deploy.WebhookConfiguration(env, "", nil)
	root, err := envtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	gwDir, err := envtest.GatewayAPIDir(root)
	if err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(gwDir, "config", "crd", "experimental")
	kube := envtest.Start(t,
		envtest.WithWebhooks(crenvtest.WebhookInstallOptions{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{vwc}}),
		envtest.WithCRDPaths(filepath.Join(exp, "gateway.networking.k8s.io_tcproutes.yaml"), filepath.Join(exp, "gateway.networking.k8s.io_udproutes.yaml"),
			filepath.Join(exp, "gateway.networking.x-k8s.io_xlistenersets.yaml")))
	ctx, cancel := context.WithCancel(context.Background())
	admin := kube.Client

	for _, ns := range []string{"enigate-system", "gateways", "team-a", "team-b", "shared-svc", "certs"} {
		mustCreate(t, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	objs, err := deploy.Webhook(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.(type) {
		case *corev1.ConfigMap, *admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			mustCreate(t, admin, o)
		}
	}
	for _, o := range rbac.Objects(env, []string{"certs"}) {
		mustCreate(t, admin, o.(client.Object))
	}
	mustCreate(t, admin, &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "cilium", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: "HTTP"}, {Name: "https-a", Port: 443, Protocol: "HTTPS", Hostname: ptr(gwv1.Hostname("*.team-a.example.com"))}}}})

	serveWebhook(t, ctx, cancel, kube, deploy.WebhookPolicyWriters(env)...)
	teamA := kube.Impersonate("alice", "team-a")
	teamB := kube.Impersonate("bob", "team-b")

	t.Run("own hostname", func(t *testing.T) {
		if err := teamA.Create(ctx, route("team-a", "own", "shop.team-a.example.com")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another team's hostname", func(t *testing.T) {
		// The API server runs ValidatingAdmissionPolicies before webhooks: the rendered
		// hostname policy answers first (the webhook's own hostname rule is unit-tested).
		expectDenied(t, teamA.Create(ctx, route("team-a", "steal", "shop.team-b.example.com")),
			"hostnames shop.team-b.example.com are outside the delegation of namespace team-a")
	})
	t.Run("hostname added on update", func(t *testing.T) {
		var r gwv1.HTTPRoute
		if err := teamA.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "own"}, &r); err != nil {
			t.Fatal(err)
		}
		r.Spec.Hostnames = append(r.Spec.Hostnames, "evil.team-b.example.com")
		expectDenied(t, teamA.Update(ctx, &r), "evil.team-b.example.com")
	})
	t.Run("shared host path of another team", func(t *testing.T) {
		r := route("team-a", "web", "shared.example.com")
		r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/web")}}}}}
		expectDenied(t, teamA.Create(ctx, r), `path "/web"`)
		r.Spec.Rules[0].Matches[0].Path.Value = ptr("/api/v1")
		if err := teamA.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cross-namespace backend needs a named grant", func(t *testing.T) {
		r := route("team-a", "db", "db.team-a.example.com")
		r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: "db", Namespace: ptr(gwv1.Namespace("shared-svc")), Port: ptr(gwv1.PortNumber(5432))}}}}}}
		expectDenied(t, teamA.Create(ctx, r.DeepCopy()), "no ReferenceGrant")
		mustCreate(t, admin, &gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "shared-svc", Name: "db"}, Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "team-a"}},
			To:   []gwv1b1.ReferenceGrantTo{{Kind: "Service", Name: ptr(gwv1b1.ObjectName("db"))}}}})
		eventually(t, func() error { return teamA.Create(ctx, r.DeepCopy()) })
	})
	t.Run("switching to TCPRoute on the shared HTTP listener", func(t *testing.T) {
		r := &gwv1a2.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "tcp"}, Spec: gwv1a2.TCPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "public", Namespace: ptr(gwv1.Namespace("gateways")), SectionName: ptr(gwv1.SectionName("http"))}}},
			Rules:           []gwv1a2.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc", Port: ptr(gwv1.PortNumber(80))}}}}}}}
		expectDenied(t, teamA.Create(ctx, r), "does not carry TCPRoute")
	})
	t.Run("tenant grant without to.name", func(t *testing.T) {
		g := &gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "all"}, Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "team-a"}},
			To:   []gwv1b1.ReferenceGrantTo{{Kind: "Service"}}}}
		expectDenied(t, teamB.Create(ctx, g), "to.name")
	})
	t.Run("tenant may not write the policy", func(t *testing.T) {
		// Give the tenant RBAC on ConfigMaps so that admission, not RBAC, has to stop it.
		mustCreate(t, admin, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "enigate-system", Name: "cm"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "update", "delete"}}}})
		mustCreate(t, admin, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "enigate-system", Name: "cm"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "cm"},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "team-a"}}})
		var cm corev1.ConfigMap
		eventually(t, func() error {
			return teamA.Get(ctx, client.ObjectKey{Namespace: "enigate-system", Name: deploy.WebhookPolicyConfigMap}, &cm)
		})
		cm.Data["hostnames.team-a"] = "*"
		err := teamA.Update(ctx, &cm)
		if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
			t.Fatalf("tenant policy write: %v", err)
		}
		if !strings.Contains(err.Error(), "platform-owned") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("concurrent claims of one hostname", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		okA, okB, deniedB := 0, 0, 0
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, ns := teamA, "team-a"
				if i%2 == 1 {
					c, ns = teamB, "team-b"
				}
				err := c.Create(ctx, route(ns, fmt.Sprintf("race-%d", i), "race.team-a.example.com"))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && ns == "team-a":
					okA++
				case err == nil:
					okB++
				case ns == "team-b" && (apierrors.IsInvalid(err) || apierrors.IsForbidden(err)):
					deniedB++
				default:
					t.Errorf("%s: %v", ns, err)
				}
			}()
		}
		wg.Wait()
		if okA != 25 || okB != 0 || deniedB != 25 {
			t.Errorf("owner created %d/25, other team created %d (want 0), denied %d/25", okA, okB, deniedB)
		}
	})
	t.Run("node over the ENI bound", func(t *testing.T) {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"node.kubernetes.io/instance-type": "m7g.xlarge"}}}
		mustCreate(t, admin, n)
		n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("58")}
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("58")}
		// Admins are not exempt from capacity rules: kubelets write node status.
		expectDenied(t, admin.Status().Update(ctx, n), "exceeds the bound")
		n.Status.Capacity[corev1.ResourcePods] = resource.MustParse("56")
		n.Status.Allocatable[corev1.ResourcePods] = resource.MustParse("56")
		if err := admin.Status().Update(ctx, n); err != nil {
			t.Fatal(err)
		}
	})
	bypasses(t, ctx, kube)
	t.Run("policy hot reload and broken policy", func(t *testing.T) {
		var cm corev1.ConfigMap
		if err := admin.Get(ctx, client.ObjectKey{Namespace: "enigate-system", Name: deploy.WebhookPolicyConfigMap}, &cm); err != nil {
			t.Fatal(err)
		}
		var p model.Policy
		if err := yaml.Unmarshal([]byte(cm.Data[deploy.WebhookPolicyKey]), &p); err != nil {
			t.Fatal(err)
		}
		p.Teams[0].Hostnames = append(p.Teams[0].Hostnames, "new.example.org")
		data, _ := yaml.Marshal(p)
		cm.Data[deploy.WebhookPolicyKey] = string(data)
		cm.Data["hostnames.team-a"] += " new.example.org"
		if err := admin.Update(ctx, &cm); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() error { return teamA.Create(ctx, route("team-a", "new", "new.example.org")) })

		cm.Data[deploy.WebhookPolicyKey] = "environment: broken\nteams: [{name: x, hostnames: ['*']}]\n"
		if err := admin.Update(ctx, &cm); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() error {
			if v := gauge(t, "enigate_webhook_policy_current"); v != 0 {
				return fmt.Errorf("policy_current = %v", v)
			}
			return nil
		})
		// The last good policy still rules.
		expectDenied(t, teamA.Create(ctx, route("team-a", "still", "x.team-b.example.com")), "team-b")
		if err := teamA.Create(ctx, route("team-a", "still-ok", "ok.team-a.example.com")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("runtime metrics", func(t *testing.T) {
		// Registered by Run (controller-runtime's controller package, which would register them
		// at init, is not linked).
		if gauge(t, "go_goroutines") <= 0 || gauge(t, "process_start_time_seconds") <= 0 {
			t.Error("go_goroutines and process_start_time_seconds must be positive")
		}
	})
}

func route(ns, name string, hosts ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "public", Namespace: ptr(gwv1.Namespace("gateways")), SectionName: ptr(gwv1.SectionName("http"))}}
	for _, h := range hosts {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func mustCreate(t *testing.T, c client.Client, o client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), o); err != nil {
		t.Fatalf("create %T %s: %v", o, o.GetName(), err)
	}
}

func expectDenied(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("allowed, want denial mentioning %q", want)
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Fatalf("error %v is not a denial", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("denial %q lacks %q", err, want)
	}
}

// eventually retries f until it succeeds (informer propagation), for at most a minute.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	var err error
	for range 600 {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal(err)
}

func gauge(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
