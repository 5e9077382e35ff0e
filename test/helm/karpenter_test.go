package helm

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/enigate/enigate/generators/karpenter"
	"github.com/enigate/enigate/schema/model"
)

// karpenterChart is the chart of Karpenter release version, from charts/karpenter of the
// github.com/aws/karpenter-provider-aws module at that tag. The tag's Chart.yaml carries an
// older number: Karpenter's release script sets version and appVersion when it packages the
// chart (hack/release/common.sh, v1.14.3: yq .version/.appVersion, then helm package
// --version), so the test sets them as the release does. The module's go directive is newer
// than this toolchain, so `go mod download` stores the zip but reports an error; the chart is
// read from the zip, which holds the tag's files unmodified.
func karpenterChart(t *testing.T, version string) *chart.Chart {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/aws/karpenter-provider-aws@v"+version)
	cmd.Dir = t.TempDir()
	out, _ := cmd.Output()
	var info struct{ Zip, Error string }
	_ = json.Unmarshal(out, &info)
	if info.Zip == "" {
		t.Fatalf("karpenter-provider-aws@v%s: no module zip (%s)", version, info.Error)
	}
	zr, err := zip.OpenReader(info.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	prefix := "github.com/aws/karpenter-provider-aws@v" + version + "/charts/karpenter/"
	dir := t.TempDir()
	n := 0
	for _, f := range zr.File {
		rel, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		src, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no charts/karpenter in %s", info.Zip)
	}
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	ch.Metadata.Version, ch.Metadata.AppVersion = version, version
	return ch
}

// TestKarpenterChart renders the Karpenter chart with each overlay's rendered values (overlays
// with node pools), twice, and checks what the controller is told and where it runs.
func TestKarpenterChart(t *testing.T) {
	tested := 0
	for _, o := range overlays(t) {
		if len(o.env.Karpenter.NodePools) == 0 {
			continue
		}
		tested++
		t.Run(o.name, func(t *testing.T) {
			vals := readValues(t, filepath.Join(o.dir, karpenter.ValuesFile))
			ch := karpenterChart(t, o.env.Versions.Karpenter)
			first, err := render(ch, "karpenter", karpenter.Namespace, vals, kubeVersion(t, o.env), nil)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			second, err := render(ch, "karpenter", karpenter.Namespace, vals, kubeVersion(t, o.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if first != second {
				t.Errorf("two renders differ (a GitOps controller would never converge):\n%s", firstDiff(first, second))
			}
			objs := objects(t, first)
			sa := find(objs, "ServiceAccount", karpenter.ServiceAccount)
			if sa == nil || sa.GetNamespace() != karpenter.Namespace {
				t.Fatalf("no ServiceAccount %s/%s (the Pod Identity association names it)", karpenter.Namespace, karpenter.ServiceAccount)
			}
			if _, ok := sa.GetAnnotations()["eks.amazonaws.com/role-arn"]; ok {
				t.Error("ServiceAccount carries an IRSA role annotation; credentials come from its Pod Identity association")
			}
			dep := find(objs, "Deployment", "karpenter")
			if dep == nil {
				t.Fatal("no Deployment karpenter")
			}
			containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
			env := map[string]string{}
			for _, e := range containers[0].(map[string]any)["env"].([]any) {
				m := e.(map[string]any)
				if v, ok := m["value"].(string); ok {
					env[m["name"].(string)] = v
				}
			}
			for name, want := range map[string]string{"CLUSTER_NAME": o.env.Cluster.Name, "INTERRUPTION_QUEUE": o.env.Cluster.Name} {
				if env[name] != want {
					t.Errorf("controller env %s = %q, want %q", name, env[name], want)
				}
			}
			selector, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "spec", "nodeSelector")
			if selector["enigate.dev/node-group"] != model.SystemNodeGroupName {
				t.Errorf("controller nodeSelector %v does not pin it to the %q node group (Karpenter must not run on nodes it manages)", selector, model.SystemNodeGroupName)
			}
			image, _, _ := unstructured.NestedString(containers[0].(map[string]any), "image")
			if !strings.Contains(image, "karpenter/controller") {
				t.Errorf("controller image %q", image)
			}
		})
	}
	if tested == 0 {
		t.Fatal("no overlay declares Karpenter node pools: the chart is not exercised")
	}
}
