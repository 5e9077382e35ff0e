package deploy

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/enigate/enigate/schema/model"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func nodeVerifyDaemonSet(t *testing.T) (*appsv1.DaemonSet, *corev1.ServiceAccount) {
	t.Helper()
	env := model.Environment{Name: "prod", Versions: model.Versions{Enigate: "v1.2.3"},
		Enigate: model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "mirror.example.com/enigate", Digest: testDigest}}}
	objs := NodeVerify(env)
	var ds *appsv1.DaemonSet
	var sa *corev1.ServiceAccount
	for _, o := range objs {
		switch x := o.(type) {
		case *appsv1.DaemonSet:
			ds = x
		case *corev1.ServiceAccount:
			sa = x
		default:
			t.Errorf("unexpected object %T", o)
		}
		if o.GetNamespace() != "enigate-system" {
			t.Errorf("%T %s in namespace %q, want enigate-system", o, o.GetName(), o.GetNamespace())
		}
	}
	if ds == nil || sa == nil {
		t.Fatalf("want a DaemonSet and a ServiceAccount, got %d objects", len(objs))
	}
	return ds, sa
}

func TestNodeVerifyDaemonSet(t *testing.T) {
	ds, sa := nodeVerifyDaemonSet(t)
	pod := ds.Spec.Template.Spec
	c := pod.Containers[0]
	sc := c.SecurityContext

	tests := []struct {
		name string
		ok   bool
	}{
		{"not privileged", sc != nil && sc.Privileged != nil && !*sc.Privileged},
		{"no privilege escalation", sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation},
		{"read-only root filesystem", sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem},
		{"drops ALL capabilities", sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"})},
		{"adds exactly SYS_ADMIN", slices.Equal(sorted(sc.Capabilities.Add), []corev1.Capability{"SYS_ADMIN"})},
		{"host network", pod.HostNetwork},
		{"no host PID", !pod.HostPID},
		{"service account", pod.ServiceAccountName == sa.Name},
		{"image from env, pinned", c.Image == "mirror.example.com/enigate:v1.2.3@"+testDigest},
		{"runs as root explicitly (not the image's user)", sc.RunAsUser != nil && *sc.RunAsUser == 0 && sc.RunAsGroup != nil && *sc.RunAsGroup == 0 &&
			sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot},
		{"tolerates every taint", slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Key == "" && t.Operator == corev1.TolerationOpExists })},
		{"tolerates agent-not-ready", slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Key == "node.cilium.io/agent-not-ready" })},
		{"interval loop with metrics", slices.Contains(c.Args, "--interval="+NodeVerifyInterval) && slices.Contains(c.Args, "--metrics-addr=:9964")},
		{"values from the ConfigMap", slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool {
			return v.ConfigMap != nil && v.ConfigMap.Name == NodeVerifyValuesConfigMap
		})},
		{"bpffs from the host", slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool {
			return v.HostPath != nil && v.HostPath.Path == "/sys/fs/bpf"
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("DaemonSet: %s does not hold", tt.name)
			}
		})
	}
	for _, m := range c.VolumeMounts {
		t.Run("mount "+m.Name+" read-only", func(t *testing.T) {
			if !m.ReadOnly {
				t.Errorf("volume mount %s at %s is writable", m.Name, m.MountPath)
			}
		})
	}
	if len(c.VolumeMounts) != 2 {
		t.Errorf("%d volume mounts, want 2 (bpffs, values)", len(c.VolumeMounts))
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil && v.HostPath.Path != "/sys/fs/bpf" {
			t.Errorf("unexpected host path volume %s", v.HostPath.Path)
		}
	}
}

func sorted(c []corev1.Capability) []corev1.Capability {
	s := slices.Clone(c)
	slices.Sort(s)
	return s
}
