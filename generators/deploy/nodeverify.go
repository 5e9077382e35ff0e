package deploy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/bpf/datapath"
	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/problem"
)

// NodeVerifyValuesConfigMap is the ConfigMap (kustomize configMapGenerator) holding the rendered
// Cilium values (key values.yaml) and the version lock (key versions.yaml) the node verifier
// compares each node against.
const NodeVerifyValuesConfigMap = "enigate-node-verify-values"

// Node verifier deployment constants.
const (
	NodeVerifyName        = "enigate-node-verify"
	NodeVerifyMetricsPort = 9964
	NodeVerifyInterval    = 5 * time.Minute
	// NodeVerifyProbeWindow is how long each run's probe counts packets on the native devices.
	NodeVerifyProbeWindow = 5 * time.Second
	nodeVerifyConfigDir   = "/etc/enigate/node-verify"
	hostBPFFS             = "/sys/fs/bpf"
)

// NodeVerifyCapabilities is the smallest capability set the verifier works with (no privileged
// container), measured on a fake Cilium node: the kernel opens programs and maps by ID
// (BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID) — how attached programs, the maps they use and
// Maglev inner maps are read — only with CAP_SYS_ADMIN, and CAP_SYS_ADMIN also satisfies the
// kernel's bpf_capable (bpffs pins, map reads), bpf_net_capable (tcx queries, the probe's attach)
// and perfmon_capable checks. CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON without it fail those reads.
// CAP_SYS_RESOURCE is not needed: kernels >= 5.11 charge BPF memory to the cgroup.
var NodeVerifyCapabilities = []corev1.Capability{"SYS_ADMIN"}

// nodeVerifyArgs are the arguments of one verification as the DaemonSet runs it (the alerts
// print the same command for a node's full report).
func nodeVerifyArgs(env model.Environment, v datapath.Values) []string {
	args := []string{
		"node", "verify",
		"--values=" + nodeVerifyConfigDir + "/values.yaml",
		"--versions=" + nodeVerifyConfigDir + "/versions.yaml",
		"--bpffs=" + hostBPFFS,
		"--cgroup-root=" + v.CgroupRoot,
	}
	for _, p := range env.Enigate.NodeVerifyAllowedPrograms {
		args = append(args, "--allow-program="+p)
	}
	return append(args, "--probe", "--probe-window="+NodeVerifyProbeWindow.String())
}

// renderedValues reads the Cilium values the overlay renders the way the verifier will, chart
// defaults of the pinned Cilium version filled in (bpf/datapath is the one place that knows them).
func renderedValues(env model.Environment) (datapath.Values, error) {
	b, err := yaml.Marshal(cilium.Values(env))
	if err != nil {
		return datapath.Values{}, fmt.Errorf("node verify: cilium values: %w", err)
	}
	v, errs := datapath.ParseValues(b, []byte("cilium: "+env.Versions.Cilium))
	if len(errs) > 0 {
		return v, fmt.Errorf("node verify: %s", strings.Join(problem.Lines(errs), "; "))
	}
	return v, nil
}

