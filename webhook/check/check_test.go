package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/rules/rulestest"
)

// writeEnv writes an overlay holding only the policy ConfigMap for policy (JSON).
func writeEnv(t *testing.T, policy []byte) string {
	t.Helper()
	dir := t.TempDir()
	cm, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": "enigate-system", "name": "enigate-policy"},
		"data":     map[string]string{"policy.yaml": string(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "enigate", "webhook.yaml"), "# rendered\n"+string(cm)+"\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: enigate-system}\n")
	writeFile(t, filepath.Join(dir, "cilium", "values.yaml"), "ipam:\n  mode: eni\n")
	return dir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckAgreesWithTheRules runs every table case of the rules (the judge corpus; the
// webhook package replays the same cases through the admission handler) through check, with
// the case's cluster facts as --facts files.
func TestCheckAgreesWithTheRules(t *testing.T) {
	corpus, err := rulestest.Load()
	if err != nil {
		t.Fatal(err)
	}
	policy, err := json.Marshal(corpus.Policy)
	if err != nil {
		t.Fatal(err)
	}
	env := writeEnv(t, policy)
	for _, tc := range corpus.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			dir := t.TempDir()
			input := filepath.Join(dir, "object.json")
			writeFile(t, input, string(tc.Object))
			o := Options{Env: env, Paths: []string{input}}
			if tc.Cluster != nil {
				var docs []string
				names := make([]string, 0, len(tc.Cluster.Gateways))
				for k := range tc.Cluster.Gateways {
					names = append(names, k)
				}
				sort.Strings(names)
				for _, k := range names {
					ns, name, _ := strings.Cut(k, "/")
					var ls []map[string]string
					for _, l := range tc.Cluster.Gateways[k] {
						ls = append(ls, map[string]string{"name": l})
					}
					b, _ := json.Marshal(map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
						"metadata": map[string]string{"namespace": ns, "name": name}, "spec": map[string]any{"listeners": ls}})
					docs = append(docs, string(b))
				}
				for _, g := range tc.Cluster.Grants {
					g.APIVersion, g.Kind = "gateway.networking.k8s.io/v1beta1", "ReferenceGrant"
					b, _ := json.Marshal(g)
					docs = append(docs, string(b))
				}
				facts := filepath.Join(dir, "facts.yaml")
				writeFile(t, facts, strings.Join(docs, "\n---\n"))
				o.Facts = []string{facts}
			}
			rep, err := Run(o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Checked != 1 || len(rep.Objects) != 1 {
				t.Fatalf("checked %d objects, want 1", rep.Checked)
			}
			got := []string{}
			for _, v := range rep.Objects[0].Violations {
				got = append(got, v.Field+": "+v.Message)
			}
			if !reflect.DeepEqual(got, tc.Errors) {
				t.Errorf("violations\n%q\nwant (webhook, rules)\n%q", got, tc.Errors)
			}
			if !reflect.DeepEqual(rep.Objects[0].Warnings, tc.Warnings) {
				t.Errorf("warnings %q, want %q", rep.Objects[0].Warnings, tc.Warnings)
			}
			if rep.Objects[0].Allowed != (len(tc.Errors) == 0) {
				t.Errorf("allowed = %t with errors %q", rep.Objects[0].Allowed, tc.Errors)
			}
		})
	}
}

// TestCheckInputs covers the input forms against the rendered dev overlay.
func TestCheckInputs(t *testing.T) {
	env := filepath.Join("..", "..", "overlays", "dev")
	good := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-a}
