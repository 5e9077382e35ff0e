package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/envtest"
	"github.com/enigate/enigate/webhook/audit"
	"github.com/enigate/enigate/webhook/policyreport"
)

func auditEnv() model.Environment {
	return model.Environment{
		Name: "atest", PlatformNamespace: "gateways", PlatformGroup: "platform-admins",
		Gateways: []model.Gateway{{Name: "public", Namespace: "gateways", Listeners: []model.Listener{
			{Name: "https-a", Protocol: "HTTPS", Port: 443, Hostname: "*.team-a.example.com", Teams: []string{"team-a"}},
		}}},
		Teams: []model.Team{
			{Name: "team-a", Group: "team-a", Namespaces: []string{"team-a"}, Hostnames: []string{"*.team-a.example.com"}},
			{Name: "team-b", Group: "team-b", Namespaces: []string{"team-b"}, Hostnames: []string{"*.team-b.example.com"}},
		},
		Cilium:   model.Cilium{HostNetworkPods: 2},
		Versions: model.Versions{Enigate: "v0.0.0-test"},
		Enigate:  model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "enigate"}, WebhookReplicas: 2, CapacityEnforcement: "deny"},
	}
}

func policyYAML(t *testing.T, env model.Environment) string {
	t.Helper()
	b, err := yaml.Marshal(model.PolicyFor(env))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func httpRoute(name, host string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "public", Namespace: ptr(gwv1.Namespace("gateways")), SectionName: ptr(gwv1.SectionName("https-a"))}}},
		Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
		Rules: []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/shop")}}},
			BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "shop", Port: ptr(gwv1.PortNumber(80))}}}}}},
	}}
}

// results renders a report's results as "Kind ns/name rule field" lines; nil when the
// report does not exist.
func results(ctx context.Context, c client.Client, kind, ns string) ([]string, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(policyreport.GroupVersion.WithKind(kind))
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: audit.ReportName}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	items, _, _ := unstructured.NestedSlice(u.Object, "results")
	out := []string{}
	for _, it := range items {
		r := it.(map[string]any)
		res := r["resources"].([]any)[0].(map[string]any)
		field, _, _ := unstructured.NestedString(r, "properties", "field")
		ns, _ := res["namespace"].(string)
		out = append(out, fmt.Sprintf("%s %s %s/%s %s %s", r["result"], res["kind"], ns, res["name"], r["rule"], field))
	}
	return out, nil
}

// waitFor polls a report until its results are want (nil: the report does not exist).
func waitFor(t *testing.T, c client.Client, kind, ns string, want []string) {
	t.Helper()
	var got []string
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got, err = results(context.Background(), c, kind, ns)
		if err == nil && fmt.Sprint(got) == fmt.Sprint(want) && (got == nil) == (want == nil) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s %s: results\n%s\nwant\n%s\n(err %v)", kind, ns, strings.Join(got, "\n"), strings.Join(want, "\n"), err)
}

