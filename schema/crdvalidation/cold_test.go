package crdvalidation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/enigate/enigate/generators/crds"
	"github.com/enigate/enigate/schema/crdvalidation"
)

// BenchmarkColdExampleKinds is a render process's first use: parse and compile the CRDs of
// the kinds an example overlay renders and judge one object of each (the cache is bypassed by
// making each op's CRD bytes unique).
func BenchmarkColdExampleKinds(b *testing.B) {
	files, err := crds.GatewayAPI("v1.4.1", "standard")
	if err != nil {
		b.Fatal(err)
	}
	raw := crdvalidation.Vendored()
	for _, f := range files {
		raw = append(raw, f.Data)
	}
	objs := []string{
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: cilium}\nspec: {controllerName: io.cilium/gateway-controller}",
		"apiVersion: cilium.io/v2alpha1\nkind: CiliumGatewayClassConfig\nmetadata: {name: c, namespace: infra}\nspec: {service: {type: LoadBalancer}}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: infra}\nspec: {gatewayClassName: cilium, listeners: [{name: http, protocol: HTTP, port: 80}]}",
		"apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: certs}\nspec: {secretName: c, dnsNames: [a.example.com], issuerRef: {name: ca}}",
		"apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: certs}\nspec: {from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}], to: [{group: '', kind: Secret}]}",
		Route("\n  parentRefs: [{name: g, namespace: infra}]\n  hostnames: [a.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /}}], backendRefs: [{name: svc, port: 80}]}]"),
	}
	for i := 0; b.Loop(); i++ {
		var files [][]byte
		for _, r := range raw {
			files = append(files, append(append([]byte(nil), r...), fmt.Sprintf("\n# %d\n", i)...))
		}
		s, err := crdvalidation.NewSet(files...)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range objs {
			if errs := s.Validate(context.Background(), obj(b, o)); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	}
}