spec:
  hostnames: [shop.dev.example.internal]
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
`
	foreign := strings.ReplaceAll(strings.ReplaceAll(good, "shop.dev.example.internal", "shop.example.org"), "name: shop,", "name: foreign,")
	noNS := strings.ReplaceAll(good, ", namespace: team-a}", "}")
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop, namespace: team-a}\n"
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app", "route.yaml"), good)
	writeFile(t, filepath.Join(dir, "app", "deploy.yml"), deploy)
	writeFile(t, filepath.Join(dir, "app", "kustomization.yaml"), "resources: [route.yaml, deploy.yml]\n")
	writeFile(t, filepath.Join(dir, "app", "README.md"), "not a manifest")
	writeFile(t, filepath.Join(dir, "bad.yaml"), good+"---\n"+foreign)
	writeFile(t, filepath.Join(dir, "nons.yaml"), noNS)
	writeFile(t, filepath.Join(dir, "broken.yaml"), "kind: [\n")
	list := `{"apiVersion":"v1","kind":"List","items":[` + mustJSON(t, foreign) + `]}`

	tests := []struct {
		name      string
		paths     []string
		stdin     string
		namespace string
		env       string
		checked   int
		skipped   int
		lines     []string // exact text output
		err       string
	}{
		{name: "directory: route judged, others skipped", paths: []string{filepath.Join(dir, "app")}, checked: 1, skipped: 1, lines: []string{}},
		{name: "multi-document file", paths: []string{filepath.Join(dir, "bad.yaml")}, checked: 2, lines: []string{
			`HTTPRoute team-a/foreign: spec.hostnames[0]: Forbidden: hostname "shop.example.org" is delegated to no team; team "team-a" may use: *.dev.example.internal`}},
		{name: "stdin (kustomize build output)", paths: []string{"-"}, stdin: good + "---\n" + deploy + "---\n" + foreign, checked: 2, skipped: 1, lines: []string{
			`HTTPRoute team-a/foreign: spec.hostnames[0]: Forbidden: hostname "shop.example.org" is delegated to no team; team "team-a" may use: *.dev.example.internal`}},
		{name: "List", paths: []string{"-"}, stdin: list, checked: 1, lines: []string{
			`HTTPRoute team-a/foreign: spec.hostnames[0]: Forbidden: hostname "shop.example.org" is delegated to no team; team "team-a" may use: *.dev.example.internal`}},
		{name: "namespace from the flag", paths: []string{filepath.Join(dir, "nons.yaml")}, namespace: "team-a", checked: 1, lines: []string{}},
		{name: "namespace from the flag is a foreign one", paths: []string{filepath.Join(dir, "nons.yaml")}, namespace: "team-b", checked: 1, lines: []string{
			`HTTPRoute team-b/shop: metadata.namespace: Forbidden: namespace "team-b" belongs to no team in policy "dev" (routes live in a team's namespaces)`}},
		{name: "platform routes of the overlay pass", paths: []string{filepath.Join(env, "routes")}, checked: 1, lines: []string{}},
		{name: "no namespace", paths: []string{filepath.Join(dir, "nons.yaml")}, err: "nons.yaml: document 0: HTTPRoute shop: metadata.namespace: Required value (set it, or pass --namespace)"},
		{name: "broken YAML", paths: []string{filepath.Join(dir, "broken.yaml")}, err: "broken.yaml: document 0: yaml: line 1"},
		{name: "missing file", paths: []string{filepath.Join(dir, "nope.yaml")}, err: "nope.yaml: no such file or directory"},
		{name: "overlay without a policy", env: dir, paths: []string{filepath.Join(dir, "app")}, err: "no ConfigMap enigate-policy with key policy.yaml"},
		{name: "no manifests", err: "no manifests given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			if tt.env != "" {
				e = tt.env
			}
			rep, lines, ok := runCheck(t, Options{Env: e, Paths: tt.paths, Stdin: strings.NewReader(tt.stdin), Namespace: tt.namespace}, tt.err, tt.checked, tt.skipped)
			if !ok {
				return
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("output\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.lines, "\n"))
			}
			if rep.Violations != len(tt.lines) {
				t.Errorf("violations = %d, want %d", rep.Violations, len(tt.lines))
			}
		})
	}
}

// runCheck runs check with opts and returns its report and text lines; ok is false when the
// run was expected to fail with wantErr (and did, or the test is failed).
func runCheck(t *testing.T, opts Options, wantErr string, checked, skipped int) (rep *Report, lines []string, ok bool) {
	t.Helper()
	rep, err := Run(opts)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
		return rep, nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != checked || rep.Skipped != skipped {
		t.Errorf("checked %d skipped %d, want %d %d", rep.Checked, rep.Skipped, checked, skipped)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines = []string{}
	if s := strings.TrimSpace(b.String()); s != "" {
		lines = strings.Split(s, "\n")
	}
	return rep, lines, true
}

func mustJSON(t *testing.T, y string) string {
	t.Helper()
	rep, err := parse("x", []byte(y), "")
	if err != nil || len(rep) != 1 {
		t.Fatalf("parse: %v", err)
	}
	return string(rep[0].raw)
}

// TestCheckFactsAndWarnings: a cross-namespace backend needs a ReferenceGrant, found in a
// --facts file (not judged), and two routes on one hostname get the webhook's advisory.
func TestCheckFactsAndWarnings(t *testing.T) {
	policy := `{"environment":"t","platformNamespaces":["gw"],"gateways":[{"namespace":"gw","name":"web","listeners":[{"name":"http","port":80,"protocol":"HTTP","teams":["a"]}]}],
"teams":[{"name":"a","namespaces":["a"],"hostnames":["*.a.example.com"],"backends":[{"kind":"Service","namespace":"db","name":"pg"}]}],"capacity":{"enforcement":"deny"}}`
	env := writeEnv(t, []byte(policy))
	writeFile(t, filepath.Join(env, "gateway.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: web, namespace: gw}\nspec: {gatewayClassName: c, listeners: [{name: http, port: 80, protocol: HTTP}]}\n")
	route := func(name string) string {
		return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: a}\nspec:\n  hostnames: [x.a.example.com]\n  parentRefs: [{name: web, namespace: gw, sectionName: http}]\n  rules: [{backendRefs: [{name: pg, namespace: db, port: 5432}]}]\n"
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "routes.yaml"), route("one")+"---\n"+route("two"))
	writeFile(t, filepath.Join(dir, "grant.yaml"), "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: db}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}], to: [{group: '', kind: Service, name: pg}]}\n")

	rep, err := Run(Options{Env: env, Paths: []string{filepath.Join(dir, "routes.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations != 2 || !strings.Contains(rep.Objects[0].Violations[0].Message, `no ReferenceGrant in namespace "db" names Service "pg"`) {
		t.Errorf("without the grant: %+v", rep.Objects)
	}
	rep, err = Run(Options{Env: env, Paths: []string{filepath.Join(dir, "routes.yaml")}, Facts: []string{filepath.Join(dir, "grant.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations != 0 || rep.Checked != 2 {
		t.Fatalf("with the grant: %d violations, %d checked", rep.Violations, rep.Checked)
	}
	if w := rep.Objects[0].Warnings; len(w) != 1 || !strings.Contains(w[0], `hostname "x.a.example.com" is also served by HTTPRoute a/two`) {
		t.Errorf("warnings %q", w)
	}
	var b strings.Builder
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil || back.Checked != 2 || back.Environment != "t" {
		t.Errorf("json: %v %+v", err, back)
	}
}
