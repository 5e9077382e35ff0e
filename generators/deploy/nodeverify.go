package deploy

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/enigate/enigate/schema/model"
)

// NodeVerifyValuesConfigMap is the ConfigMap (kustomize configMapGenerator) holding the rendered
// Cilium values (key values.yaml) and the version lock (key versions.yaml) the node verifier
// compares each node against.
const NodeVerifyValuesConfigMap = "enigate-node-verify-values"

// Node verifier deployment constants.
const (
	NodeVerifyName        = "enigate-node-verify"
	NodeVerifyMetricsPort = 9964
	NodeVerifyInterval    = "5m"
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

// NodeVerify returns the node verifier's ServiceAccount and DaemonSet. A DaemonSet, not a Job:
// every node (including nodes that join later) runs exactly one verifier that keeps reporting as
// Cilium reloads its datapath; a Job cannot target each node once, would miss new nodes and
// leave no metrics between runs.
func NodeVerify(env model.Environment) []client.Object {
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
		Args: []string{
			"node", "verify",
			"--values=" + nodeVerifyConfigDir + "/values.yaml",
			"--versions=" + nodeVerifyConfigDir + "/versions.yaml",
			"--bpffs=" + hostBPFFS,
			"--interval=" + NodeVerifyInterval,
			"--metrics-addr=:" + nvItoa(NodeVerifyMetricsPort),
		},
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
	return []client.Object{sa, ds}
}

func nvItoa(n int) string { return strconv.Itoa(n) }
