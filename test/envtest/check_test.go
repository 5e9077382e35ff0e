package envtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/webhook/check"
)

// TestCheckAgreesWithAPIServer sends the same objects to the real kube-apiserver (create,
// dry-run, strict field validation) and through `enigate check`, with the same CRDs on both
// sides: check's overlay holds prod's policy and exactly the CRD files this API server
// installs (plus prod's Karpenter CRDs on both). An object the API server refuses must get a
// CRD violation from check, and one it accepts none (the policy rules are the webhook's,
// not the API server's, and are left out of the comparison).
func TestCheckAgreesWithAPIServer(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	karpenterCRDs, err := filepath.Glob(filepath.Join(root, "overlays", "prod", "crds", "karpenter.*.yaml"))
	if err != nil || len(karpenterCRDs) == 0 {
		t.Fatalf("prod's Karpenter CRDs: %v (%d files)", err, len(karpenterCRDs))
	}
	crdPaths, err := DefaultCRDPaths(root)
	if err != nil {
		t.Fatal(err)
	}
	overlay := t.TempDir()
	copyFile(t, filepath.Join(root, "overlays", "prod", "enigate", "webhook.yaml"), filepath.Join(overlay, "enigate", "webhook.yaml"))
	for _, p := range append(crdPaths, karpenterCRDs...) {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.yaml"))
		}
		for _, f := range files {
			copyFile(t, f, filepath.Join(overlay, "crds", filepath.Base(f)))
		}
	}

	route := func(name, rules string) string { return httpRouteYAML(name, "  rules: "+rules) }
	class := func(name, spec string) string {
		return "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: " + name + "}\nspec:\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n" + spec
	}
	pool := func(name, requirements string) string {
		return "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: " + name + "}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: general}\n      requirements: " + requirements
	}
	tests := []struct {
		name   string
		obj    string
		accept bool
	}{
		{name: "route", accept: true, obj: route("ok", "[{matches: [{path: {type: PathPrefix, value: /api}}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "path without a leading slash (CEL)", obj: route("no-slash", "[{matches: [{path: {type: PathPrefix, value: api}}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "unknown path match type (enum)", obj: route("enum", "[{matches: [{path: {type: Prefix, value: /api}}]}]")},
		{name: "port as a string (type)", obj: route("port-type", `[{backendRefs: [{name: svc, port: "80"}]}]`)},
		{name: "unknown field (strict)", obj: route("unknown", "[{backendRefs: [{name: svc, port: 80, weigth: 1}]}]")},
		{name: "redirect with backendRefs (CEL)", obj: route("redirect", "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: [{name: svc, port: 80}]}]")},
		{name: "version not served", obj: strings.Replace(route("v2", "[]"), "/v1\n", "/v2\n", 1)},
		{name: "kind the standard channel lacks", obj: "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: tcp, namespace: team-a}\nspec: {parentRefs: [{name: web}], rules: [{backendRefs: [{name: db, port: 5432}]}]}"},
		{name: "gateway class", accept: true, obj: "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: io.cilium/gateway-controller}"},
		{name: "backend TLS policy without targets", obj: "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: b, namespace: team-a}\nspec: {}"},
		{name: "node class", accept: true, obj: class("ok", "  amiSelectorTerms: [{alias: al2023@latest}]\n  kubelet: {maxPods: 20}\n")},
		{name: "node class without AMI terms", obj: class("no-ami", "  kubelet: {maxPods: 20}\n")},
		{name: "node class AMI family (CEL)", obj: class("ubuntu", "  amiSelectorTerms: [{alias: ubuntu@latest}]\n")},
		{name: "node class negative maxPods", obj: class("negative", "  amiSelectorTerms: [{alias: al2023@latest}]\n  kubelet: {maxPods: -1}\n")},
		{name: "node pool", accept: true, obj: pool("ok", "[{key: node.kubernetes.io/instance-type, operator: In, values: [m7g.large]}]")},
		{name: "node pool on the hostname label (CEL)", obj: pool("hostname", "[{key: kubernetes.io/hostname, operator: In, values: [a]}]")},
		{name: "node pool operator (enum)", obj: pool("operator", "[{key: node.kubernetes.io/instance-type, operator: Inn, values: [m7g.large]}]")},
		{name: "node pool In without values (CEL)", obj: pool("empty-in", "[{key: node.kubernetes.io/instance-type, operator: In, values: []}]")},
	}
	var docs []string
	var objs []*unstructured.Unstructured
	for _, tt := range tests {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(tt.obj), &u.Object); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		objs = append(objs, u)
		docs = append(docs, tt.obj)
	}
	rep, err := check.Run(check.Options{Env: overlay, Paths: []string{"-"}, Stdin: strings.NewReader(strings.Join(docs, "\n---\n"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Objects) != len(tests) {
		t.Fatalf("check judged %d objects, want %d: %s", len(rep.Objects), len(tests), rep.Summary())
	}

	env := Start(t, WithCRDPaths(karpenterCRDs...))
	ctx := context.Background()
	if err := env.EnsureNamespaces(ctx, objs); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := rep.Objects[i]
			if o.Kind != objs[i].GetKind() || o.Name != objs[i].GetName() {
				t.Fatalf("check object %d is %s %s, want %s %s", i, o.Kind, o.Name, objs[i].GetKind(), objs[i].GetName())
			}
			var crd []string
			for _, v := range o.Violations {
				if v.Rule == check.RuleCRD {
					crd = append(crd, v.Field+": "+v.Message)
				}
			}
			server := env.Client.Create(ctx, objs[i].DeepCopy(), client.DryRunAll, client.FieldValidation("Strict"))
			if (server == nil) != tt.accept {
				t.Errorf("API server: accepted=%t, want %t (%v)", server == nil, tt.accept, server)
			}
			if (len(crd) == 0) != (server == nil) {
				t.Errorf("disagree: API server accepted=%t (%v), check accepted=%t (%q)", server == nil, server, len(crd) == 0, crd)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