// NodeVerify returns the node verifier's ServiceAccount and DaemonSet, and, when the environment
// runs the Prometheus Operator (cilium.serviceMonitors), the PodMonitor that scrapes it and the
// PrometheusRule alerting on drift, silence and probe failures. A DaemonSet, not a Job: every
// node (including nodes that join later) runs exactly one verifier that keeps reporting as
// Cilium reloads its datapath; a Job cannot target each node once, would miss new nodes and
// leave no metrics between runs.
func NodeVerify(env model.Environment) ([]client.Object, error) {
	v, err := renderedValues(env)
	if err != nil {
		return nil, err
	}
	ns := env.Enigate.Namespace
	labels := map[string]string{
		"app.kubernetes.io/name":       NodeVerifyName,
		"app.kubernetes.io/component":  "node-verify",
		"app.kubernetes.io/part-of":    "enigate",
		"app.kubernetes.io/managed-by": "enigate",
	}
	selector := map[string]string{"app.kubernetes.io/name": NodeVerifyName}

	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: NodeVerifyName, Namespace: ns, Labels: labels},
		// The verifier never talks to the API server.
		AutomountServiceAccountToken: ptr.To(false),
	}

	container := corev1.Container{
		Name:  "node-verify",
		Image: env.EnigateImage(),
		Args: append(nodeVerifyArgs(env, v),
			"--interval="+NodeVerifyInterval.String(),
			"--metrics-addr=:"+nvItoa(NodeVerifyMetricsPort),
		),
		Env: []corev1.EnvVar{{
			Name:      "NODE_NAME",
			ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
		}},
		Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: NodeVerifyMetricsPort, Protocol: corev1.ProtocolTCP}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("metrics")}},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{"cpu": resource.MustParse("10m"), "memory": resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{"memory": resource.MustParse("128Mi")},
		},
		SecurityContext: &corev1.SecurityContext{
			Privileged:               ptr.To(false),
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			// Root, overriding the image's non-root user (schema/release.UID): the kernel honours
			// added capabilities only for uid 0 (a non-root process gets them in its bounding set
			// only, and no_new_privs forbids file capabilities), so the bpf reads need it.
			RunAsUser:      ptr.To(int64(0)),
			RunAsGroup:     ptr.To(int64(0)),
			RunAsNonRoot:   ptr.To(false),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: NodeVerifyCapabilities},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "bpffs", MountPath: hostBPFFS, ReadOnly: true, MountPropagation: ptr.To(corev1.MountPropagationHostToContainer)},
			{Name: "values", MountPath: nodeVerifyConfigDir, ReadOnly: true},
			// Cilium's cgroup2 root (cgroup.hostRoot): the socket-LB programs are queried there.
			{Name: "cgroup", MountPath: v.CgroupRoot, ReadOnly: true, MountPropagation: ptr.To(corev1.MountPropagationHostToContainer)},
		},
	}

	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: NodeVerifyName, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromString("10%"))},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: labels,
					Annotations: map[string]string{
						"prometheus.io/scrape": "true",
						"prometheus.io/port":   nvItoa(NodeVerifyMetricsPort),
					},
				},
				Spec: corev1.PodSpec{
					ServiceAccountName:           NodeVerifyName,
					AutomountServiceAccountToken: ptr.To(false),
					HostNetwork:                  true,
					DNSPolicy:                    corev1.DNSClusterFirstWithHostNet,
					PriorityClassName:            "system-node-critical",
					// Every taint, so the verifier also reports on nodes where Cilium is not ready.
					Tolerations: []corev1.Toleration{
						{Key: "node.cilium.io/agent-not-ready", Operator: corev1.TolerationOpExists},
						{Operator: corev1.TolerationOpExists},
					},
					Containers: []corev1.Container{container},
					Volumes: []corev1.Volume{
						{Name: "bpffs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
							Path: hostBPFFS, Type: ptr.To(corev1.HostPathDirectory),
						}}},
						// DirectoryOrCreate, as Cilium's own DaemonSet mounts it: Cilium mounts cgroup2
						// there (cgroup.autoMount) and may not have yet.
						{Name: "cgroup", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
							Path: v.CgroupRoot, Type: ptr.To(corev1.HostPathDirectoryOrCreate),
						}}},
						{Name: "values", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: NodeVerifyValuesConfigMap},
							Items: []corev1.KeyToPath{
								{Key: "values.yaml", Path: "values.yaml"},
								{Key: "versions.yaml", Path: "versions.yaml"},
							},
						}}},
					},
				},
			},
		},
	}
	objs := []client.Object{sa, ds}
	if env.Cilium.ServiceMonitors {
		objs = append(objs, podMonitor(ns, labels, selector), prometheusRule(env, v, labels))
	}
	return objs, nil
}

// podMonitor scrapes every verifier pod, labelling its series with the node it runs on.
func podMonitor(ns string, labels, selector map[string]string) client.Object {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PodMonitor",
		"metadata":   map[string]any{"name": NodeVerifyName, "namespace": ns, "labels": anyMap(labels)},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": anyMap(selector)},
			"podMetricsEndpoints": []any{map[string]any{
				"port":     "metrics",
				"interval": "1m",
				"relabelings": []any{map[string]any{
					"action":       "replace",
					"sourceLabels": []any{"__meta_kubernetes_pod_node_name"},
					"targetLabel":  "node",
				}},
			}},
		},
	}}
}

