// Package helm proves the rendered Helm values with helm's Go library and the real charts:
// the Cilium chart from the github.com/cilium/cilium module zip, the AWS Load Balancer
// Controller chart from the sigs.k8s.io/aws-load-balancer-controller module zip and the
// cert-manager chart from the github.com/cert-manager/cert-manager module zip, rendered
// (as `helm template` renders for Argo CD) and installed (as `helm install` and Flux do) into
// a real kube-apiserver holding exactly the CRDs the rollout applies before each chart.
//
// This is a separate module so helm's dependency graph stays out of the product's go.mod.
package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/releaseutil"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/model"
)

// repoRoot is the enigate repository, two levels up.
const repoRoot = "../.."

// overlay is one example environment with its rendered files.
type overlay struct {
	name string
	dir  string
	env  model.Environment
}

func overlays(t *testing.T) []overlay {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(repoRoot, "overlays", "*", "environment.cue"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no overlays under %s (%v)", repoRoot, err)
	}
	var out []overlay
	for _, m := range matches {
		dir := filepath.Dir(m)
		decl, err := schema.LoadFile(m, filepath.ToSlash(m))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		out = append(out, overlay{name: filepath.Base(dir), dir: dir, env: decl.Env})
	}
	return out
}

// moduleDir downloads module@version through the Go module proxy (cached in GOMODCACHE) and
// returns its directory.
func moduleDir(t *testing.T, module, version string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = t.TempDir() // outside any module: no go.mod is read or changed
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", module, version, err, info.Error)
	}
	return info.Dir
}

// loadChart loads the chart at dir and checks it is version.
func loadChart(t *testing.T, dir, version string) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	if ch.Metadata.Version != version {
		t.Fatalf("chart %s is version %s, want %s", dir, ch.Metadata.Version, version)
	}
	return ch
}

func readValues(t *testing.T, path string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(path)
	if err != nil {
		t.Fatalf("values %s: %v", path, err)
	}
	return v.AsMap()
}

// buildCRDs builds overlay/crds with kustomize (krusty), as `kubectl apply -k crds/` does.
func buildCRDs(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(dir, "crds"))
	if err != nil {
		t.Fatalf("kustomize build %s/crds: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range res.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := new(unstructured.Unstructured)
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// readCRDFiles reads plain CRD manifests (one or more documents per file).
func readCRDFiles(t *testing.T, paths ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range releaseutil.SplitManifests(string(b)) {
			if u := decode(t, doc); u != nil {
				out = append(out, u)
			}
		}
	}
	return out
}

// apiVersionsOf lists group/version and group/version/Kind of every served CRD version: what
// `helm template --api-versions` (Argo CD) passes once the CRDs are in the cluster.
func apiVersionsOf(t *testing.T, crds []*unstructured.Unstructured) chartutil.VersionSet {
	t.Helper()
	var out chartutil.VersionSet
	for _, u := range crds {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Served {
				gv := crd.Spec.Group + "/" + v.Name
				out = append(out, gv, gv+"/"+crd.Spec.Names.Kind)
			}
		}
	}
	return out
}

// kubeVersion is the EKS minor as helm's capabilities want it.
func kubeVersion(t *testing.T, env model.Environment) *chartutil.KubeVersion {
	t.Helper()
	kv, err := chartutil.ParseKubeVersion("v" + env.Versions.Kubernetes + ".0")
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// render renders a chart client-side, as `helm template` does: the manifest and any hooks.
func render(ch *chart.Chart, release, namespace string, vals map[string]any, kv *chartutil.KubeVersion, apis chartutil.VersionSet) (string, error) {
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun = true
	inst.ClientOnly = true
	inst.ReleaseName = release
	inst.Namespace = namespace
	inst.KubeVersion = kv
	inst.APIVersions = apis
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "\n---\n# hook %s\n%s", h.Path, h.Manifest)
	}
	return b.String(), nil
}

// objects splits a rendered manifest into objects.
func objects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(manifest) {
		if u := decode(t, doc); u != nil {
			out = append(out, u)
		}
	}
	return out
}

// decode reads one YAML document as an object (JSON number types), nil when empty.
func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	b, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if s := strings.TrimSpace(string(b)); s == "null" || s == "{}" {
		return nil
	}
	u := new(unstructured.Unstructured)
	if err := u.UnmarshalJSON(b); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return u
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// cluster is a real kube-apiserver + etcd, and helm configured against it.
type cluster struct {
	t          *testing.T
	client     client.Client
	kubeconfig string
}

// startCluster starts kube-apiserver and etcd from $KUBEBUILDER_ASSETS (or bin/k8s/<version>
// of the repository); without them the test is skipped, or fails with ENVTEST_REQUIRED=1.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(repoRoot, "bin", "k8s", "1.36.3")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		if os.Getenv("ENVTEST_REQUIRED") == "1" {
			t.Fatalf("envtest: no kube-apiserver in %s (make envtest)", assets)
		}
		t.Skipf("envtest: no kube-apiserver in %s (build it with `make envtest`; ENVTEST_REQUIRED=1 fails instead)", assets)
	}
	env := &crenvtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: 2 * time.Minute}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		t.Fatalf("envtest: start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("envtest: stop: %v", err)
		}
	})
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = apiextensionsv1.AddToScheme(s)
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, client: c, kubeconfig: kc}
}

// apply server-side applies objects (as `kubectl apply --server-side`) and waits until every
// CRD among them is established.
func (c *cluster) apply(objs []*unstructured.Unstructured) {
	c.t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		o = o.DeepCopy()
		o.SetManagedFields(nil)
		if err := c.client.Patch(ctx, o, client.Apply, client.FieldOwner("enigate-rollout"), client.ForceOwnership); err != nil {
			c.t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	c.established(objs)
}

// established waits until every CRD among objs is established.
func (c *cluster) established(objs []*unstructured.Unstructured) {
	c.t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := c.client.Get(ctx, client.ObjectKey{Name: o.GetName()}, &crd); err != nil {
				return false, nil
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			c.t.Fatalf("crd %s not established: %v", o.GetName(), err)
		}
	}
}

// install runs a real `helm install` (no dry run, no --wait: there are no nodes) and returns
// its error. Each call builds a fresh helm configuration, so discovery sees CRDs applied just
// before.
func (c *cluster) install(ch *chart.Chart, release, namespace string, vals map[string]any, replace bool, opts ...func(*action.Install)) error {
	c.t.Helper()
	cfg := new(action.Configuration)
	var logs bytes.Buffer
	if err := cfg.Init(kube.GetConfig(c.kubeconfig, "", namespace), namespace, "secret", func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }); err != nil {
		return fmt.Errorf("helm init: %w", err)
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = release
	inst.Namespace = namespace
	inst.Replace = replace
	inst.Timeout = 2 * time.Minute
	for _, o := range opts {
		o(inst)
	}
	_, err := inst.Run(ch, vals)
	return err
}

// sortedKeys is for stable failure messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func init() {
	// envtest and the client log through controller-runtime; the tests report errors instead.
	ctrllog.SetLogger(logr.Discard())
}
