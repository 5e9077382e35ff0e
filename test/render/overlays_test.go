// Package render_test tests `enigate render` end to end on the committed example overlays:
// they are current (the golden test), their upstream artifacts validate against the upstream
// schemas, kustomize builds them, and a real kube-apiserver accepts every in-cluster object.
package render_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/cmd/enigate/cli"
	"github.com/enigate/enigate/generators/promcrds"
	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/upstream"
	"github.com/enigate/enigate/test/envtest"
)

var examples = []string{"dev", "staging", "prod"}

// repoRoot is the module root (two levels up from this package).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run calls the CLI in dir and returns stdout, stderr and the exit code.
func run(t testing.TB, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Chdir(dir) // restored when the test ends
	var out, errb bytes.Buffer
	err := cli.Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), cli.ExitCode(err)
}

// TestOverlaysCurrent is the golden test: the committed overlays are exactly what the
// declarations render. UPDATE_GOLDEN=1 re-renders them (review the diff before committing).
func TestOverlaysCurrent(t *testing.T) {
	root := repoRoot(t)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if _, stderr, code := run(t, root, "render", "--quiet"); code != 0 {
			t.Fatalf("render: exit %d\n%s", code, stderr)
		}
	}
	stdout, stderr, code := run(t, root, "render", "--check", "--quiet")
	if code != 0 {
		t.Fatalf("render --check: exit %d (run UPDATE_GOLDEN=1 go test ./test/render/ and review)\n%s%s", code, stdout, stderr)
	}
}

// TestRenderDeterministic renders each example twice into fresh directories and compares bytes.
func TestRenderDeterministic(t *testing.T) {
	root := repoRoot(t)
	for _, env := range examples {
		t.Run(env, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, "overlays", env, "environment.cue"))
			if err != nil {
				t.Fatal(err)
			}
			var trees [2]map[string]string
			for i := range trees {
				dir := t.TempDir()
				overlay := filepath.Join(dir, "overlays", env)
				os.MkdirAll(overlay, 0o755)
				os.WriteFile(filepath.Join(overlay, "environment.cue"), src, 0o644)
				if _, stderr, code := run(t, dir, "render", "--quiet", "overlays/"+env); code != 0 {
					t.Fatalf("render: exit %d\n%s", code, stderr)
				}
				trees[i] = readTree(t, overlay)
			}
			if len(trees[0]) < 10 {
				t.Fatalf("only %d files rendered", len(trees[0]))
			}
			for p, data := range trees[0] {
				if trees[1][p] != data {
					t.Errorf("%s differs between two renders", p)
				}
			}
			committed := readTree(t, filepath.Join(root, "overlays", env))
			for p := range trees[0] {
				if committed[p] != trees[0][p] {
					t.Errorf("%s: render in a fresh directory differs from the committed overlay", p)
				}
			}
		})
	}
}

func readTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readYAML(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUpstreamSchemas validates the committed eksctl files against eksctl's JSON schema and
// the Cilium values against the pinned chart's values.schema.json plus the allow-list.
func TestUpstreamSchemas(t *testing.T) {
	root := repoRoot(t)
	for _, env := range examples {
		dir := filepath.Join(root, "overlays", env)
		versions := readYAML(t, filepath.Join(dir, "versions.yaml"))
		t.Run(env+"/eksctl", func(t *testing.T) {
			for _, f := range []string{"cluster.yaml", "nodegroups.yaml"} {
				doc := readYAML(t, filepath.Join(dir, "eksctl", f))
				if errs := upstream.ValidateEksctl(doc, field.NewPath(f)); len(errs) > 0 {
					t.Errorf("eksctl/%s:\n%s", f, strings.Join(problem.Lines(errs), "\n"))
				}
			}
		})
		t.Run(env+"/cilium", func(t *testing.T) {
			values := readYAML(t, filepath.Join(dir, "cilium", "values.yaml"))
			chart, _ := versions["cilium"].(string)
			if errs := upstream.ValidateCiliumValues(chart, values, field.NewPath("values")); len(errs) > 0 {
				t.Errorf("cilium/values.yaml for chart %s:\n%s", chart, strings.Join(problem.Lines(errs), "\n"))
			}
		})
	}
}

// build runs kustomize's own library on an overlay and returns its objects.
func build(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		// Through JSON, so numbers are int64 as unstructured expects (kustomize's maps hold int).
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[o.GetKind()]++
	}
	return out
}

