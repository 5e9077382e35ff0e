package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/envtest"
)

// gitopsWriter is the GitOps controller's service account the integration environment
// declares as a policy writer (enigate.policyWriters).
const gitopsWriter = "system:serviceaccount:argocd:argocd-application-controller"

// bypasses runs the admission bypasses and wrongly denied operations found by trying the
// rendered VWC, VAPs and RBAC as an adversary, each through the real API server. Subtests leave
// the policy as they found it.
func bypasses(t *testing.T, ctx context.Context, kube *envtest.Env) {
	admin := kube.Client
	teamA := kube.Impersonate("alice", "team-a")
	// Tenant RBAC beyond the rendered one, so that admission, not RBAC, has to stop them.
	grant := func(ns, name, group string, rules ...rbacv1.PolicyRule) {
		mustCreate(t, admin, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules})
		mustCreate(t, admin, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: group}}})
	}
	grant("enigate-system", "cm-collection", "team-a", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list", "deletecollection"}})
	grant("team-a", "listenersets", "team-a", rbacv1.PolicyRule{APIGroups: []string{"gateway.networking.x-k8s.io"}, Resources: []string{"xlistenersets"}, Verbs: []string{"create"}})
	grant("enigate-system", "gitops", "system:serviceaccounts:argocd", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "update"}})
	policyKey := client.ObjectKey{Namespace: "enigate-system", Name: deploy.WebhookPolicyConfigMap}

	t.Run("collection delete of the policy", func(t *testing.T) {
		del := func() error {
			return teamA.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace("enigate-system"),
				client.MatchingFields{"metadata.name": deploy.WebhookPolicyConfigMap})
		}
		// The ValidatingAdmissionPolicy answers first; then, with its binding gone, the webhook.
		expectDenied(t, del(), "platform-owned")
		binding := vapBinding("enigate-policy-object")
		if err := admin.Get(ctx, client.ObjectKeyFromObject(binding), binding); err != nil {
			t.Fatal(err)
		}
		saved := binding.DeepCopy()
		if err := admin.Delete(ctx, binding); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() error {
			err := del()
			if err == nil || !strings.Contains(err.Error(), "may not change it") {
				return fmt.Errorf("webhook denial expected, got %v", err)
			}
			return nil
		})
		saved.SetResourceVersion("")
		mustCreate(t, admin, saved)
		var cm corev1.ConfigMap
		if err := admin.Get(ctx, policyKey, &cm); err != nil {
			t.Fatalf("policy ConfigMap gone: %v", err)
		}
	})

	t.Run("spec change on a terminating route", func(t *testing.T) {
		r := route("team-a", "terminating", "term.team-a.example.com")
		r.Finalizers = []string{"team-a.example.com/keep"}
		if err := teamA.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := teamA.Delete(ctx, r); err != nil {
			t.Fatal(err)
		}
		get := func() *gwv1.HTTPRoute {
			var cur gwv1.HTTPRoute
			if err := teamA.Get(ctx, client.ObjectKeyFromObject(r), &cur); err != nil {
				t.Fatal(err)
			}
			if cur.DeletionTimestamp == nil {
				t.Fatal("route not terminating")
			}
			return &cur
		}
		foreign := get()
		foreign.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: "payments", Namespace: ptr(gwv1.Namespace("team-b")), Port: ptr(gwv1.PortNumber(80))}}}}}}
		expectDenied(t, teamA.Update(ctx, foreign), `may not reference Service team-b/payments`)
		moved := get()
		moved.Spec.ParentRefs[0].Name = "rogue"
		expectDenied(t, teamA.Update(ctx, moved), `Gateway gateways/rogue is not in policy`)
		dropped := get()
		dropped.Spec.Hostnames = nil
		expectDenied(t, teamA.Update(ctx, dropped), `must declare hostnames`)
		// What the ratchet is for: removing the finalizer.
		done := get()
		done.Finalizers = nil
		if err := teamA.Update(ctx, done); err != nil {
			t.Fatalf("finalizer removal: %v", err)
		}
	})

	t.Run("hostname moved to another team: the old route can still be edited and deleted", func(t *testing.T) {
		var cm corev1.ConfigMap
		if err := admin.Get(ctx, policyKey, &cm); err != nil {
			t.Fatal(err)
		}
		original := cm.DeepCopy()
		setPolicy := func(team int, extra string) {
			t.Helper()
			var cur corev1.ConfigMap
			if err := admin.Get(ctx, policyKey, &cur); err != nil {
				t.Fatal(err)
			}
			var p model.Policy
			if err := yaml.Unmarshal([]byte(original.Data[deploy.WebhookPolicyKey]), &p); err != nil {
				t.Fatal(err)
			}
			p.Teams[team].Hostnames = append(p.Teams[team].Hostnames, extra)
			data, _ := yaml.Marshal(p)
			cur.Data = map[string]string{}
			for k, v := range original.Data {
				cur.Data[k] = v
			}
			cur.Data[deploy.WebhookPolicyKey] = string(data)
			cur.Data["hostnames."+p.Teams[team].Namespaces[0]] += " " + extra
			if err := admin.Update(ctx, &cur); err != nil {
				t.Fatal(err)
			}
		}
		setPolicy(0, "moving.example.org")
		r := route("team-a", "moving", "moving.example.org")
		r.Finalizers = []string{"team-a.example.com/keep"}
		eventually(t, func() error { return teamA.Create(ctx, r.DeepCopy()) })
		setPolicy(1, "moving.example.org")
		eventually(t, func() error {
			if err := teamA.Create(ctx, route("team-a", "moving-2", "moving.example.org")); err == nil {
				return fmt.Errorf("moved hostname still admitted for team-a")
			}
			return nil
		})
		var cur gwv1.HTTPRoute
		if err := teamA.Get(ctx, client.ObjectKeyFromObject(r), &cur); err != nil {
			t.Fatal(err)
		}
		cur.Labels = map[string]string{"edited": "true"}
		if err := teamA.Update(ctx, &cur); err != nil {
			t.Fatalf("label edit on the old route: %v", err)
		}
		if err := teamA.Delete(ctx, &cur); err != nil {
			t.Fatal(err)
		}
		if err := teamA.Get(ctx, client.ObjectKeyFromObject(r), &cur); err != nil {
			t.Fatal(err)
		}
		cur.Finalizers = nil
		if err := teamA.Update(ctx, &cur); err != nil {
			t.Fatalf("finalizer removal on the old route: %v", err)
		}
		var back corev1.ConfigMap
		if err := admin.Get(ctx, policyKey, &back); err != nil {
			t.Fatal(err)
		}
		back.Data = original.Data
		if err := admin.Update(ctx, &back); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("node pods that wrap an int conversion", func(t *testing.T) {
		for i, pods := range []string{"18446744073709551672", "9223372036854775808", "1e1000000"} {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "wrap-" + string(rune('a'+i)), Labels: map[string]string{"node.kubernetes.io/instance-type": "m7g.xlarge"}}}
			mustCreate(t, kube.Client, n)
			n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse(pods)}
			expectDenied(t, kube.Client.Status().Update(ctx, n), "exceeds the bound")
		}
	})

	t.Run("CiliumNode relabelled to a smaller instance type", func(t *testing.T) {
		cn := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
			"metadata": map[string]any{"name": "cn1", "labels": map[string]any{"node.kubernetes.io/instance-type": "m7g.16xlarge"}},
			"spec":     map[string]any{"ipam": map[string]any{"max-allocate": int64(100)}},
		}}
		mustCreate(t, kube.Client, cn)
		cn.SetLabels(map[string]string{"node.kubernetes.io/instance-type": "M7G.XLARGE"})
		expectDenied(t, kube.Client.Update(ctx, cn), "max-allocate 100 on m7g.xlarge exceeds")
		// An unknown spec.eni.instance-type does not hide the label's known type.
		cn.SetLabels(map[string]string{"node.kubernetes.io/instance-type": "m7g.xlarge"})
		if err := unstructured.SetNestedField(cn.Object, "zz9.mega", "spec", "eni", "instance-type"); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, kube.Client.Update(ctx, cn), "max-allocate 100 on m7g.xlarge exceeds")
	})

	t.Run("tenant listener on a shared host or with the platform's certificate", func(t *testing.T) {
		ls := func(name, host, certNS string) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "gateway.networking.x-k8s.io/v1alpha1", "kind": "XListenerSet",
				"metadata": map[string]any{"namespace": "team-a", "name": name},
				"spec": map[string]any{
					"parentRef": map[string]any{"name": "public", "namespace": "gateways", "kind": "Gateway", "group": "gateway.networking.k8s.io"},
					"listeners": []any{map[string]any{"name": "l", "port": int64(443), "protocol": "HTTPS", "hostname": host,
						"tls": map[string]any{"mode": "Terminate", "certificateRefs": []any{map[string]any{"name": "wildcard", "namespace": certNS}}}}},
				},
			}}
		}
		expectDenied(t, teamA.Create(ctx, ls("shared", "shared.example.com", "team-a")), `shared host "shared.example.com" is split by path prefix`)
		expectDenied(t, teamA.Create(ctx, ls("cert", "app.team-a.example.com", "certs")), `certificate lives in a namespace of team "team-a", not "certs"`)
	})

	t.Run("path with encoded dot segments on the shared host", func(t *testing.T) {
		r := route("team-a", "dotdot", "shared.example.com")
		r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/api/%2e%2e/web")}}}}}
		expectDenied(t, teamA.Create(ctx, r), "also encoded as %2E")
	})

	t.Run("most violations a tenant can send through the API server", func(t *testing.T) {
		// The CRD's limits: 16 rules x 16 backendRefs x 16 filters, each filter mirroring to
		// a Service of another team: 4,352 cross-namespace references in one request.
		r := route("team-a", "worst", "worst.team-a.example.com")
		mirror := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{
			BackendRef: gwv1.BackendObjectReference{Name: "svc", Namespace: ptr(gwv1.Namespace("team-b")), Port: ptr(gwv1.PortNumber(80))}}}
		for range 16 {
			rule := gwv1.HTTPRouteRule{}
			for range 16 {
				b := gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
					Name: "svc", Namespace: ptr(gwv1.Namespace("team-b")), Port: ptr(gwv1.PortNumber(80))}}}
				for range 16 {
					b.Filters = append(b.Filters, mirror)
				}
				rule.BackendRefs = append(rule.BackendRefs, b)
			}
			r.Spec.Rules = append(r.Spec.Rules, rule)
		}
		start := time.Now()
		if err := admin.Create(ctx, r.DeepCopy(), client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		apiOnly := time.Since(start)
		handlerBefore := decisionSeconds(t, "HTTPRoute")
		start = time.Now()
		err := teamA.Create(ctx, r)
		t.Logf("denied in %s, of which the handler %.3fs (the API server alone, for an admin dry run the webhook skips: %s)",
			time.Since(start), decisionSeconds(t, "HTTPRoute")-handlerBefore, apiOnly)
		expectDenied(t, err, "more violations")
	})

	t.Run("platform creates the rendered grant in a namespace of no team", func(t *testing.T) {
		platform := kube.Impersonate("carol", "platform-admins")
		g := &gwv1b1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "certs", Name: "gateways-wildcard"}, Spec: gwv1b1.ReferenceGrantSpec{
			From: []gwv1b1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "Gateway", Namespace: "gateways"}},
			To:   []gwv1b1.ReferenceGrantTo{{Kind: "Secret", Name: ptr(gwv1b1.ObjectName("wildcard"))}}}}
		if err := platform.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
		tenant := g.DeepCopy()
		tenant.Name = "tenant"
		err := teamA.Create(ctx, tenant)
		if !apierrors.IsForbidden(err) {
			t.Errorf("tenant grant in certs: %v (RBAC must forbid it)", err)
		}
	})

	t.Run("GitOps controller syncs the re-rendered policy", func(t *testing.T) {
		gitops := kube.Impersonate(gitopsWriter, "system:serviceaccounts", "system:serviceaccounts:argocd")
		var cm corev1.ConfigMap
		if err := gitops.Get(ctx, policyKey, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations["argocd.argoproj.io/tracking-id"] = "enigate:/ConfigMap:enigate-system/enigate-policy"
		if err := gitops.Update(ctx, &cm); err != nil {
			t.Fatal(err)
		}
	})
}

func vapBinding(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("admissionregistration.k8s.io/v1")
	u.SetKind("ValidatingAdmissionPolicyBinding")
	u.SetName(name)
	return u
}

// decisionSeconds is the handler's total decision time for kind so far
// (enigate_webhook_decision_duration_seconds).
func decisionSeconds(t *testing.T, kind string) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "enigate_webhook_decision_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return 0
}
