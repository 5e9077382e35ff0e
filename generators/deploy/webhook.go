package deploy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/release"
	"github.com/enigate/enigate/schema/rules"

	"github.com/enigate/enigate/schema/contract"
)

// Names of the webhook's objects.
const (
	WebhookName            = "enigate-webhook"
	WebhookConfigName      = "enigate"
	WebhookPolicyConfigMap = contract.PolicyConfigMap
	WebhookPolicyKey       = contract.PolicyKey
	// WebhookHostnamesKeyPrefix prefixes the policy ConfigMap keys the ValidatingAdmissionPolicy
	// reads: "hostnames.<namespace>" = space-separated delegated names of the namespace's team.
	WebhookHostnamesKeyPrefix = "hostnames."
	WebhookPriorityClass      = "enigate-webhook-critical"
	WebhookPath               = contract.WebhookPath
	WebhookPort               = contract.WebhookPort
	WebhookMetricsPort        = contract.MetricsPort
	WebhookHealthPort         = contract.HealthPort
	webhookTLSSecret          = "enigate-webhook-tls"
	webhookCASecret           = "enigate-webhook-ca"
	webhookCertDir            = contract.WebhookCertDir
	webhookGatewayGroup       = gwv1.GroupName
)

// WebhookRouteResources are the Gateway API resources the route webhook admits.
var WebhookRouteResources = []string{"httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants", "gateways", "listenersets"}

// Webhook renders everything enigate's admission webhook needs in one environment: the policy
// ConfigMap, ServiceAccount and least-privilege RBAC, PriorityClass, Deployment, PDB, Service,
// cert-manager self-signed CA chain, the ValidatingWebhookConfiguration, and the
// ValidatingAdmissionPolicies that keep hostname delegation and the policy object safe while
// the webhook is down.
func Webhook(env model.Environment) ([]client.Object, error) {
	ns := env.Enigate.Namespace
	if ns == "" {
		return nil, fmt.Errorf("webhook: enigate.namespace is empty")
	}
	// The default (2) is the schema's; a zero here is a model built without it.
	replicas := env.Enigate.WebhookReplicas
	if replicas < 2 {
		return nil, fmt.Errorf("webhook: enigate.webhookReplicas %d (at least 2, so one can drain while the other admits)", replicas)
	}
	if env.Enigate.Image.Repository == "" || env.Versions.Enigate == "" {
		return nil, fmt.Errorf("webhook: enigate.image.repository or versions.enigate is empty (the schema defaults both to the release)")
	}
	policy := model.PolicyFor(env)
	policyYAML, err := yaml.Marshal(policy)
	if err != nil {
		return nil, fmt.Errorf("webhook: policy: %w", err)
	}
	labels := map[string]string{
		"app.kubernetes.io/name":       WebhookName,
		"app.kubernetes.io/component":  "admission-webhook",
		"app.kubernetes.io/part-of":    "enigate",
		"app.kubernetes.io/managed-by": "enigate",
	}
	selector := map[string]string{"app.kubernetes.io/name": WebhookName}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
	}
	clusterMeta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Labels: labels} }
	writers := WebhookPolicyWriters(env)

	cmData := map[string]string{WebhookPolicyKey: string(policyYAML)}
	for k, v := range webhookHostnameParams(policy) {
		cmData[k] = v
	}
	objs := []client.Object{
		&corev1.ConfigMap{TypeMeta: webhookType("v1", "ConfigMap"), ObjectMeta: meta(WebhookPolicyConfigMap), Data: cmData},
		&corev1.ServiceAccount{TypeMeta: webhookType("v1", "ServiceAccount"), ObjectMeta: meta(WebhookName)},
		&rbacv1.ClusterRole{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "ClusterRole"), ObjectMeta: clusterMeta(WebhookName),
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{webhookGatewayGroup}, Resources: WebhookRouteResources, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{rules.XGatewayGroup}, Resources: []string{"xlistenersets"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{""}, Resources: []string{"namespaces", "nodes"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"cilium.io"}, Resources: []string{"ciliumnodes"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{rules.KarpenterGroup}, Resources: []string{"nodepools"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{rules.KarpenterAWSGroup}, Resources: []string{"ec2nodeclasses"}, Verbs: []string{"get", "list", "watch"}},
			}},
		&rbacv1.ClusterRoleBinding{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ObjectMeta: clusterMeta(WebhookName),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: WebhookName},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: WebhookName, Namespace: ns}}},
		// The policy ConfigMap only, by name: the webhook's cache watches it with a
		// metadata.name field selector, which RBAC authorizes against resourceNames.
		&rbacv1.Role{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: meta(WebhookName),
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{WebhookPolicyConfigMap}, Verbs: []string{"get", "list", "watch"}}}},
		&rbacv1.RoleBinding{TypeMeta: webhookType("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: meta(WebhookName),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: WebhookName},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: WebhookName, Namespace: ns}}},
		&schedulingv1.PriorityClass{TypeMeta: webhookType("scheduling.k8s.io/v1", "PriorityClass"), ObjectMeta: clusterMeta(WebhookPriorityClass),
			Value: 900000000, Description: "enigate admission webhook: admission for routes fails closed while it is down"},
		webhookDeployment(env, meta(WebhookName), labels, selector, int32(replicas), writers),
		&policyv1.PodDisruptionBudget{TypeMeta: webhookType("policy/v1", "PodDisruptionBudget"), ObjectMeta: meta(WebhookName),
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(int32(replicas - 1))), Selector: &metav1.LabelSelector{MatchLabels: selector}}},
		&corev1.Service{TypeMeta: webhookType("v1", "Service"), ObjectMeta: meta(WebhookName), Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: []corev1.ServicePort{
				{Name: "https", Port: 443, TargetPort: intstr.FromString("webhook"), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: WebhookMetricsPort, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
			}}},
	}
	objs = append(objs, webhookCertificates(ns, labels)...)
	objs = append(objs, WebhookConfiguration(env, ns+"/"+WebhookName, nil))
	objs = append(objs, webhookAdmissionPolicies(env, policy, writers, labels)...)
	return objs, nil
}