// Alert names of the node verifier's PrometheusRule.
const (
	AlertDrift        = "EnigateNodeDatapathDrift"
	AlertProbe        = "EnigateNodeProbeFailing"
	AlertNotReporting = "EnigateNodeVerifyNotReporting"
)

// nodeReportCommand prints a node's full report (node: a name or a Prometheus template such as
// {{ $labels.node }}).
func nodeReportCommand(env model.Environment, v datapath.Values, node string) string {
	ns := env.Enigate.Namespace
	return fmt.Sprintf("kubectl -n %s exec $(kubectl -n %s get pod -l app.kubernetes.io/name=%s --field-selector spec.nodeName=%s -o name) -- enigate %s -o text",
		ns, ns, NodeVerifyName, node, strings.Join(nodeVerifyArgs(env, v), " "))
}

// prometheusRule alerts per node: a failing check (drift, one alert per check), a failing probe
// (no packet reached Cilium's ingress program), and a verifier that stopped reporting (no run
// for three intervals, runs that cannot verify, or a scrape that fails).
func prometheusRule(env model.Environment, v datapath.Values, labels map[string]string) client.Object {
	ns := env.Enigate.Namespace
	sel := fmt.Sprintf(`namespace=%q`, ns)
	report := nodeReportCommand(env, v, "{{ $labels.node }}")
	stale := int((3 * NodeVerifyInterval).Seconds())
	rule := func(alert, expr, forDur, severity, summary, description string) any {
		return map[string]any{
			"alert":       alert,
			"expr":        expr,
			"for":         forDur,
			"labels":      map[string]any{"severity": severity},
			"annotations": map[string]any{"summary": summary, "description": description},
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata":   map[string]any{"name": NodeVerifyName, "namespace": ns, "labels": anyMap(labels)},
		"spec": map[string]any{"groups": []any{map[string]any{
			"name": NodeVerifyName,
			"rules": []any{
				rule(AlertDrift,
					fmt.Sprintf(`max by (node, check) (enigate_node_verify_check{%s, status="FAIL", check!~"probe[.].+"}) == 1`, sel),
					"10m", "warning",
					"Node {{ $labels.node }}: datapath check {{ $labels.check }} fails",
					"The eBPF datapath of node {{ $labels.node }} differs from the rendered Cilium values ({{ $labels.check }}). Full report: "+report),
				rule(AlertProbe,
					fmt.Sprintf(`max by (node, check) (enigate_node_verify_check{%s, status="FAIL", check=~"probe[.].+"}) == 1`, sel),
					"30m", "critical",
					"Node {{ $labels.node }}: packets do not reach Cilium ({{ $labels.check }})",
					"For 30 minutes of runs, no packet arriving on {{ $labels.check }} reached Cilium's ingress program on node {{ $labels.node }}: a program ahead of it drops or diverts traffic, or the device carries none. Full report: "+report),
				rule(AlertNotReporting,
					fmt.Sprintf(`(time() - max by (node) (enigate_node_verify_last_run_timestamp_seconds{%[1]s}) > %[2]d) or (max by (node) (enigate_node_verify_up{%[1]s}) == 0) or (max by (node) (up{%[1]s, pod=~"%[3]s-.+"}) == 0)`, sel, stale, NodeVerifyName),
					"15m", "warning",
					"Node {{ $labels.node }}: the node verifier stopped reporting",
					"The node verifier on {{ $labels.node }} has not completed a run for "+fmt.Sprint(3*NodeVerifyInterval)+", cannot verify the node (no bpffs or cgroup2, unprivileged, bad values), or cannot be scraped. Its last report: kubectl -n "+ns+" logs $(kubectl -n "+ns+" get pod -l app.kubernetes.io/name="+NodeVerifyName+" --field-selector spec.nodeName={{ $labels.node }} -o name) --tail=1"),
			},
		}}},
	}}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nvItoa(n int) string { return strconv.Itoa(n) }
