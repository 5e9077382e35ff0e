package helm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// TestLoadBalancerControllerChart renders every overlay's controller values with the pinned
// chart, twice, and checks what the controller is told.
func TestLoadBalancerControllerChart(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o.name, func(t *testing.T) {
			version := lbc.ChartVersion(o.env)
			vals := readValues(t, filepath.Join(o.dir, lbc.ValuesFile))
			apis := apiVersionsOf(t, certManagerCRDs(t, o))
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
// values reference it, `helm install cilium`, then the cert-manager chart as ROLLOUT.md installs
// it (its own CRDs, namespace created) and `helm install aws-load-balancer-controller`. With
// cilium.serviceMonitors, Cilium is first installed without the ServiceMonitor CRD, which must
// fail.
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

			// helm upgrade --install cert-manager ... --create-namespace --set crds.enabled=true:
			// the chart brings its own CRDs. Hooks are off: the post-install hook Job
			// startupapicheck (`cmctl check api`, which with --wait holds the rollout until
			// cert-manager's webhook answers) never completes without nodes.
			cm := certManagerRollout(t, o)
			if err := c.install(certManagerChart(t, cm.version), cm.release, cm.namespace, cm.values, false, func(i *action.Install) {
				i.CreateNamespace = cm.createNamespace
				i.DisableHooks = true
			}); err != nil {
				t.Fatalf("helm install cert-manager: %v", err)
			}
			if err := c.client.Get(context.Background(), client.ObjectKey{Name: cm.namespace}, &corev1.Namespace{}); err != nil {
				t.Fatalf("namespace %s after helm install --create-namespace: %v", cm.namespace, err)
			}
			c.established(certManagerCRDs(t, o))

			// The controller's Certificate and Issuer pass cert-manager's validating webhook
			// (failurePolicy Fail): without a serving webhook the install fails, which is why the
			// rollout waits for cert-manager. No pod runs here, so the webhook configurations are
			// then removed in its place and the install retried (replacing the failed release).
			lvals := readValues(t, filepath.Join(o.dir, lbc.ValuesFile))
			err := c.install(lbcChart(t, lbc.ChartVersion(o.env)), "aws-load-balancer-controller", lbc.Namespace, lvals, false)
			if err == nil || !strings.Contains(err.Error(), "webhook.cert-manager.io") {
				t.Fatalf("helm install aws-load-balancer-controller before cert-manager's webhook serves: err = %v, want a failure naming webhook.cert-manager.io", err)
			}
			for _, w := range []client.Object{&admissionregistrationv1.ValidatingWebhookConfiguration{}, &admissionregistrationv1.MutatingWebhookConfiguration{}} {
				w.SetName("cert-manager-webhook")
				if err := c.client.Delete(context.Background(), w); err != nil {
					t.Fatalf("delete %T cert-manager-webhook: %v", w, err)
				}
			}
			if err := c.install(lbcChart(t, lbc.ChartVersion(o.env)), "aws-load-balancer-controller", lbc.Namespace, lvals, true); err != nil {
				t.Fatalf("helm install aws-load-balancer-controller: %v", err)
			}
		})
	}
}
