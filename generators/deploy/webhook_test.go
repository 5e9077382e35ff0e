package deploy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/release"
)

func webhookTestEnv() model.Environment {
	return model.Environment{
		Name: "prod", PlatformNamespace: "platform", PlatformGroup: "platform-admins",
		Gateways: []model.Gateway{{Name: "public", Namespace: "gateways", Listeners: []model.Listener{
			{Name: "http", Protocol: "HTTP", Port: 80, Teams: []string{"team-a", "team-b"}}}}},
		Teams: []model.Team{
			{Name: "team-a", Namespaces: []string{"a"}, Hostnames: []string{"*.team-a.example.com"},
				SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/api"}}}},
			{Name: "team-b", Namespaces: []string{"b", "b2"}, Hostnames: []string{"b.example.com"}},
		},
		Versions: model.Versions{Enigate: "v1.2.3"},
		Enigate:  model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "ghcr.io/enigate/enigate"}, WebhookReplicas: 3, CapacityEnforcement: "deny"},
	}
}

func webhookObjects(t *testing.T, env model.Environment) map[string]client.Object {
	t.Helper()
	objs, err := Webhook(env)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]client.Object{}
	for _, o := range objs {
		key := o.GetObjectKind().GroupVersionKind().Kind + "/" + o.GetName()
		if _, dup := out[key]; dup {
			t.Errorf("duplicate %s", key)
		}
		out[key] = o
	}
	return out
}

func TestWebhookDeployment(t *testing.T) {
	objs := webhookObjects(t, webhookTestEnv())
	d := objs["Deployment/enigate-webhook"].(*appsv1.Deployment)
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if pod.PriorityClassName != WebhookPriorityClass || objs["PriorityClass/"+WebhookPriorityClass] == nil {
		t.Errorf("priority class %q not rendered", pod.PriorityClassName)
	}
	keys := []string{}
	for _, c := range pod.TopologySpreadConstraints {
		keys = append(keys, c.TopologyKey)
	}
	if !slices.Equal(keys, []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"}) {
		t.Errorf("spread over %v", keys)
	}
	c := pod.Containers[0]
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Error("no resource requests")
	}
	sc := c.SecurityContext
	if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("security context %+v", sc)
	}
	if c.Image != "ghcr.io/enigate/enigate:v1.2.3" {
		t.Errorf("image %q, want repository:versions.enigate", c.Image)
	}
	if u, g := pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup; u == nil || *u != release.UID || g == nil || *g != release.GID {
		t.Errorf("pod runs as %v:%v, want the image's user %d:%d", u, g, release.UID, release.GID)
	}
	if !strings.Contains(c.ReadinessProbe.HTTPGet.Path, "/readyz") {
		t.Errorf("readiness %q", c.ReadinessProbe.HTTPGet.Path)
	}
	if !slices.Contains(c.Args, "--policy-writer=platform-admins") || c.Args[0] != "webhook" {
		t.Errorf("args %v", c.Args)
	}
	pdb := objs["PodDisruptionBudget/enigate-webhook"].(*policyv1.PodDisruptionBudget)
	if pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("pdb minAvailable %v", pdb.Spec.MinAvailable)
	}
}

func TestWebhookReplicas(t *testing.T) {
	env := webhookTestEnv()
	env.Enigate.WebhookReplicas = 1
	if _, err := Webhook(env); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("one replica: %v", err)
	}
	// The default lives in the CUE schema (schema/load_test.go checks it), not here.
	env.Enigate.WebhookReplicas = 0
	if _, err := Webhook(env); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("zero replicas: %v", err)
	}
	env.Enigate.WebhookReplicas = 3
	objs := webhookObjects(t, env)
	if r := *objs["Deployment/enigate-webhook"].(*appsv1.Deployment).Spec.Replicas; r != 3 {
		t.Errorf("replicas %d, want the declared 3", r)
	}
}

func TestWebhookRBACIsReadOnly(t *testing.T) {
	objs := webhookObjects(t, webhookTestEnv())
	cr := objs["ClusterRole/enigate-webhook"].(*rbacv1.ClusterRole)
	role := objs["Role/enigate-webhook"].(*rbacv1.Role)
	for _, r := range append(slices.Clone(cr.Rules), role.Rules...) {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("verb %q on %v", v, r.Resources)
			}
		}
		if slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "*") {
			t.Errorf("reads %v", r.Resources)
		}
		if slices.Contains(r.Resources, "configmaps") && !slices.Equal(r.ResourceNames, []string{WebhookPolicyConfigMap}) {
			t.Errorf("configmaps beyond the policy: %v", r.ResourceNames)
		}
	}
	if role.Namespace != "enigate-system" {
		t.Errorf("role in %q", role.Namespace)
	}
}

func TestWebhookPolicyConfigMap(t *testing.T) {
	env := webhookTestEnv()
	cm := webhookObjects(t, env)["ConfigMap/"+WebhookPolicyConfigMap].(*corev1.ConfigMap)
	var got model.Policy
	if err := yaml.UnmarshalStrict([]byte(cm.Data[WebhookPolicyKey]), &got); err != nil {
		t.Fatal(err)
	}
	if want := model.PolicyFor(env); !reflect.DeepEqual(got, want) {
		t.Errorf("policy round trip:\n got %+v\nwant %+v", got, want)
	}
	for key, want := range map[string]string{
		"hostnames.a": "*.team-a.example.com shared.example.com", "hostnames.b": "b.example.com", "hostnames.b2": "b.example.com",
	} {
		if cm.Data[key] != want {
			t.Errorf("%s = %q, want %q", key, cm.Data[key], want)
		}
	}
}

