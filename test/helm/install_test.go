package helm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/enigate/enigate/generators/lbc"
	"github.com/enigate/enigate/generators/promcrds"
	"github.com/enigate/enigate/schema/model"
)

// lbcModules maps an AWS Load Balancer Controller chart version to the
// sigs.k8s.io/aws-load-balancer-controller module version holding it. The module path has no
// /v2 or /v3 suffix, so release tags are not module versions; a commit's pseudo-version is.
// v0.0.0-20260423195125-93ff3b5fdaad is v3.2.2 plus 7 commits, none under helm/.
var lbcModules = map[string]string{
	"3.2.2": "v0.0.0-20260423195125-93ff3b5fdaad",
}

func lbcChart(t *testing.T, version string) *chart.Chart {
	t.Helper()
	mod, ok := lbcModules[version]
	if !ok {
		t.Fatalf("aws-load-balancer-controller chart %s: no module version known (add it to lbcModules)", version)
	}
	dir := moduleDir(t, "sigs.k8s.io/aws-load-balancer-controller", mod)
	return loadChart(t, filepath.Join(dir, "helm", "aws-load-balancer-controller"), version)
}

// certManagerCRDs are the CRDs of the cert-manager release the rollout installs before the
// controller (its webhook certificate is a cert-manager Certificate).
func certManagerCRDs(t *testing.T, version string) []*unstructured.Unstructured {
	t.Helper()
	dir := filepath.Join(moduleDir(t, "github.com/cert-manager/cert-manager", version), "deploy", "crds")
	matches, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no CRDs in %s", dir)
	}
	return readCRDFiles(t, matches...)
}

// TestLoadBalancerControllerChart renders every overlay's controller values with the pinned
// chart, twice, and checks what the controller is told.
func TestLoadBalancerControllerChart(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o.name, func(t *testing.T) {
			version := lbc.ChartVersion(o.env)
			vals := readValues(t, filepath.Join(o.dir, lbc.ValuesFile))
			apis := apiVersionsOf(t, certManagerCRDs(t, o.env.Versions.CertManager))
			first, err := render(lbcChart(t, version), "aws-load-balancer-controller", lbc.Namespace, vals, kubeVersion(t, o.env), apis)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			second, err := render(lbcChart(t, version), "aws-load-balancer-controller", lbc.Namespace, vals, kubeVersion(t, o.env), apis)
			if err != nil {
				t.Fatal(err)
			}
			if first != second {
				t.Errorf("two renders differ (a GitOps controller would never converge):\n%s", firstDiff(first, second))
			}
			objs := objects(t, first)
			sa := find(objs, "ServiceAccount", lbc.ServiceAccount)
			if sa == nil {
				t.Fatalf("no ServiceAccount %s rendered", lbc.ServiceAccount)
			}
			if sa.GetNamespace() != lbc.Namespace {
				t.Errorf("ServiceAccount in %q, want %q (the Pod Identity association names it)", sa.GetNamespace(), lbc.Namespace)
			}
			if _, ok := sa.GetAnnotations()["eks.amazonaws.com/role-arn"]; ok {
				t.Error("ServiceAccount carries an IRSA role annotation; credentials come from its Pod Identity association")
			}
			dep := find(objs, "Deployment", "aws-load-balancer-controller")
			if dep == nil {
				t.Fatal("no Deployment aws-load-balancer-controller")
			}
			containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
			args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
			joined := " " + strings.Join(args, " ") + " "
			for _, want := range []string{
				" --cluster-name=" + o.env.Cluster.Name + " ",
				" --aws-region=" + o.env.Cluster.Region + " ",
				vpcArg(o.env),
			} {
				if !strings.Contains(joined, want) {
					t.Errorf("controller args %s lack %q", joined, strings.TrimSpace(want))
				}
			}
			for _, x := range objs {
				if x.GetKind() != "MutatingWebhookConfiguration" {
					continue
				}
				hooks, _, _ := unstructured.NestedSlice(x.Object, "webhooks")
				for _, h := range hooks {
					if name, _, _ := unstructured.NestedString(h.(map[string]any), "name"); strings.HasPrefix(name, "mservice.") {
						t.Errorf("Service mutating webhook %s rendered: every Service create would wait on the controller", name)
					}
				}
			}
			if find(objs, "Certificate", "aws-load-balancer-serving-cert") == nil {
				t.Error("webhook certificate is not a cert-manager Certificate")
			}
		})
	}
}

// vpcArg is how the controller finds the VPC: by ID when the declaration names an existing
// one, else by the tag eksctl puts on the VPC it creates.
func vpcArg(env model.Environment) string {
	if env.VPC.ID != "" {
		return " --aws-vpc-id=" + env.VPC.ID + " "
	}
	return " --aws-vpc-tags=alpha.eksctl.io/cluster-name=" + env.Cluster.Name + " "
}

// TestInstall installs into a real API server, per overlay and in the rollout's order: the
// overlay's crds/ (kubectl apply --server-side -k crds/), the API server ConfigMap when the
// values reference it, `helm install cilium`, then cert-manager's CRDs and `helm install
// aws-load-balancer-controller`. With cilium.serviceMonitors, Cilium is first installed
// without the ServiceMonitor CRD, which must fail.
func TestInstall(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o.name, func(t *testing.T) {
			c := startCluster(t)
			crds := buildCRDs(t, o.dir)
			var withoutSM []*unstructured.Unstructured
			for _, u := range crds {
				if u.GetName() != "servicemonitors.monitoring.coreos.com" {
					withoutSM = append(withoutSM, u)
				}
			}
			if o.env.Cilium.ServiceMonitors && len(withoutSM) == len(crds) {
				t.Fatalf("crds/ lacks %s although cilium.serviceMonitors is true", promcrds.ServiceMonitorFile)
			}
			c.apply(withoutSM)
			if o.env.Cluster.APIServerHost == "" {
				if err := c.client.Create(context.Background(), apiServerConfigMap()); err != nil {
					t.Fatal(err)
				}
			}
			vals := readValues(t, filepath.Join(o.dir, "cilium", "values.yaml"))
			if o.env.Cilium.ServiceMonitors {
				err := c.install(ciliumChart(t, o.env.Versions.Cilium), "cilium", "kube-system", vals, false)
				if err == nil || !strings.Contains(err.Error(), "monitoring.coreos.com") {
					t.Fatalf("helm install cilium without the ServiceMonitor CRD: err = %v, want a failure naming monitoring.coreos.com", err)
				}
				c.apply(crds)
			}
			if err := c.install(ciliumChart(t, o.env.Versions.Cilium), "cilium", "kube-system", vals, o.env.Cilium.ServiceMonitors); err != nil {
				t.Fatalf("helm install cilium: %v", err)
			}

			c.apply(certManagerCRDs(t, o.env.Versions.CertManager))
			lvals := readValues(t, filepath.Join(o.dir, lbc.ValuesFile))
			if err := c.install(lbcChart(t, lbc.ChartVersion(o.env)), "aws-load-balancer-controller", lbc.Namespace, lvals, false); err != nil {
				t.Fatalf("helm install aws-load-balancer-controller: %v", err)
			}
		})
	}
}
