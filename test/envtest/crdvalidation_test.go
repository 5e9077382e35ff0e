package envtest

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/schema/model"
)

// TestOfflineValidationAgreesWithAPIServer sends the same objects to the real kube-apiserver
// (create, dry-run, strict field validation) and to the offline validator render uses, and
// expects both to accept and refuse the same ones.
func TestOfflineValidationAgreesWithAPIServer(t *testing.T) {
	// The Gateway API CRDs this API server serves (v1.4.1 standard, TLSRoute experimental).
	set, err := generators.CRDValidationSet(model.Environment{Versions: model.Versions{Cilium: "1.19.7", GatewayAPI: "v1.4.1", GatewayAPIChannel: "standard"}})
	if err != nil {
		t.Fatal(err)
	}
	route := httpRouteYAML
	gateway := func(name, listeners string) string {
		return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: " + name + ", namespace: infra}\nspec:\n  gatewayClassName: cilium\n  listeners: " + listeners
	}
	tests := []struct {
		name   string
		obj    string
		accept bool
	}{
		{name: "route", accept: true, obj: route("ok", `  parentRefs: [{name: web, namespace: infra, sectionName: https}]
  hostnames: [a.example.com, "*.b.example.com"]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-canary, value: "1"}]}]
    backendRefs: [{name: svc, port: 80, weight: 90}, {name: svc2, namespace: other, port: 8080, weight: 10}]
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]`)},
		{name: "PathPrefix without a leading slash", obj: route("no-slash", "  rules: [{matches: [{path: {type: PathPrefix, value: api}}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "backendRef without port", obj: route("no-port", "  rules: [{backendRefs: [{name: svc}]}]")},
		{name: "backendRef port out of range", obj: route("big-port", "  rules: [{backendRefs: [{name: svc, port: 70000}]}]")},
		{name: "redirect and rewrite together (CEL)", obj: route("redirect-rewrite", "  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: URLRewrite, urlRewrite: {hostname: x.example.com}}]}]")},
		{name: "redirect with backendRefs (CEL)", obj: route("redirect-backend", "  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "filter type without its field (CEL)", obj: route("filter-field", "  rules: [{filters: [{type: RequestHeaderModifier}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "unknown field (strict)", obj: route("unknown", "  rules: [{backendRefs: [{name: svc, port: 80, weigth: 1}]}]")},
		{name: "uppercase hostname (pattern)", obj: route("upper", "  hostnames: [A.example.com]")},
		{name: "route name not a DNS subdomain", obj: route("Bad_Name", "  hostnames: [a.example.com]")},
		{name: "gateway", accept: true, obj: gateway("ok", `[{name: http, protocol: HTTP, port: 80, hostname: "*.example.com", allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}},
    {name: https, protocol: HTTPS, port: 443, tls: {mode: Terminate, certificateRefs: [{name: c, namespace: certs}]}}]
  infrastructure: {annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}}`)},
		{name: "HTTPS listener without tls (accepted by v1.4.1)", accept: true, obj: gateway("https-no-tls", "[{name: https, protocol: HTTPS, port: 443}]")},
		{name: "tls on an HTTP listener (CEL)", obj: gateway("http-tls", "[{name: http, protocol: HTTP, port: 80, tls: {certificateRefs: [{name: c}]}}]")},
		{name: "duplicate listener names (CEL, list-map key)", obj: gateway("dup", "[{name: a, protocol: HTTP, port: 80}, {name: a, protocol: HTTP, port: 8080}]")},
		{name: "same port, protocol and hostname (CEL)", obj: gateway("same", "[{name: a, protocol: HTTP, port: 80}, {name: b, protocol: HTTP, port: 80}]")},
		{name: "hostname on a TCP listener (CEL)", obj: gateway("tcp-host", "[{name: a, protocol: TCP, port: 80, hostname: a.example.com}]")},
		{name: "annotation key (CEL)", obj: gateway("annotation", "[{name: a, protocol: HTTP, port: 80}]\n  infrastructure: {annotations: {'bad key!': x}}")},
		{name: "grant", accept: true, obj: "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: certs}\nspec: {from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}], to: [{group: '', kind: Secret, name: c}]}"},
		{name: "grant without from", obj: "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g2, namespace: certs}\nspec: {to: [{group: '', kind: Secret}]}"},
		{name: "gateway class", accept: true, obj: "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: cilium}\nspec: {controllerName: io.cilium/gateway-controller, parametersRef: {group: cilium.io, kind: CiliumGatewayClassConfig, name: cilium-nlb, namespace: infra}}"},
		{name: "gateway class controller name", obj: "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: bad}\nspec: {controllerName: cilium}"},
		{name: "cilium gateway class config", accept: true, obj: "apiVersion: cilium.io/v2alpha1\nkind: CiliumGatewayClassConfig\nmetadata: {name: cilium-nlb, namespace: infra}\nspec: {service: {type: LoadBalancer, loadBalancerClass: service.k8s.aws/nlb}}"},
		{name: "cilium gateway class config service type", obj: "apiVersion: cilium.io/v2alpha1\nkind: CiliumGatewayClassConfig\nmetadata: {name: bad, namespace: infra}\nspec: {service: {type: Balanced}}"},
		{name: "certificate", accept: true, obj: "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: certs}\nspec: {secretName: c, dnsNames: [a.example.com], issuerRef: {name: ca, kind: Issuer, group: cert-manager.io}, privateKey: {rotationPolicy: Always}}"},
		{name: "certificate without issuer name", obj: "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c2, namespace: certs}\nspec: {secretName: c, dnsNames: [a.example.com], issuerRef: {kind: Issuer}}"},
		{name: "certificate rotation policy", obj: "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c3, namespace: certs}\nspec: {secretName: c, dnsNames: [a.example.com], issuerRef: {name: ca}, privateKey: {rotationPolicy: Sometimes}}"},
	}
	env := Start(t)
	ctx := context.Background()
	var objs []*unstructured.Unstructured
	for _, tt := range tests {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(tt.obj), &u.Object); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		objs = append(objs, u)
	}
	if err := env.EnsureNamespaces(ctx, objs); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offline := set.Validate(ctx, objs[i].DeepCopy().Object)
			server := env.Client.Create(ctx, objs[i].DeepCopy(), client.DryRunAll, client.FieldValidation("Strict"))
			if (server == nil) != tt.accept {
				t.Errorf("API server: accepted=%t, want %t (%v)", server == nil, tt.accept, server)
			}
			if (len(offline) == 0) != (server == nil) {
				t.Errorf("disagree: API server accepted=%t (%v), offline accepted=%t (%v)", server == nil, server, len(offline) == 0, offline)
			}
		})
	}
}

// httpRouteYAML is an HTTPRoute in team-a whose spec is the given YAML lines.
func httpRouteYAML(name, spec string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: team-a}\nspec:\n" + spec
}
