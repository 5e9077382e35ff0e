package deploy

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/webhook/policyreport"
)

// AuditName names the audit's ServiceAccount, RBAC and Deployment.
const AuditName = "enigate-audit"

// Audit renders `enigate audit` for one environment: the wgpolicyk8s.io PolicyReport and
// ClusterPolicyReport CRDs (vendored, see webhook/policyreport), a ServiceAccount whose
// ClusterRole reads the audited kinds and writes only reports and events, a Role reading the
// policy ConfigMap by name, and a one-replica Deployment. It runs apart from the webhook:
// listing every route and Node must not compete with admission for memory, and the webhook
// keeps a read-only identity.
func Audit(env model.Environment) ([]client.Object, error) {
	ns := env.Enigate.Namespace
	if ns == "" {
		return nil, fmt.Errorf("audit: enigate.namespace is empty")
	}
	if env.Enigate.Image.Repository == "" || env.Versions.Enigate == "" {
		return nil, fmt.Errorf("audit: enigate.image.repository or versions.enigate is empty (the schema defaults both to the release)")
	}
	crds, err := policyreport.CRDs()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var objs []client.Object
	for _, b := range crds {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return nil, fmt.Errorf("audit: policy report crd: %w", err)
		}
		// controller-gen writes creationTimestamp: null; the API server drops it anyway.
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		objs = append(objs, u)
	}
	labels := map[string]string{
		"app.kubernetes.io/name":       AuditName,
		"app.kubernetes.io/component":  "audit",
		"app.kubernetes.io/part-of":    "enigate",
		"app.kubernetes.io/managed-by": "enigate",
	}
	selector := map[string]string{"app.kubernetes.io/name": AuditName}
	meta := metav1.ObjectMeta{Name: AuditName, Namespace: ns, Labels: labels}
	clusterMeta := metav1.ObjectMeta{Name: AuditName, Labels: labels}
	read := []string{"get", "list", "watch"}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: AuditName, Namespace: ns}}
	objs = append(objs,
		&corev1.ServiceAccount{TypeMeta: webhookType("v1", "ServiceAccount"), ObjectMeta: meta},
		&rbacv1.ClusterRole{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "ClusterRole"), ObjectMeta: clusterMeta,
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{webhookGatewayGroup}, Resources: WebhookRouteResources, Verbs: read},
				{APIGroups: []string{rules.XGatewayGroup}, Resources: []string{"xlistenersets"}, Verbs: read},
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: read},
				{APIGroups: []string{rules.CiliumGroup}, Resources: []string{"ciliumnodes"}, Verbs: read},
				{APIGroups: []string{policyreport.GroupVersion.Group}, Resources: []string{"policyreports", "clusterpolicyreports"},
					Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
				{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			}},
		&rbacv1.ClusterRoleBinding{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ObjectMeta: clusterMeta,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: AuditName}, Subjects: subject},
		// The policy ConfigMap only, by name (the cache watches it with a name field selector).
		&rbacv1.Role{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{WebhookPolicyConfigMap}, Verbs: read}}},
		&rbacv1.RoleBinding{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: meta,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: AuditName}, Subjects: subject},
		auditDeployment(env, meta, labels, selector),
	)
	return objs, nil
}

func auditDeployment(env model.Environment, meta metav1.ObjectMeta, labels, selector map[string]string) *appsv1.Deployment {
	args := []string{
		"audit",
		"--metrics-addr=:" + strconv.Itoa(WebhookMetricsPort),
		"--health-addr=:" + strconv.Itoa(WebhookHealthPort),
		"--policy-namespace=" + meta.Namespace,
		"--policy-configmap=" + WebhookPolicyConfigMap,
	}
	return &appsv1.Deployment{
		TypeMeta:   webhookType("apps/v1", "Deployment"),
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			// One writer of the reports; Recreate so that two never overlap.
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(WebhookMetricsPort)}},
				Spec: corev1.PodSpec{
					ServiceAccountName:            AuditName,
					TerminationGracePeriodSeconds: ptr.To(int64(30)),
					SecurityContext:               podSecurity(),
					Containers: []corev1.Container{{
						Name: "audit", Image: env.EnigateImage(), Args: args,
						Ports:          []corev1.ContainerPort{metricsPort, healthPort},
						ReadinessProbe: readiness("/readyz", 10),
						LivenessProbe:  liveness(),
						// 10,000 routes audit in well under 64Mi of heap (docs/benchmarks.md).
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{"cpu": resource.MustParse("20m"), "memory": resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{"memory": resource.MustParse("512Mi")},
						},
						SecurityContext: containerSecurity(),
					}},
				},
			},
		},
	}
}
