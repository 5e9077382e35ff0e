package crdvalidation_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/crds"
	"github.com/enigate/enigate/schema/crdvalidation"
)

// set is the Gateway API v1.4.1 standard channel plus the vendored Cilium and cert-manager CRDs.
func set(t testing.TB) *crdvalidation.Set {
	t.Helper()
	files, err := crds.GatewayAPI("v1.4.1", "standard")
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	for _, f := range files {
		raw = append(raw, f.Data)
	}
	s, err := crdvalidation.NewSet(append(raw, crdvalidation.Vendored()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func obj(t testing.TB, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidate(t *testing.T) {
	s := set(t)
	tests := []struct {
		name string
		obj  string
		want []string // substrings, one per expected error line; none: valid
	}{
		{name: "valid route", obj: Route(`
  parentRefs: [{name: web, namespace: infra}]
  hostnames: [a.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /api}}], backendRefs: [{name: svc, port: 80}]}]`)},
		{name: "path prefix without slash", obj: Route(`
  rules: [{matches: [{path: {type: PathPrefix, value: api}}], backendRefs: [{name: svc, port: 80}]}]`),
			want: []string{"spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"}},
		{name: "backendRef without port", obj: Route(`
  rules: [{backendRefs: [{name: svc}]}]`),
			want: []string{"spec.rules[0].backendRefs[0]: Invalid value: Must have port for Service reference"}},
		{name: "unknown field", obj: Route(`
  rules: [{backendRefs: [{name: svc, port: 80, weigth: 1}]}]`),
			want: []string{"spec.rules[0].backendRefs[0].weigth: Forbidden: unknown field"}},
		{name: "port out of range", obj: Route(`
  rules: [{backendRefs: [{name: svc, port: 70000}]}]`),
			want: []string{"spec.rules[0].backendRefs[0].port: Invalid value: 70000: spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535"}},
		{name: "tls on an HTTP listener (CEL)", obj: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: cilium
  listeners: [{name: http, protocol: HTTP, port: 80, tls: {certificateRefs: [{name: c}]}}]`,
			want: []string{"spec.listeners: Invalid value: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"}},
		{name: "HTTPS listener without tls is valid in v1.4.1", obj: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: cilium
  listeners: [{name: https, protocol: HTTPS, port: 443}]`},
		{name: "duplicate listener names (list-map key)", obj: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: cilium
  listeners: [{name: http, protocol: HTTP, port: 80}, {name: http, protocol: HTTP, port: 8080}]`,
			want: []string{"spec.listeners: Invalid value: Listener name must be unique within the Gateway", `spec.listeners[1]: Duplicate value: {"name":"http"}`}},
		{name: "grant without from", obj: `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: certs}
spec:
  to: [{group: "", kind: Secret}]`,
			want: []string{"spec.from: Required value"}},
		{name: "bad object name", obj: `
apiVersion: cilium.io/v2alpha1
kind: CiliumGatewayClassConfig
metadata: {name: Cilium_NLB, namespace: infra}
spec: {service: {type: LoadBalancer}}`,
			want: []string{"metadata.name: Invalid value: \"Cilium_NLB\": a lowercase RFC 1123 subdomain"}},
		{name: "certificate without issuer name", obj: `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c, namespace: certs}
spec: {secretName: c, dnsNames: [a.example.com], issuerRef: {kind: Issuer}}`,
			want: []string{"spec.issuerRef.name: Required value"}},
		{name: "unserved version", obj: strings.Replace(Route(`
  rules: []`), "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v2", 1),
			want: []string{"apiVersion: Unsupported value: \"gateway.networking.k8s.io/v2\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obj(t, tt.obj)
			before, _ := yaml.Marshal(o)
			errs := s.Validate(context.Background(), o)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			if after, _ := yaml.Marshal(o); !bytes.Equal(before, after) {
				t.Errorf("Validate modified its input")
			}
		})
	}
}

// Route is an HTTPRoute in team-a with spec (YAML, indented two spaces).
func Route(spec string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: team-a}\nspec:" + spec + "\n"
}

// TestVendoredMatchesTestdata keeps the embedded copies identical to test/testdata/crds,
// where update.sh vendors them with their provenance.
func TestVendoredMatchesTestdata(t *testing.T) {
	entries, err := os.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no embedded CRDs")
	}
	for _, e := range entries {
		a, err := os.ReadFile(filepath.Join("data", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "crds", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("data/%s differs from test/testdata/crds/%s (copy it after update.sh)", e.Name(), e.Name())
		}
	}
}

func BenchmarkValidateRoute(b *testing.B) {
	s := set(b)
	o := obj(b, Route(`
  parentRefs: [{name: web, namespace: infra, sectionName: https}]
  hostnames: [a.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /api}}, {headers: [{name: x-canary, value: "1"}]}], backendRefs: [{name: svc, port: 80, weight: 90}, {name: svc2, port: 80, weight: 10}]}]`))
	s.Validate(context.Background(), o) // compile
	b.ResetTimer()
	for b.Loop() {
		if errs := s.Validate(context.Background(), o); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkCompileHTTPRoute(b *testing.B) {
	files, _ := crds.GatewayAPI("v1.4.1", "standard")
	var route []byte
	for _, f := range files {
		if strings.HasSuffix(f.Name, "httproutes.yaml") {
			route = f.Data
		}
	}
	o := obj(b, Route(`
  rules: [{backendRefs: [{name: svc, port: 80}]}]`))
	for i := 0; b.Loop(); i++ {
		// A fresh copy each time, so the process-wide cache does not hit.
		c := append(append([]byte(nil), route...), []byte("\n# "+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"\n")...)
		s, err := crdvalidation.NewSet(c)
		if err != nil {
			b.Fatal(err)
		}
		s.Validate(context.Background(), o)
	}
}