func webhookType(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// WebhookPolicyWriters are the identities allowed to change the policy ConfigMap (and to
// manage ReferenceGrants outside team namespaces): cluster admins, the platform group and the
// declared writers (GitOps controllers' service accounts).
func WebhookPolicyWriters(env model.Environment) []string {
	out := []string{"system:masters"}
	if env.PlatformGroup != "" {
		out = append(out, env.PlatformGroup)
	}
	return webhookUnique(append(out, env.Enigate.PolicyWriters...))
}

// webhookUnique drops empty and repeated entries, keeping the first order.
func webhookUnique(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func webhookDeployment(env model.Environment, meta metav1.ObjectMeta, labels, selector map[string]string, replicas int32, writers []string) *appsv1.Deployment {
	args := []string{
		"webhook",
		"--cert-dir=" + webhookCertDir,
		"--port=" + strconv.Itoa(WebhookPort),
		"--metrics-addr=:" + strconv.Itoa(WebhookMetricsPort),
		"--health-addr=:" + strconv.Itoa(WebhookHealthPort),
		"--policy-namespace=" + meta.Namespace,
		"--policy-configmap=" + WebhookPolicyConfigMap,
	}
	for _, w := range writers {
		args = append(args, "--policy-writer="+w)
	}
	spread := func(key string, when corev1.UnsatisfiableConstraintAction) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: when,
			LabelSelector: &metav1.LabelSelector{MatchLabels: selector}}
	}
	return &appsv1.Deployment{
		TypeMeta:   webhookType("apps/v1", "Deployment"),
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(WebhookMetricsPort)}},
				Spec: corev1.PodSpec{
					ServiceAccountName:            WebhookName,
					PriorityClassName:             WebhookPriorityClass,
					TerminationGracePeriodSeconds: ptr.To(int64(30)),
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
						spread("kubernetes.io/hostname", corev1.DoNotSchedule),
						spread("topology.kubernetes.io/zone", corev1.ScheduleAnyway),
					},
					SecurityContext: podSecurity(),
					Containers: []corev1.Container{{
						Name: "webhook", Image: env.EnigateImage(), Args: args,
						Ports: []corev1.ContainerPort{
							{Name: "webhook", ContainerPort: WebhookPort, Protocol: corev1.ProtocolTCP},
							metricsPort, healthPort,
						},
						// Readiness ignores policy-current: a bad policy push must not take the
						// webhook out of service while it serves the last good policy.
						ReadinessProbe: readiness("/readyz?exclude=policy-current", 5),
						LivenessProbe:  liveness(),
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{"cpu": resource.MustParse("50m"), "memory": resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{"memory": resource.MustParse("256Mi")},
						},
						SecurityContext: containerSecurity(),
						VolumeMounts:    []corev1.VolumeMount{{Name: "certs", MountPath: webhookCertDir, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: webhookTLSSecret}}}},
				},
			},
		},
	}
}

