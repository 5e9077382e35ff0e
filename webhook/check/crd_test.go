package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// prodOverlay is the rendered prod overlay: its crds/ pin the Gateway API bundle and carry
// Karpenter's CRDs; its karpenter/ holds the NodePool and EC2NodeClass "general".
var prodOverlay = filepath.Join("..", "..", "overlays", "prod")

// route is an HTTPRoute in team-a without parentRefs (so only the CRD's rules speak) and rules.
func route(name, rules string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: team-a}\nspec:\n  rules:\n" + rules
}

const (
	classTerms = "  amiSelectorTerms: [{alias: al2023@latest}]\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n"
	taint      = "      startupTaints: [{key: node.cilium.io/agent-not-ready, value: \"true\", effect: NoExecute}]\n"
)

func nodeClass(name, extra string) string {
	return "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: " + name + "}\nspec:\n" + classTerms + extra
}

func nodePool(name, class, instanceType string) string {
	return "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: " + name + "}\nspec:\n  template:\n    spec:\n" +
		"      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: " + class + "}\n" + taint +
		"      requirements: [{key: node.kubernetes.io/instance-type, operator: In, values: [" + instanceType + "]}]\n"
}

// TestCheckCRDValidation: check applies the overlay's CRDs (OpenAPI schema, unknown fields,
// CEL rules) before the rules, and judges Karpenter pairs within one input.
func TestCheckCRDValidation(t *testing.T) {
	const notChecked = "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
	bound := "kubelet maxPods 250 exceeds the bound of m7g.large"
	tests := []struct {
		name      string
		env       string
		input     string
		namespace string
		checked   int
		skipped   int
		lines     []string // exact text output
		prefixes  []string // for lines carrying the capacity model's long explanation
		err       string
	}{
		{name: "path without a leading slash (CEL)", input: route("shop", "  - matches: [{path: {type: PathPrefix, value: api}}]\n    backendRefs: [{name: shop, port: 80}]\n"), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`}},
		{name: "valid path", input: route("shop", "  - matches: [{path: {type: PathPrefix, value: /api}}]\n    backendRefs: [{name: shop, port: 80}]\n"), checked: 1, lines: []string{}},
		{name: "unknown path match type (enum)", input: route("shop", "  - matches: [{path: {type: Prefix, value: /api}}]\n"), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: spec.rules[0].matches[0].path.type: Unsupported value: "Prefix": supported values: "Exact", "PathPrefix", "RegularExpression"`,
			`HTTPRoute team-a/shop: ` + notChecked}},
		{name: "port as a string (type), no decode error besides", input: route("shop", "  - backendRefs: [{name: shop, port: \"80\"}]\n"), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: spec.rules[0].backendRefs[0].port: Invalid value: "string": spec.rules[0].backendRefs[0].port in body must be of type integer: "string"`,
			`HTTPRoute team-a/shop: ` + notChecked}},
		{name: "unknown field (strict)", input: route("shop", "  - backendRefs: [{name: shop, port: 80, weigth: 1}]\n"), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: spec.rules[0].backendRefs[0].weigth: Forbidden: unknown field`}},
		{name: "CRD and rule violations together", input: strings.Replace(route("shop", "  - matches: [{path: {type: Exact, value: x}}]\n"), "spec:\n", "spec:\n  hostnames: [shop.example.org]\n", 1), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`,
			`HTTPRoute team-a/shop: spec.hostnames[0]: Forbidden: hostname "shop.example.org" is delegated to no team; team "team-a" may use: team-a.example.com`}},
		{name: "kind the Gateway API bundle lacks", input: "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: tcp, namespace: team-a}\nspec: {rules: [{backendRefs: [{name: db, port: 5432}]}]}\n", checked: 1, lines: []string{
			`TCPRoute team-a/tcp: kind: Unsupported value: "TCPRoute": the environment's Gateway API CRDs (v1.4.1 experimental, v1.4.1 standard) define no such kind in gateway.networking.k8s.io (defined: BackendTLSPolicy, GRPCRoute, Gateway, GatewayClass, HTTPRoute, ReferenceGrant, TLSRoute)`}},
		{name: "version the CRD does not serve", input: strings.Replace(route("shop", "  - backendRefs: [{name: shop, port: 80}]\n"), "/v1\n", "/v2\n", 1), checked: 1, lines: []string{
			`HTTPRoute team-a/shop: apiVersion: Unsupported value: "gateway.networking.k8s.io/v2": supported values: "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"`}},
		{name: "kind only the CRDs judge", input: "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: b}\nspec: {}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", namespace: "team-a", checked: 1, skipped: 1, lines: []string{
			`BackendTLSPolicy team-a/b: spec.targetRefs: Required value`,
			`BackendTLSPolicy team-a/b: spec.validation: Required value`,
			`BackendTLSPolicy team-a/b: ` + notChecked}},
		{name: "cluster-scoped kind keeps no --namespace", input: "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gc}\nspec: {controllerName: io.cilium/gateway-controller}\n", namespace: "team-a", checked: 1, lines: []string{}},
		{name: "namespaced CRD kind without namespace", input: "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: b}\nspec: {}\n", err: "BackendTLSPolicy b: metadata.namespace: Required value (set it, or pass --namespace)"},
		{name: "overlay without CRDs: none applied", env: "policy-only", input: route("shop", "  - matches: [{path: {type: PathPrefix, value: api}}]\n"), checked: 1, lines: []string{}},

		{name: "karpenter: pool and class judged together", input: nodePool("small", "small", "m7g.large") + "---\n" + nodeClass("small", "  kubelet: {maxPods: 250}\n"), checked: 2, prefixes: []string{
			`NodePool small: spec.template.spec.requirements: Invalid value: 250: NodePool small with EC2NodeClass small: ` + bound,
			`EC2NodeClass small: spec.kubelet.maxPods: Invalid value: 250: NodePool small with EC2NodeClass small: ` + bound}},
		{name: "karpenter: pool and class within the bound", input: nodePool("small", "small", "m7g.large") + "---\n" + nodeClass("small", "  kubelet: {maxPods: 20}\n"), checked: 2, lines: []string{}},
		{name: "karpenter: class replacing the overlay's, judged with the overlay's pool", input: nodeClass("general", "  kubelet: {maxPods: 250}\n"), checked: 1, prefixes: []string{
			`EC2NodeClass general: spec.kubelet.maxPods: Invalid value: 250: NodePool general with EC2NodeClass general: kubelet maxPods 250 exceeds the bound of`}},
		{name: "karpenter: pool without its class", input: nodePool("small", "nope", "m7g.large"), checked: 1, lines: []string{
			`NodePool small: warning: NodePool small: EC2NodeClass nope not found: kubelet maxPods not checked against the pool's instance types`}},
		{name: "karpenter: class no pool uses", input: nodeClass("lonely", ""), checked: 1, lines: []string{
			`EC2NodeClass lonely: warning: EC2NodeClass lonely: no NodePool among the manifests, --facts or the overlay uses it: kubelet maxPods not checked`}},
		{name: "karpenter: pool without the startup taint", input: strings.Replace(nodePool("small", "general", "m7g.large"), taint, "", 1), checked: 1, lines: []string{
			`NodePool small: spec.template.spec.startupTaints: Required value: NodePool small needs the startup taint node.cilium.io/agent-not-ready=true:NoExecute: the Cilium agent removes it when the node can give pods addresses`}},
		{name: "karpenter: class against its CRD", input: "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: bare}\nspec:\n  role: r\n  kubelet: {maxPods: -1}\n---\n" + nodePool("p", "bare", "m7g.large"), checked: 2, lines: []string{
			`EC2NodeClass bare: spec.amiSelectorTerms: Required value`,
			`EC2NodeClass bare: spec.kubelet.maxPods: Invalid value: -1: spec.kubelet.maxPods in body should be greater than or equal to 0`,
			`EC2NodeClass bare: spec.securityGroupSelectorTerms: Required value`,
			`EC2NodeClass bare: spec.subnetSelectorTerms: Required value`,
			`EC2NodeClass bare: ` + notChecked}},
	}
	policyOnly := writeEnv(t, []byte(`{"environment":"t","teams":[{"name":"a","namespaces":["team-a"],"hostnames":["*.a.example.com"]}]}`))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := prodOverlay
			if tt.env == "policy-only" {
				env = policyOnly
			}
			rep, lines, ok := runCheck(t, Options{Env: env, Paths: []string{"-"}, Stdin: strings.NewReader(tt.input), Namespace: tt.namespace}, tt.err, tt.checked, tt.skipped)
			if !ok {
				return
			}
			if tt.prefixes != nil {
				ok := len(lines) == len(tt.prefixes)
				for i := 0; ok && i < len(lines); i++ {
					ok = strings.HasPrefix(lines[i], tt.prefixes[i])
				}
				if !ok {
					t.Errorf("output\n%s\nwant lines starting\n%s", strings.Join(lines, "\n"), strings.Join(tt.prefixes, "\n"))
				}
				return
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("output\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.lines, "\n"))
			}
			violations := 0
			for _, l := range tt.lines {
				if !strings.Contains(l, ": warning: ") {
					violations++
				}
			}
			if rep.Violations != violations {
				t.Errorf("violations = %d, want %d", rep.Violations, violations)
			}
		})
	}
}