func TestWebhookConfiguration(t *testing.T) {
	objs := webhookObjects(t, webhookTestEnv())
	vwc := objs["ValidatingWebhookConfiguration/"+WebhookConfigName].(*admissionregistrationv1.ValidatingWebhookConfiguration)
	if vwc.Annotations["cert-manager.io/inject-ca-from"] != "enigate-system/enigate-webhook" {
		t.Errorf("annotations %v", vwc.Annotations)
	}
	byName := map[string]admissionregistrationv1.ValidatingWebhook{}
	for _, w := range vwc.Webhooks {
		byName[w.Name] = w
		if w.SideEffects == nil || w.TimeoutSeconds == nil {
			t.Fatalf("%s: sideEffects or timeoutSeconds unset", w.Name)
		}
		if *w.SideEffects != admissionregistrationv1.SideEffectClassNone || *w.TimeoutSeconds > 5 {
			t.Errorf("%s: sideEffects %v timeout %v", w.Name, *w.SideEffects, *w.TimeoutSeconds)
		}
		if w.ClientConfig.Service == nil || w.ClientConfig.Service.Name != WebhookName || *w.ClientConfig.Service.Path != WebhookPath {
			t.Errorf("%s: client config %+v", w.Name, w.ClientConfig)
		}
	}
	routes := byName["routes.enigate.io"]
	if *routes.FailurePolicy != admissionregistrationv1.Fail {
		t.Error("routes must fail closed")
	}
	excluded := routes.NamespaceSelector.MatchExpressions[0]
	if excluded.Operator != "NotIn" || !slices.Equal(excluded.Values, []string{"enigate-system", "kube-system"}) {
		t.Errorf("route namespace selector %+v", excluded)
	}
	for _, r := range []string{"httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants", "gateways"} {
		if !slices.Contains(routes.Rules[0].Resources, r) {
			t.Errorf("route webhook misses %s", r)
		}
	}
	if nodes := byName["capacity.enigate.io"]; *nodes.FailurePolicy != admissionregistrationv1.Ignore || len(nodes.MatchConditions) == 0 {
		t.Error("capacity webhook must fail open and filter traffic")
	}
	if pol := byName["policy.enigate.io"]; len(pol.MatchConditions) == 0 || !slices.Contains(pol.Rules[0].Operations, admissionregistrationv1.Delete) {
		t.Error("policy webhook must match the policy ConfigMap, deletes included")
	}
}

func TestWebhookCertificatesAndPolicies(t *testing.T) {
	objs := webhookObjects(t, webhookTestEnv())
	cert := objs["Certificate/enigate-webhook"].(*unstructured.Unstructured)
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if !slices.Contains(dns, "enigate-webhook.enigate-system.svc") {
		t.Errorf("dnsNames %v", dns)
	}
	for _, name := range []string{"Issuer/enigate-selfsigned", "Certificate/enigate-webhook-ca", "Issuer/enigate-webhook-ca"} {
		if objs[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
	vap := objs["ValidatingAdmissionPolicy/enigate-hostname-delegation"].(*admissionregistrationv1.ValidatingAdmissionPolicy)
	if vap.Spec.ParamKind.Kind != "ConfigMap" || len(vap.Spec.Validations) != 1 {
		t.Errorf("hostname VAP %+v", vap.Spec)
	}
	b := objs["ValidatingAdmissionPolicyBinding/enigate-hostname-delegation"].(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
	if b.Spec.ParamRef.Name != WebhookPolicyConfigMap || *b.Spec.ParamRef.ParameterNotFoundAction != admissionregistrationv1.DenyAction {
		t.Errorf("binding %+v", b.Spec.ParamRef)
	}
	if got := b.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values; !slices.Equal(got, []string{"enigate-system", "gateways", "kube-system", "platform"}) {
		t.Errorf("binding excludes %v", got)
	}
	objVAP := objs["ValidatingAdmissionPolicy/enigate-policy-object"].(*admissionregistrationv1.ValidatingAdmissionPolicy)
	if !strings.Contains(objVAP.Spec.Validations[0].Expression, `"platform-admins"`) {
		t.Errorf("policy-object VAP %q", objVAP.Spec.Validations[0].Expression)
	}
	// A collection delete is admitted per object with an empty name: resourceNames would never
	// match it; the object's own name must.
	for _, r := range objVAP.Spec.MatchConstraints.ResourceRules {
		if len(r.ResourceNames) > 0 {
			t.Errorf("policy-object VAP matches by resourceNames %v", r.ResourceNames)
		}
	}
	if len(objVAP.Spec.MatchConditions) != 1 || !strings.Contains(objVAP.Spec.MatchConditions[0].Expression, `oldObject : object).metadata.name == "enigate-policy"`) {
		t.Errorf("policy-object VAP match conditions %+v", objVAP.Spec.MatchConditions)
	}
}

func TestWebhookPolicyWriters(t *testing.T) {
	env := webhookTestEnv()
	env.Enigate.PolicyWriters = []string{"system:serviceaccount:argocd:argocd-application-controller", "platform-admins", ""}
	want := []string{"system:masters", "platform-admins", "system:serviceaccount:argocd:argocd-application-controller"}
	if got := WebhookPolicyWriters(env); !slices.Equal(got, want) {
		t.Errorf("writers %v, want %v", got, want)
	}
	objs := webhookObjects(t, env)
	d := objs["Deployment/enigate-webhook"].(*appsv1.Deployment)
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--policy-writer=system:serviceaccount:argocd:argocd-application-controller") {
		t.Errorf("args %v", d.Spec.Template.Spec.Containers[0].Args)
	}
}