// webhookCertificates is cert-manager's self-signed CA chain: a self-signed Issuer signs a CA
// Certificate, a CA Issuer signs the serving Certificate whose CA the VWC gets injected.
func webhookCertificates(ns string, labels map[string]string) []client.Object {
	obj := func(kind, name string, spec map[string]any) client.Object {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     spec,
		}}
		u.SetLabels(labels)
		return u
	}
	return []client.Object{
		obj("Issuer", "enigate-selfsigned", map[string]any{"selfSigned": map[string]any{}}),
		obj("Certificate", webhookCASecret, map[string]any{
			"isCA": true, "commonName": "enigate-webhook-ca", "secretName": webhookCASecret, "duration": "87600h",
			"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256)},
			"issuerRef":  map[string]any{"name": "enigate-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
		}),
		obj("Issuer", webhookCASecret, map[string]any{"ca": map[string]any{"secretName": webhookCASecret}}),
		obj("Certificate", WebhookName, map[string]any{
			"secretName": webhookTLSSecret, "duration": "2160h", "renewBefore": "720h",
			"dnsNames":   []any{WebhookName + "." + ns + ".svc", WebhookName + "." + ns + ".svc.cluster.local"},
			"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256), "rotationPolicy": "Always"},
			"issuerRef":  map[string]any{"name": webhookCASecret, "kind": "Issuer", "group": "cert-manager.io"},
		}),
	}
}

// WebhookConfiguration is the ValidatingWebhookConfiguration. injectFrom is the cert-manager
// Certificate (namespace/name) whose CA is injected; with caBundle set instead (tests), the
// client config carries it and, when url is non-empty, points at url instead of the Service.
func WebhookConfiguration(env model.Environment, injectFrom string, caBundle []byte, url ...string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	ns := env.Enigate.Namespace
	cc := admissionregistrationv1.WebhookClientConfig{
		Service:  &admissionregistrationv1.ServiceReference{Namespace: ns, Name: WebhookName, Path: ptr.To(WebhookPath), Port: ptr.To(int32(443))},
		CABundle: caBundle,
	}
	if len(url) > 0 && url[0] != "" {
		cc.Service, cc.URL = nil, ptr.To(url[0]+WebhookPath)
	}
	fail, ignore := admissionregistrationv1.Fail, admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	equivalent := admissionregistrationv1.Equivalent
	createUpdate := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	rule := func(group string, resources []string, ops []admissionregistrationv1.OperationType, scope admissionregistrationv1.ScopeType) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources, Scope: ptr.To(scope)}}
	}
	tenantNamespaces := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: webhookSortedUnique([]string{"kube-system", ns})}}}
	// Break-glass and controller traffic: cluster admins and kube-system controllers (garbage
	// collector, namespace controller) bypass the webhook; their writes are not tenant writes.
	notAdmin := admissionregistrationv1.MatchCondition{Name: "not-cluster-admin", Expression: `!("system:masters" in request.userInfo.groups)`}
	notKubeSystem := admissionregistrationv1.MatchCondition{Name: "not-kube-system-controller",
		Expression: `!request.userInfo.username.startsWith("system:serviceaccount:kube-system:")`}
	base := func(name string, policy *admissionregistrationv1.FailurePolicyType) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name: name, ClientConfig: cc, FailurePolicy: policy, SideEffects: &none, MatchPolicy: &equivalent,
			TimeoutSeconds: ptr.To(int32(5)), AdmissionReviewVersions: []string{"v1"},
		}
	}
	routes := base("routes.enigate.io", &fail)
	routes.Rules = []admissionregistrationv1.RuleWithOperations{
		rule(webhookGatewayGroup, WebhookRouteResources, createUpdate, admissionregistrationv1.NamespacedScope),
		rule(rules.XGatewayGroup, []string{"xlistenersets"}, createUpdate, admissionregistrationv1.NamespacedScope),
	}
	routes.NamespaceSelector = tenantNamespaces
	routes.MatchConditions = []admissionregistrationv1.MatchCondition{notAdmin, notKubeSystem}

	// The policy object: Ignore, so installing the ConfigMap never waits on the webhook it
	// configures; the ValidatingAdmissionPolicy protects it while the webhook is down.
	pol := base("policy.enigate.io", &ignore)
	pol.Rules = []admissionregistrationv1.RuleWithOperations{rule("", []string{"configmaps"},
		[]admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete}, admissionregistrationv1.NamespacedScope)}
	pol.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	pol.MatchConditions = []admissionregistrationv1.MatchCondition{policyObjectOnly, notAdmin}

	// Capacity: Ignore, so a webhook outage never stops nodes joining; only requests that
	// change what is checked reach the webhook (kubelets update node status constantly): pod
	// counts, ipam/eni and the labels the handler reads the instance type from.
	nodes := base("capacity.enigate.io", &ignore)
	nodes.Rules = []admissionregistrationv1.RuleWithOperations{
		rule("", []string{"nodes", "nodes/status"}, createUpdate, admissionregistrationv1.ClusterScope),
		rule("cilium.io", []string{"ciliumnodes"}, createUpdate, admissionregistrationv1.ClusterScope),
		rule(rules.KarpenterGroup, []string{"nodepools"}, createUpdate, admissionregistrationv1.ClusterScope),
		rule(rules.KarpenterAWSGroup, []string{"ec2nodeclasses"}, createUpdate, admissionregistrationv1.ClusterScope),
	}
	nodes.MatchConditions = []admissionregistrationv1.MatchCondition{{
		Name: "capacity-inputs-changed",
		Expression: `request.operation == "CREATE" || ` +
			`(request.kind.kind == "Node" && (object.?status.?capacity.orValue({}) != oldObject.?status.?capacity.orValue({}) || ` +
			`object.?status.?allocatable.orValue({}) != oldObject.?status.?allocatable.orValue({}) || ` +
			`object.metadata.?labels.orValue({}) != oldObject.metadata.?labels.orValue({}))) || ` +
			`(request.kind.kind == "CiliumNode" && (object.?spec.?ipam.orValue({}) != oldObject.?spec.?ipam.orValue({}) || ` +
			`object.?spec.?eni.orValue({}) != oldObject.?spec.?eni.orValue({}) || ` +
			`object.metadata.?labels.orValue({}) != oldObject.metadata.?labels.orValue({}))) || ` +
			`(request.kind.kind in ["NodePool", "EC2NodeClass"] && object.?spec.orValue({}) != oldObject.?spec.orValue({}))`,
	}}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   webhookType("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
		ObjectMeta: metav1.ObjectMeta{Name: WebhookConfigName, Labels: map[string]string{"app.kubernetes.io/part-of": "enigate", "app.kubernetes.io/managed-by": "enigate"}},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{routes, pol, nodes},
	}
	if injectFrom != "" {
		vwc.Annotations = map[string]string{"cert-manager.io/inject-ca-from": injectFrom}
	}
	return vwc
}