// TestKustomizeBuild builds every overlay with krusty and checks what each must contain.
func TestKustomizeBuild(t *testing.T) {
	root := repoRoot(t)
	// prod's 17 CRDs: 7 Gateway API ones; with cilium.serviceMonitors the ServiceMonitor,
	// PodMonitor and PrometheusRule (the node verifier's PodMonitor and alerts); the audit's
	// PolicyReport and ClusterPolicyReport; Karpenter's 5 (its node pool).
	want := map[string]map[string]int{
		"prod":    {"CustomResourceDefinition": 17, "PodMonitor": 1, "PrometheusRule": 1, "NodePool": 1, "EC2NodeClass": 1, "Gateway": 1, "GatewayClass": 1, "CiliumGatewayClassConfig": 1, "HTTPRoute": 6, "ReferenceGrant": 2, "DaemonSet": 1},
		"staging": {"Gateway": 1, "Certificate": 3, "HTTPRoute": 1, "ReferenceGrant": 0, "ValidatingWebhookConfiguration": 1, "ValidatingAdmissionPolicy": 2}, // listener cert + webhook CA and serving certs
		"dev":     {"Gateway": 1, "HTTPRoute": 1, "ReferenceGrant": 0, "Deployment": 2, "PodDisruptionBudget": 1},                                             // webhook, audit
	}
	for _, env := range examples {
		t.Run(env, func(t *testing.T) {
			objs := build(t, filepath.Join(root, "overlays", env))
			got := kinds(objs)
			for kind, n := range want[env] {
				if got[kind] != n {
					t.Errorf("%s: %d objects, want %d (all: %v)", kind, got[kind], n, got)
				}
			}
			for _, o := range objs {
				if o.GetKind() == "Secret" {
					t.Errorf("overlay renders Secret %s/%s: secrets never go into git", o.GetNamespace(), o.GetName())
				}
				if o.GetKind() == "ConfigMap" && strings.HasPrefix(o.GetName(), "enigate-node-verify-values-") {
					data, _, _ := unstructured.NestedStringMap(o.Object, "data")
					if !strings.Contains(data["values.yaml"], "ipam:") || !strings.Contains(data["versions.yaml"], "cilium:") {
						t.Errorf("node verify ConfigMap lacks the rendered values: %v", data)
					}
				}
			}
		})
	}
}

// TestProdGatewayShape pins the parts of prod that the errata are about.
func TestProdGatewayShape(t *testing.T) {
	objs := build(t, filepath.Join(repoRoot(t), "overlays", "prod"))
	for _, o := range objs {
		switch o.GetKind() {
		case "Gateway":
			if len(o.GetAnnotations()) != 0 {
				t.Errorf("Gateway has metadata.annotations %v: they never reach the Service (use spec.infrastructure.annotations)", o.GetAnnotations())
			}
			ann, _, _ := unstructured.NestedStringMap(o.Object, "spec", "infrastructure", "annotations")
			if ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] != "internet-facing" || len(ann) > 8 {
				t.Errorf("infrastructure annotations = %v", ann)
			}
			listeners, _ := get(o.Object, "spec", "listeners").([]any)
			for _, l := range listeners {
				from, _, _ := unstructured.NestedString(l.(map[string]any), "allowedRoutes", "namespaces", "from")
				if from != "Selector" {
					t.Errorf("listener %v: from %q, want Selector", l.(map[string]any)["name"], from)
				}
			}
		case "ReferenceGrant":
			to, _ := get(o.Object, "spec", "to").([]any)
			for _, x := range to {
				if name, _ := x.(map[string]any)["name"].(string); name == "" {
					t.Errorf("ReferenceGrant %s/%s grants without to.name", o.GetNamespace(), o.GetName())
				}
			}
			if ns := o.GetNamespace(); ns != "certs" && ns != "shared-services" {
				t.Errorf("ReferenceGrant in %s, want certs or shared-services", ns)
			}
		case "ClusterRole":
			rules, _ := get(o.Object, "rules").([]any)
			for _, r := range rules {
				res, _ := get(r.(map[string]any), "resources").([]any)
				if slices.Contains(res, any("secrets")) {
					t.Errorf("ClusterRole %s reads Secrets cluster-wide", o.GetName())
				}
			}
		}
	}
}

// get walks nested maps.
func get(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// TestAPIServerAcceptsOverlays applies every in-cluster object of each overlay with
// server-side dry-run on a real kube-apiserver that has the pinned Gateway API CRDs.
func TestAPIServerAcceptsOverlays(t *testing.T) {
	// The Prometheus Operator CRDs prod's crds/ carries (cilium.serviceMonitors) and Karpenter's
	// (prod's node pools).
	env := envtest.Start(t, envtest.WithCRDPaths(append(karpenterCRDDirs(t), filepath.Join(repoRoot(t), "generators", "promcrds", "data", promcrds.Version))...))
	ctx := context.Background()
	root := repoRoot(t)
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			var objs []*unstructured.Unstructured
			for _, o := range build(t, filepath.Join(root, "overlays", name)) {
				if o.GetKind() == "CustomResourceDefinition" {
					continue // installed by envtest from the same module version
				}
				objs = append(objs, o)
			}
			if err := env.EnsureNamespaces(ctx, objs); err != nil {
				t.Fatal(err)
			}
			if err := env.DryRunApply(ctx, objs); err != nil {
				t.Fatalf("the API server rejects overlay %s:\n%v", name, err)
			}
		})
	}
}
