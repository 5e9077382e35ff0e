package helm

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/schema/upstream"
)

// ciliumChart loads the Cilium chart of version: the packaged release in testdata when the Go
// module proxy does not serve that version (testdata/README.md says where each comes from),
// else install/kubernetes/cilium of the github.com/cilium/cilium module zip.
func ciliumChart(t *testing.T, version string) *chart.Chart {
	t.Helper()
	packaged := filepath.Join("testdata", "cilium-"+version+".tgz")
	if _, err := os.Stat(packaged); err == nil {
		return loadChart(t, packaged, version)
	}
	dir := moduleDir(t, "github.com/cilium/cilium", "v"+version)
	return loadChart(t, filepath.Join(dir, "install", "kubernetes", "cilium"), version)
}

// wantConfig is what enigate intends the agent and operator to run with: cilium-config keys
// derived from the declaration ("" means the key must be absent).
var wantConfig = []struct {
	key  string
	want func(model.Environment) string
}{
	{"ipam", func(model.Environment) string { return "eni" }},
	{"enable-endpoint-routes", func(model.Environment) string { return "true" }},
	{"auto-create-cilium-node-resource", func(model.Environment) string { return "true" }},
	{"routing-mode", func(model.Environment) string { return "native" }},
	{"ipv4-native-routing-cidr", func(e model.Environment) string { return e.VPC.CIDR }},
	{"auto-direct-node-routes", func(model.Environment) string { return "false" }},
	{"kube-proxy-replacement", func(model.Environment) string { return "true" }},
	{"cluster-name", func(e model.Environment) string { return e.Cluster.Name }},
	{"cluster-id", func(e model.Environment) string { return strconv.Itoa(e.Cilium.ClusterID) }},
	{"eni-tags", func(e model.Environment) string { b, _ := json.Marshal(e.Cluster.Tags); return string(b) }},
	{"aws-release-excess-ips", func(model.Environment) string { return "true" }},
	{"aws-enable-prefix-delegation", func(e model.Environment) string { return map[bool]string{true: "true"}[e.Cilium.PrefixDelegation] }},
	{"eni-first-interface-index", func(e model.Environment) string { return strconv.Itoa(e.Cilium.FirstInterfaceIndex) }},
	{"bpf-lb-mode", func(model.Environment) string { return "snat" }},
	{"bpf-lb-acceleration", func(e model.Environment) string { return e.Cilium.Acceleration }},
	{"bpf-lb-algorithm", func(model.Environment) string { return "maglev" }},
	{"bpf-lb-maglev-table-size", func(e model.Environment) string { return strconv.Itoa(e.Cilium.Maglev.TableSize) }},
	{"bpf-lb-maglev-hash-seed", func(e model.Environment) string { return e.Cilium.Maglev.HashSeed }},
	{"bpf-lb-map-max", func(e model.Environment) string { return strconv.Itoa(e.Cilium.BPF.LBMapMax) }},
	{"bpf-policy-map-max", func(e model.Environment) string { return strconv.Itoa(e.Cilium.BPF.PolicyMapMax) }},
	{"bpf-ct-global-tcp-max", func(e model.Environment) string { return itoaOrEmpty(e.Cilium.BPF.CTTCPMax) }},
	{"bpf-nat-global-max", func(e model.Environment) string { return itoaOrEmpty(e.Cilium.BPF.NATMax) }},
	{"preallocate-bpf-maps", func(e model.Environment) string { return strconv.FormatBool(e.Cilium.BPF.PreallocateMaps) }},
	{"enable-gateway-api", func(model.Environment) string { return "true" }},
	{"enable-envoy-config", func(model.Environment) string { return "true" }},
	{"enable-hubble", func(e model.Environment) string { return strconv.FormatBool(e.Cilium.Hubble.Enabled) }},
	{"hubble-disable-tls", func(model.Environment) string { return "false" }},
	{"hubble-metrics", func(e model.Environment) string { return strings.Join(e.Cilium.Hubble.Metrics, " ") }},
}

func itoaOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// TestCiliumChart renders every overlay's cilium/values.yaml with the pinned Cilium chart, as
// `helm template` does for Argo CD (with the API versions the overlay's crds/ adds), twice.
func TestCiliumChart(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o.name, func(t *testing.T) {
			ch := ciliumChart(t, o.env.Versions.Cilium)
			vals := readValues(t, filepath.Join(o.dir, "cilium", "values.yaml"))
			apis := apiVersionsOf(t, buildCRDs(t, o.dir))
			first, err := render(ch, "cilium", "kube-system", vals, kubeVersion(t, o.env), apis)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			second, err := render(ciliumChart(t, o.env.Versions.Cilium), "cilium", "kube-system", vals, kubeVersion(t, o.env), apis)
			if err != nil {
				t.Fatalf("helm template (second): %v", err)
			}
			if first != second {
				t.Errorf("two renders differ (a GitOps controller would never converge):\n%s", firstDiff(first, second))
			}
			objs := objects(t, first)

			cm := find(objs, "ConfigMap", "cilium-config")
			if cm == nil {
				t.Fatal("no ConfigMap cilium-config rendered")
			}
			data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
			for _, c := range wantConfig {
				t.Run(c.key, func(t *testing.T) {
					want := c.want(o.env)
					got, ok := data[c.key]
					switch {
					case want == "" && ok:
						t.Errorf("cilium-config %s = %q, want it absent", c.key, got)
					case want != "" && got != want:
						t.Errorf("cilium-config %s = %q (present: %v), want %q", c.key, got, ok, want)
					}
				})
			}

			t.Run("API server host", func(t *testing.T) {
				for _, w := range []struct{ kind, name, container string }{
					{"DaemonSet", "cilium", "cilium-agent"},
					{"Deployment", "cilium-operator", "cilium-operator"},
					{"DaemonSet", "cilium-envoy", "cilium-envoy"},
				} {
					env := containerEnv(t, find(objs, w.kind, w.name), w.container, "KUBERNETES_SERVICE_HOST")
					switch {
					case env == nil:
						t.Errorf("%s %s: container %s has no KUBERNETES_SERVICE_HOST", w.kind, w.name, w.container)
					case o.env.Cluster.APIServerHost != "":
						if env.Value != o.env.Cluster.APIServerHost {
							t.Errorf("%s %s: KUBERNETES_SERVICE_HOST = %q, want %q", w.kind, w.name, env.Value, o.env.Cluster.APIServerHost)
						}
					case env.ValueFrom == nil || env.ValueFrom.ConfigMapKeyRef == nil ||
						env.ValueFrom.ConfigMapKeyRef.Name != cilium.APIServerConfigMap || env.ValueFrom.ConfigMapKeyRef.Key != cilium.APIServerConfigMapKey:
						t.Errorf("%s %s: KUBERNETES_SERVICE_HOST = %+v, want configMapKeyRef %s/%s", w.kind, w.name, env, cilium.APIServerConfigMap, cilium.APIServerConfigMapKey)
					}
				}
			})

			t.Run("hubble certificates by cronJob", func(t *testing.T) {
				if find(objs, "Secret", "hubble-server-certs") != nil {
					t.Error("Secret hubble-server-certs rendered by helm (certificates in the manifest, new on every render)")
				}
				var job bool
				for _, x := range objs {
					job = job || (x.GetKind() == "Job" && strings.HasPrefix(x.GetName(), "hubble-generate-certs"))
				}
				if !job || find(objs, "CronJob", "hubble-generate-certs") == nil {
					t.Error("no hubble-generate-certs Job and CronJob")
				}
			})

			t.Run("ServiceMonitors", func(t *testing.T) {
				n := 0
				for _, x := range objs {
					if x.GetKind() == "ServiceMonitor" {
						n++
					}
				}
				if o.env.Cilium.ServiceMonitors != (n > 0) {
					t.Errorf("%d ServiceMonitors rendered with cilium.serviceMonitors %v", n, o.env.Cilium.ServiceMonitors)
				}
			})
		})
	}
}