// policyObjectOnly selects the policy ConfigMap by its own name (the old object's on DELETE,
// also in a collection delete, where the request's name is empty).
var policyObjectOnly = admissionregistrationv1.MatchCondition{Name: "policy-configmap-only",
	Expression: fmt.Sprintf(`(request.operation == "DELETE" ? oldObject : object).metadata.name == %q`, WebhookPolicyConfigMap)}

// webhookHostnameParams are the policy ConfigMap keys the hostname ValidatingAdmissionPolicy
// reads: per team namespace, the names the team may use (exclusive and shared hosts).
func webhookHostnameParams(p model.Policy) map[string]string {
	out := map[string]string{}
	for _, t := range p.Teams {
		names := append([]string(nil), t.Hostnames...)
		for _, sh := range t.SharedHosts {
			names = append(names, sh.Hostname)
		}
		for i := range names {
			names[i] = rules.NormalizeHostname(names[i])
		}
		names = webhookSortedUnique(names)
		for _, ns := range t.Namespaces {
			out[WebhookHostnamesKeyPrefix+ns] = strings.Join(names, " ")
		}
	}
	return out
}

// webhookAdmissionPolicies are the in-process CEL rules: hostname delegation per namespace
// (params: the policy ConfigMap's hostnames.<namespace> keys) and the policy object's writers.
// They hold while the webhook is down; the webhook checks everything else.
func webhookAdmissionPolicies(env model.Environment, p model.Policy, writers []string, labels map[string]string) []client.Object {
	ns := env.Enigate.Namespace
	createUpdate := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	deny := []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}
	excluded := webhookSortedUnique(append([]string{"kube-system"}, p.PlatformNamespaces...))
	hostPolicy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   webhookType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
		ObjectMeta: metav1.ObjectMeta{Name: "enigate-hostname-delegation", Labels: labels},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			ParamKind:     &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{Operations: createUpdate, Rule: admissionregistrationv1.Rule{
					APIGroups: []string{webhookGatewayGroup}, APIVersions: []string{"*"}, Resources: []string{"httproutes", "grpcroutes", "tlsroutes"}}},
			}}},
			MatchConditions: []admissionregistrationv1.MatchCondition{
				{Name: "has-hostnames", Expression: `has(object.spec.hostnames) && size(object.spec.hostnames) > 0`},
				{Name: "not-cluster-admin", Expression: `!("system:masters" in request.userInfo.groups)`},
				// The webhook's UPDATE ratchet: an UPDATE that leaves the spec as it was (labels,
				// finalizer removal, also on an object being deleted) is not judged again, so a
				// route whose hostname moved to another team can still be edited and deleted.
				{Name: "spec-changed", Expression: `request.operation != "UPDATE" || object.spec != oldObject.spec`},
			},
			Variables: []admissionregistrationv1.Variable{
				{Name: "allowed", Expression: fmt.Sprintf(`(%q + request.namespace) in params.data ? params.data[%q + request.namespace].split(" ") : []`,
					WebhookHostnamesKeyPrefix, WebhookHostnamesKeyPrefix)},
				{Name: "outside", Expression: `object.spec.hostnames.filter(h, !variables.allowed.exists(p, p == h || (p.startsWith("*.") && h.endsWith(p.substring(1)))))`},
			},
			Validations: []admissionregistrationv1.Validation{{
				Expression:        `size(variables.outside) == 0`,
				MessageExpression: `"hostnames " + variables.outside.join(", ") + " are outside the delegation of namespace " + request.namespace + " (enigate policy)"`,
				Reason:            ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	hostBinding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   webhookType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: "enigate-hostname-delegation", Labels: labels},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: hostPolicy.Name,
			ParamRef: &admissionregistrationv1.ParamRef{Name: WebhookPolicyConfigMap, Namespace: ns,
				ParameterNotFoundAction: ptr.To(admissionregistrationv1.DenyAction)},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded}}}},
			ValidationActions: deny,
		},
	}
	quoted := make([]string, len(writers))
	for i, w := range writers {
		quoted[i] = strconv.Quote(w)
	}
	platformSAs := make([]string, 0, len(p.PlatformNamespaces))
	for _, pns := range p.PlatformNamespaces {
		platformSAs = append(platformSAs, fmt.Sprintf(`request.userInfo.username.startsWith(%q)`, "system:serviceaccount:"+pns+":"))
	}
	writerExpr := fmt.Sprintf(`request.userInfo.groups.exists(g, g in [%s]) || [%s].exists(w, w == request.userInfo.username)`,
		strings.Join(quoted, ", "), strings.Join(quoted, ", "))
	if len(platformSAs) > 0 {
		writerExpr += " || " + strings.Join(platformSAs, " || ")
	}
	objPolicy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   webhookType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
		ObjectMeta: metav1.ObjectMeta{Name: "enigate-policy-object", Labels: labels},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			// Matched by the object's own name, not resourceNames: a collection delete is
			// admitted per object with an empty request name, which resourceNames never match
			// (k8s.io/apiserver v0.37.0 pkg/endpoints/handlers/delete.go DeleteCollection,
			// pkg/admission/plugin/policy/matching/matching.go).
			MatchConstraints: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}},
				}}},
			MatchConditions: []admissionregistrationv1.MatchCondition{policyObjectOnly},
			Validations: []admissionregistrationv1.Validation{{
				Expression: writerExpr,
				Message:    "the enigate policy ConfigMap is platform-owned (writers: " + strings.Join(writers, ", ") + ", platform service accounts)",
				Reason:     ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	objBinding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   webhookType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: "enigate-policy-object", Labels: labels},
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: objPolicy.Name, ValidationActions: deny},
	}
	return []client.Object{hostPolicy, hostBinding, objPolicy, objBinding}
}

func webhookSortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// podSecurity runs enigate's pods as the image's own user (schema/release), stated so the
// kubelet can enforce it, with the runtime's default seccomp profile.
func podSecurity() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(release.UID)), RunAsGroup: ptr.To(int64(release.GID)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// containerSecurity: a read-only root, no privilege escalation, no capabilities.
func containerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot: ptr.To(true), ReadOnlyRootFilesystem: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// liveness is /healthz on the health port.
func liveness() *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: "/healthz", Port: intstr.FromString("health")}}, PeriodSeconds: 10, FailureThreshold: 3}
}

// readiness probes path on the health port every period seconds.
func readiness(path string, period int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: path, Port: intstr.FromString("health")}}, PeriodSeconds: period}
}

// The metrics and health ports every enigate controller (webhook, audit) exposes.
var (
	metricsPort = corev1.ContainerPort{Name: "metrics", ContainerPort: WebhookMetricsPort, Protocol: corev1.ProtocolTCP}
	healthPort  = corev1.ContainerPort{Name: "health", ContainerPort: WebhookHealthPort, Protocol: corev1.ProtocolTCP}
)
