package crdvalidation

import (
	"context"
	"reflect"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/crds"
)

// TestLazyCELMatchesUpstream evaluates the same objects with the per-node celNode tree (twice:
// the second time from its memo) and with upstream's whole-schema cel.NewValidator, and
// expects the same errors.
func TestLazyCELMatchesUpstream(t *testing.T) {
	files, err := crds.GatewayAPI("v1.4.1", "standard")
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]*version{}
	for _, f := range files {
		c := cached(f.Data)
		if err := c.load(); err != nil {
			t.Fatal(err)
		}
		v := c.versions["v1"]
		if v == nil {
			continue
		}
		if err := v.load(); err != nil {
			t.Fatal(err)
		}
		byKind[c.gk.Kind] = v
	}
	tests := []struct{ name, kind, obj string }{
		{"valid route", "HTTPRoute", `{spec: {parentRefs: [{name: web}], hostnames: [a.example.com], rules: [{matches: [{path: {type: PathPrefix, value: /a}}], backendRefs: [{name: s, port: 80, group: "", kind: Service}]}]}}`},
		{"path and port", "HTTPRoute", `{spec: {rules: [{matches: [{path: {type: PathPrefix, value: a}}, {path: {type: Exact, value: b}}], backendRefs: [{name: s, group: "", kind: Service}]}]}}`},
		{"filters", "HTTPRoute", `{spec: {rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: URLRewrite, urlRewrite: {hostname: x}}, {type: RequestHeaderModifier}], backendRefs: [{name: s, port: 1, group: "", kind: Service, filters: [{type: RequestMirror}]}]}]}}`},
		{"gateway listeners", "Gateway", `{spec: {gatewayClassName: c, listeners: [{name: a, protocol: HTTP, port: 80, tls: {mode: Terminate}}, {name: a, protocol: TCP, port: 80, hostname: x.example.com}], infrastructure: {annotations: {"bad key!": x}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := byKind[tt.kind]
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(tt.obj), &obj); err != nil {
				t.Fatal(err)
			}
			obj = runtimeCopy(obj)
			obj["apiVersion"], obj["kind"] = "gateway.networking.k8s.io/v1", tt.kind
			obj["metadata"] = map[string]any{"name": "x", "namespace": "y"}
			lazy, _ := v.cel.validate(context.Background(), nil, obj, celconfig.RuntimeCELCostBudget)
			eager, _ := cel.NewValidator(v.structural, true, celconfig.PerCallLimit).Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			again, _ := v.cel.validate(context.Background(), nil, obj, celconfig.RuntimeCELCostBudget) // from the memo
			l, e := lines(lazy), lines(eager)
			if a := lines(again); !slices.Equal(a, l) {
				t.Errorf("memo replay:\n%q\nfirst:\n%q", a, l)
			}
			if tt.name != "valid route" && len(e) == 0 {
				t.Fatal("upstream finds no problem: the case compares nothing")
			}
			if !slices.Equal(l, e) {
				t.Errorf("lazy:\n%q\nupstream:\n%q", l, e)
			}
		})
	}
}

func lines(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	slices.Sort(out)
	return out
}

// TestScanVersionsMatchesFullParse: each version's document, as scanVersions cuts it, parses
// to the same version (schema, scope, subresources) as the whole CRD does.
func TestScanVersionsMatchesFullParse(t *testing.T) {
	files, err := crds.GatewayAPI("v1.4.1", "experimental")
	if err != nil {
		t.Fatal(err)
	}
	raw := Vendored()
	for _, f := range files {
		raw = append(raw, f.Data)
	}
	for i, b := range raw {
		var full apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &full); err != nil {
			t.Fatal(err)
		}
		docs, served, ok := scanVersions(b)
		if !ok || len(docs) != len(full.Spec.Versions) {
			t.Fatalf("crd %d (%s): scan found %d versions, the CRD has %d", i, full.Name, len(docs), len(full.Spec.Versions))
		}
		for _, want := range full.Spec.Versions {
			var one apiextensionsv1.CustomResourceDefinition
			if err := yaml.Unmarshal(docs[want.Name], &one); err != nil {
				t.Fatalf("%s %s: %v", full.Name, want.Name, err)
			}
			if len(one.Spec.Versions) != 1 || !reflect.DeepEqual(one.Spec.Versions[0], want) || served[want.Name] != want.Served ||
				one.Spec.Scope != full.Spec.Scope || one.Spec.Group != full.Spec.Group || one.Spec.Names.Kind != full.Spec.Names.Kind {
				t.Errorf("%s %s: the cut document differs from the full CRD", full.Name, want.Name)
			}
		}
	}
}
