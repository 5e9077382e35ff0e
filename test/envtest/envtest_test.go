package envtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/test/envtest"
)

// One API server for every subtest: starting one costs seconds.
func TestEnv(t *testing.T) {
	env := envtest.Start(t)
	t.Run("DryRunApply", func(t *testing.T) { testDryRunApply(t, env) })
	t.Run("Impersonate", func(t *testing.T) { testImpersonate(t, env) })
}

const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: gateway-system}
spec:
  gatewayClassName: cilium
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
`

// route returns an HTTPRoute in team-a attached to parents distinct listeners of the shared
// Gateway (the CRD rejects duplicate parentRefs before counting them).
func route(name, hostname string, parents int) string {
	var refs string
	for i := range parents {
		refs += fmt.Sprintf("\n  - {name: shared, namespace: gateway-system, sectionName: l%d}", i)
	}
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: team-a}
spec:
  parentRefs:%s
  hostnames: [%q]
  rules:
  - backendRefs: [{name: web, port: 8080}]
`, name, refs, hostname)
}

const ciliumNode = `
apiVersion: cilium.io/v2
kind: CiliumNode
metadata: {name: ip-10-0-1-23.ec2.internal}
spec:
  eni: {first-interface-index: 1, instance-type: m5.large}
`

const certificate = `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: wildcard, namespace: gateway-system}
spec:
  secretName: wildcard-tls
  dnsNames: ["*.example.com"]
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
`

func testDryRunApply(t *testing.T, env *envtest.Env) {
	// failure is one expected line of DryRunApply's error: the object, then a message part.
	type failure struct{ ref, contains string }
	tests := []struct {
		name string
		docs []string
		want []failure // none means every object is accepted
	}{
		{name: "valid gateway and route", docs: []string{gateway, route("web", "web.example.com", 1)}},
		{name: "vendored cilium and cert-manager kinds", docs: []string{ciliumNode, certificate}},
		{
			name: "uppercase hostname",
			docs: []string{gateway, route("upper", "Web.Example.com", 1)},
			want: []failure{{`HTTPRoute/team-a/upper`, `"upper" is invalid: spec.hostnames[0]: Invalid value: "Web.Example.com"`}},
		},
		{
			name: "every failure reported, one line each",
			docs: []string{route("upper", "Web.Example.com", 1), gateway, route("crowded", "web.example.com", 33)},
			want: []failure{
				{`HTTPRoute/team-a/upper`, `spec.hostnames[0]`},
				{`HTTPRoute/team-a/crowded`, `spec.parentRefs: Too many: 33: must have at most 32 items`},
			},
		},
		{
			name: "unknown field",
			docs: []string{strings.Replace(gateway, "gatewayClassName:", "gatewayClass:", 1)},
			want: []failure{{`Gateway/gateway-system/shared`, `.spec.gatewayClass: field not declared in schema`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			objs := parse(t, tt.docs)
			err := env.DryRunApply(ctx, objs)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("DryRunApply() = %v, want nil", err)
				}
				for _, obj := range objs {
					got := &unstructured.Unstructured{}
					got.SetGroupVersionKind(obj.GroupVersionKind())
					if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); !apierrors.IsNotFound(err) {
						t.Errorf("get %s/%s after dry run: %v, want not found", obj.GetKind(), obj.GetName(), err)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("DryRunApply() = nil, want %d failures", len(tt.want))
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("DryRunApply() has %d lines, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(lines[i], want.ref+": ") || !strings.Contains(lines[i], want.contains) {
					t.Errorf("line %d = %q, want %q then %q", i, lines[i], want.ref+": ", want.contains)
				}
			}
			var objErr *envtest.ObjectError
			var status apierrors.APIStatus
			if !errors.As(err, &objErr) || !errors.As(objErr, &status) {
				t.Errorf("DryRunApply() = %v, want an *ObjectError wrapping the API server's status", err)
			}
		})
	}
}

// waitAllowed waits until the RBAC authorizer's cache lets user in group create HTTPRoutes
// in team-a: the RoleBinding just created reaches it asynchronously.
func waitAllowed(t *testing.T, env *envtest.Env, user, group string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{group},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: "team-a", Verb: "create", Group: gatewayv1.GroupName, Resource: "httproutes",
			},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			return false, err
		}
		return sar.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("wait for rbac of %s: %v", user, err)
	}
}

func parse(t *testing.T, docs []string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, doc := range docs {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("parse fixture: %v\n%s", err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

func testImpersonate(t *testing.T, env *envtest.Env) {
	ctx := context.Background()
	if err := env.EnsureNamespaces(ctx, parse(t, []string{route("x", "x.example.com", 1)})); err != nil {
		t.Fatal(err)
	}
	// alice may write HTTPRoutes in team-a; mallory has no RBAC at all.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "route-writer", Namespace: "team-a"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{gatewayv1.GroupName}, Resources: []string{"httproutes"}, Verbs: []string{"create"},
		}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "route-writer", Namespace: "team-a"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "route-writer"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "team-a-devs"}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	waitAllowed(t, env, "alice", "team-a-devs")

	tests := []struct {
		name      string
		user      string
		groups    []string
		forbidden bool
	}{
		{name: "no rbac", user: "mallory", forbidden: true},
		{name: "group bound to role", user: "alice", groups: []string{"team-a-devs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &gatewayv1.HTTPRoute{
				ObjectMeta: metav1.ObjectMeta{Name: "by-" + tt.user, Namespace: "team-a"},
				Spec: gatewayv1.HTTPRouteSpec{
					CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "shared"}}},
				},
			}
			err := env.Impersonate(tt.user, tt.groups...).Create(ctx, obj, client.DryRunAll)
			if got := apierrors.IsForbidden(err); got != tt.forbidden {
				t.Fatalf("create as %s: %v, want forbidden=%v", tt.user, err, tt.forbidden)
			}
			if !tt.forbidden && err != nil {
				t.Fatalf("create as %s: %v", tt.user, err)
			}
		})
	}
}