func violationsMetric(ns, rule string) float64 {
	mfs, _ := ctrlmetrics.Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "enigate_audit_violations" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["rule"] == rule {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// TestAuditOnTheAPIServer creates violating objects with no webhook installed, runs the audit
// as the rendered audit ServiceAccount (so its RBAC is exercised), and follows its reports
// through a policy change and deletions.
func TestAuditOnTheAPIServer(t *testing.T) {
	log.SetLogger(logr.Discard())
	kube := envtest.Start(t, envtest.WithCRDPaths(filepath.Join("..", "policyreport", "data")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := kube.Client
	create := func(o client.Object) {
		t.Helper()
		if err := admin.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	for _, ns := range []string{"enigate-system", "gateways", "team-a", "team-b"} {
		create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	env := auditEnv()
	objs, err := deploy.Audit(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.GetObjectKind().GroupVersionKind().Kind {
		case "CustomResourceDefinition", "Deployment":
		default:
			create(o)
		}
	}
	policy := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "enigate-system", Name: deploy.WebhookPolicyConfigMap},
		Data: map[string]string{deploy.WebhookPolicyKey: policyYAML(t, env)}}
	create(policy)
	create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "cilium", Listeners: []gwv1.Listener{{Name: "https-a", Port: 443, Protocol: "HTTPS", Hostname: ptr(gwv1.Hostname("*.team-a.example.com"))}}}})
	// Written with no webhook: nothing stops them.
	create(httpRoute("foreign", "x.team-b.example.com"))
	create(httpRoute("shop", "shop.team-a.example.com"))
	time.Sleep(1100 * time.Millisecond) // a later creationTimestamp (second resolution)
	create(httpRoute("shop-copy", "shop.team-a.example.com"))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"node.kubernetes.io/instance-type": "m7g.xlarge"}}}
	create(node)
	node.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("58")}
	if err := admin.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}

	cfg := rest.CopyConfig(kube.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:enigate-system:" + deploy.AuditName,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:enigate-system"}}
	done := make(chan error, 1)
	go func() {
		done <- audit.Run(ctx, audit.Options{Config: cfg, Interval: time.Hour, Settle: 200 * time.Millisecond, MetricsAddr: "0", HealthAddr: "0"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("audit: %v", err)
		}
	})

	t.Run("violations appear with rule and field", func(t *testing.T) {
		waitFor(t, admin, policyreport.KindPolicyReport, "team-a", []string{
			"fail HTTPRoute team-a/foreign hostname spec.hostnames[0]",
			"fail HTTPRoute team-a/shop-copy hostname-conflict spec.rules[0].matches[0]",
		})
		// The API server copies status.capacity to an unset status.allocatable.
		waitFor(t, admin, policyreport.KindClusterPolicyReport, "", []string{
			"fail Node /n1 capacity status.allocatable[pods]",
			"fail Node /n1 capacity status.capacity[pods]",
		})
		waitFor(t, admin, policyreport.KindPolicyReport, "gateways", []string{})
		if v := violationsMetric("team-a", "hostname"); v != 1 {
			t.Errorf("enigate_audit_violations{team-a,hostname} = %v, want 1", v)
		}
	})
	t.Run("events on the offending object", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var l eventsv1.EventList
			if err := admin.List(ctx, &l, client.InNamespace("team-a")); err != nil {
				t.Fatal(err)
			}
			for _, e := range l.Items {
				if e.Regarding.Name == "foreign" && e.Regarding.Kind == "HTTPRoute" && e.Reason == "PolicyViolation" && e.Type == corev1.EventTypeWarning &&
					strings.HasPrefix(e.Note, `hostname: spec.hostnames[0]: Forbidden: hostname "x.team-b.example.com" belongs to team "team-b"`) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no PolicyViolation event on HTTPRoute team-a/foreign among %d events", len(l.Items))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("a policy change moves them", func(t *testing.T) {
		// team-a gets x.team-b.example.com and loses *.team-a.example.com.
		moved := auditEnv()
		moved.Teams[0].Hostnames = []string{"x.team-b.example.com"}
		moved.Teams[1].Hostnames = []string{"*.b.example.com"}
		moved.Gateways[0].Listeners[0].Hostname = ""
		policy.Data[deploy.WebhookPolicyKey] = policyYAML(t, moved)
		if err := admin.Update(ctx, policy); err != nil {
			t.Fatal(err)
		}
		waitFor(t, admin, policyreport.KindPolicyReport, "team-a", []string{
			"fail HTTPRoute team-a/shop hostname spec.hostnames[0]",
			"fail HTTPRoute team-a/shop-copy hostname spec.hostnames[0]",
			"fail HTTPRoute team-a/shop-copy hostname-conflict spec.rules[0].matches[0]",
		})
	})
	t.Run("deleting an object clears its entry", func(t *testing.T) {
		if err := admin.Delete(ctx, httpRoute("shop-copy", "")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, admin, policyreport.KindPolicyReport, "team-a", []string{"fail HTTPRoute team-a/shop hostname spec.hostnames[0]"})
		for _, name := range []string{"shop", "foreign"} {
			if err := admin.Delete(ctx, httpRoute(name, "")); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, admin, policyreport.KindPolicyReport, "team-a", nil)
		if v := violationsMetric("team-a", "hostname"); v != 0 {
			t.Errorf("enigate_audit_violations{team-a,hostname} = %v after the deletes", v)
		}
	})
	select {
	case err := <-done:
		t.Fatalf("audit stopped: %v", errors.Join(err, errors.New("early")))
	default:
	}
}