// TestCheckCRDsComeFromTheOverlay: the Gateway API bundle check applies is the one the
// overlay pins (versions.yaml), and an overlay without CRDs applies none and says so.
func TestCheckCRDsComeFromTheOverlay(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join("..", "..", "overlays", env)
			b, err := os.ReadFile(filepath.Join(dir, "versions.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				GatewayAPI        string `json:"gatewayAPI"`
				GatewayAPIChannel string `json:"gatewayAPIChannel"`
			}
			if err := yaml.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			rep, err := Run(Options{Env: dir, Paths: []string{"-"}, Stdin: strings.NewReader(route("shop", "  - backendRefs: [{name: shop, port: 80}]\n"))})
			if err != nil {
				t.Fatal(err)
			}
			want := v.GatewayAPI + " " + v.GatewayAPIChannel
			found := false
			for _, g := range rep.CRDs.GatewayAPI {
				found = found || g == want
			}
			if !found || !strings.Contains(rep.Summary(), "(Gateway API ") {
				t.Errorf("CRDs %+v, summary %q: want bundle %q", rep.CRDs, rep.Summary(), want)
			}
		})
	}
	rep, err := Run(Options{Env: writeEnv(t, []byte(`{"environment":"t"}`)), Paths: []string{"-"}, Stdin: strings.NewReader(route("shop", "  - backendRefs: [{name: shop, port: 80}]\n"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.CRDs.Kinds) != 0 || !strings.HasSuffix(rep.Summary(), "; CRD validation: none (the overlay has no CRDs)") {
		t.Errorf("policy-only overlay: CRDs %+v, summary %q", rep.CRDs, rep.Summary())
	}

	// Two CRDs for one kind: which one the cluster runs is unknown, so check does not run.
	env := writeEnv(t, []byte(`{"environment":"t"}`))
	crd, err := os.ReadFile(filepath.Join(prodOverlay, "crds", "gateway.networking.k8s.io_httproutes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(env, "crds", "a.yaml"), string(crd))
	writeFile(t, filepath.Join(env, "crds", "b.yaml"), string(crd))
	_, err = Run(Options{Env: env, Paths: []string{"-"}, Stdin: strings.NewReader(route("shop", "  - backendRefs: [{name: shop, port: 80}]\n"))})
	if err == nil || !strings.Contains(err.Error(), "b.yaml: document 0: CRD for HTTPRoute.gateway.networking.k8s.io already given in ") {
		t.Errorf("duplicate CRDs: error %v", err)
	}
}

// TestCheckOverlayPassesItsCRDs: every rendered overlay's own objects pass its CRDs (no false
// refusals on the manifests render produces and the real API server accepts).
func TestCheckOverlayPassesItsCRDs(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join("..", "..", "overlays", env)
			rep, err := Run(Options{Env: dir, Paths: []string{dir}})
			if err != nil {
				t.Fatal(err)
			}
			crdChecked := 0
			for _, o := range rep.Objects {
				for _, v := range o.Violations {
					if v.Rule == RuleCRD {
						t.Errorf("%s %s/%s: %s: %s", o.Kind, o.Namespace, o.Name, v.Field, v.Message)
					}
				}
				if o.Kind == "HTTPRoute" || o.Kind == "Gateway" || o.Kind == "GatewayClass" {
					crdChecked++
				}
			}
			if crdChecked == 0 || len(rep.CRDs.Kinds) == 0 {
				t.Errorf("no object checked against CRDs: %s", rep.Summary())
			}
		})
	}
}