// TestCiliumHubbleTLSByHelmDiffers proves the determinism check above can fail: the chart's
// default method (helm) renders new certificates each time.
func TestCiliumHubbleTLSByHelmDiffers(t *testing.T) {
	o := overlays(t)[0]
	vals := readValues(t, filepath.Join(o.dir, "cilium", "values.yaml"))
	vals["hubble"].(map[string]any)["tls"] = map[string]any{"auto": map[string]any{"method": "helm"}}
	apis := apiVersionsOf(t, buildCRDs(t, o.dir))
	a, err := render(ciliumChart(t, o.env.Versions.Cilium), "cilium", "kube-system", vals, kubeVersion(t, o.env), apis)
	if err != nil {
		t.Fatal(err)
	}
	b, err := render(ciliumChart(t, o.env.Versions.Cilium), "cilium", "kube-system", vals, kubeVersion(t, o.env), apis)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("hubble.tls.auto.method helm rendered identical bytes twice; the determinism check proves nothing")
	}
}

func containerEnv(t *testing.T, obj *unstructured.Unstructured, container, name string) *corev1.EnvVar {
	t.Helper()
	if obj == nil {
		t.Fatalf("workload for container %s not rendered", container)
	}
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec", "template", "spec")
	var pod corev1.PodSpec
	b, _ := json.Marshal(spec)
	if err := json.Unmarshal(b, &pod); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if c.Name != container {
			continue
		}
		for i := range c.Env {
			if c.Env[i].Name == name {
				return &c.Env[i]
			}
		}
	}
	return nil
}

// firstDiff shows the first differing line of two renders.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "lengths differ"
}

// apiServerConfigMap is what the rollout creates before installing Cilium when the
// environment does not declare cluster.apiServerHost.
func apiServerConfigMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cilium.APIServerConfigMap, Namespace: "kube-system"},
		Data:       map[string]string{cilium.APIServerConfigMapKey: "ABCDEF0123456789.gr7.ap-northeast-2.eks.amazonaws.com"},
	}
}

// TestCiliumChartVersions renders the values enigate renders for each supported chart version
// of the support matrix (the prod example with versions.cilium changed) with that chart.
func TestCiliumChartVersions(t *testing.T) {
	var prod overlay
	for _, o := range overlays(t) {
		if o.name == "prod" {
			prod = o
		}
	}
	if prod.dir == "" {
		t.Fatal("no prod overlay")
	}
	for _, version := range support.CiliumVersions() {
		t.Run(version, func(t *testing.T) {
			env := prod.env
			env.Versions.Cilium = version
			vals := roundTrip(t, cilium.Values(env))
			apis := apiVersionsOf(t, buildCRDs(t, prod.dir))
			a, err := render(ciliumChart(t, version), "cilium", "kube-system", vals, kubeVersion(t, env), apis)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			b, err := render(ciliumChart(t, version), "cilium", "kube-system", vals, kubeVersion(t, env), apis)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("two renders differ:\n%s", firstDiff(a, b))
			}
			cm := find(objects(t, a), "ConfigMap", "cilium-config")
			if cm == nil {
				t.Fatal("no cilium-config")
			}
			data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
			for _, k := range []string{"cluster-name", "cluster-id", "eni-tags", "ipam", "kube-proxy-replacement", "bpf-lb-algorithm"} {
				if want := wantOf(k, env); data[k] != want {
					t.Errorf("cilium-config %s = %q, want %q", k, data[k], want)
				}
			}
		})
	}
}

func wantOf(key string, env model.Environment) string {
	for _, c := range wantConfig {
		if c.key == key {
			return c.want(env)
		}
	}
	return ""
}

// roundTrip gives values the types helm reads from a values file.
func roundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPackagedChartsAreTheVendoredOnes: a packaged chart in testdata carries the values.yaml
// render judges values against (schema/upstream), so the test renders the chart render knows.
func TestPackagedChartsAreTheVendoredOnes(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cilium-*.tgz"))
	if len(files) == 0 {
		t.Fatal("no packaged charts in testdata")
	}
	for _, f := range files {
		version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "cilium-"), ".tgz")
		ch := loadChart(t, f, version)
		want, err := upstream.CiliumChartValues(version)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var got []byte
		for _, r := range ch.Raw {
			if r.Name == "values.yaml" {
				got = r.Data
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: values.yaml differs from schema/upstream/data/cilium/%s-values.yaml", f, version)
		}
	}
}
