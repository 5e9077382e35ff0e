package deploy

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/enigate/enigate/bpf/datapath"
	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/generators/promcrds"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/crdvalidation"
	"github.com/enigate/enigate/schema/model"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// nodeVerifyEnv is the dev example declaration (real Cilium values to read) with enigate's image,
// namespace and declared programs set here.
func nodeVerifyEnv(t *testing.T) model.Environment {
	t.Helper()
	decl, err := schema.LoadFile("../../overlays/dev/environment.cue", "overlays/dev/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	env := decl.Env
	env.Versions.Enigate = "v1.2.3"
	env.Cilium.ServiceMonitors = false
	env.Enigate = model.Enigate{Namespace: "enigate-system", Image: model.Image{Repository: "mirror.example.com/enigate", Digest: testDigest},
		NodeVerify: true, NodeVerifyAllowedPrograms: []string{"secagent_tc", "0123456789abcdef"}}
	return env
}

func nodeVerifyDaemonSet(t *testing.T) (*appsv1.DaemonSet, *corev1.ServiceAccount) {
	t.Helper()
	objs, err := NodeVerify(nodeVerifyEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	var ds *appsv1.DaemonSet
	var sa *corev1.ServiceAccount
	for _, o := range objs {
		switch x := o.(type) {
		case *appsv1.DaemonSet:
			ds = x
		case *corev1.ServiceAccount:
			sa = x
		default:
			t.Errorf("unexpected object %T without cilium.serviceMonitors", o)
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
		{"interval loop with metrics", slices.Contains(c.Args, "--interval=5m0s") && slices.Contains(c.Args, "--metrics-addr=:9964")},
		{"probe on", slices.Contains(c.Args, "--probe") && slices.Contains(c.Args, "--probe-window=5s")},
		{"cgroup root from the chart default", slices.Contains(c.Args, "--cgroup-root=/run/cilium/cgroupv2")},
		{"declared programs allowed", slices.Contains(c.Args, "--allow-program=secagent_tc") && slices.Contains(c.Args, "--allow-program=0123456789abcdef")},
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
	if len(c.VolumeMounts) != 3 {
		t.Errorf("%d volume mounts, want 3 (bpffs, values, cgroup)", len(c.VolumeMounts))
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil && v.HostPath.Path != "/sys/fs/bpf" && v.HostPath.Path != "/run/cilium/cgroupv2" {
			t.Errorf("unexpected host path volume %s", v.HostPath.Path)
		}
	}
}

func TestNodeVerifyCgroupRootFollowsValues(t *testing.T) {
	env := nodeVerifyEnv(t)
	env.Overrides.CiliumValues = map[string]any{"cgroup": map[string]any{"hostRoot": "/sys/fs/cgroup"}}
	objs, err := NodeVerify(env)
	if err != nil {
		t.Fatal(err)
	}
	ds := objs[1].(*appsv1.DaemonSet)
	c := ds.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--cgroup-root=/sys/fs/cgroup") {
		t.Errorf("args %v lack --cgroup-root=/sys/fs/cgroup", c.Args)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == "cgroup" && m.MountPath == "/sys/fs/cgroup" && m.ReadOnly
	}) {
		t.Errorf("no read-only cgroup mount at /sys/fs/cgroup: %v", c.VolumeMounts)
	}
}

// TestNodeVerifyMonitoringObjects renders the PodMonitor and PrometheusRule and judges them with
// the vendored prometheus-operator CRDs as the API server would (crdvalidation).
func TestNodeVerifyMonitoringObjects(t *testing.T) {
	var files [][]byte
	for _, name := range []string{promcrds.PodMonitorFile, promcrds.PrometheusRuleFile} {
		b, err := promcrds.File(name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	set, err := crdvalidation.NewSet(files...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		serviceMonitor bool
		kinds          []string
	}{
		{name: "without the Prometheus Operator", kinds: []string{"ServiceAccount", "DaemonSet"}},
		{name: "with the Prometheus Operator", serviceMonitor: true, kinds: []string{"ServiceAccount", "DaemonSet", "PodMonitor", "PrometheusRule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := nodeVerifyEnv(t)
			env.Cilium.ServiceMonitors = tt.serviceMonitor
			objs, err := NodeVerify(env)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, o := range objs {
				m, err := manifest.ToMap(o)
				if err != nil {
					t.Fatal(err)
				}
				kind, _ := m["kind"].(string)
				kinds = append(kinds, kind)
				if _, ok := o.(*unstructured.Unstructured); !ok {
					continue
				}
				if !set.Covers(m["apiVersion"].(string), kind) {
					t.Fatalf("%s: no vendored CRD", kind)
				}
				if errs := set.Validate(context.Background(), m); len(errs) > 0 {
					t.Errorf("%s invalid: %v", kind, errs)
				}
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("kinds %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

func TestNodeVerifyAlerts(t *testing.T) {
	env := nodeVerifyEnv(t)
	env.Cilium.ServiceMonitors = true
	objs, err := NodeVerify(env)
	if err != nil {
		t.Fatal(err)
	}
	rule := objs[3].(*unstructured.Unstructured)
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	rules := groups[0].(map[string]any)["rules"].([]any)
	byName := map[string]map[string]any{}
	for _, r := range rules {
		m := r.(map[string]any)
		byName[m["alert"].(string)] = m
	}
	tests := []struct {
		alert string
		in    []string // substrings of the expression
	}{
		{AlertDrift, []string{`enigate_node_verify_check{namespace="enigate-system", status="FAIL", check!~"probe[.].+"}`, "by (node, check)"}},
		{AlertProbe, []string{`check=~"probe[.].+"`}},
		{AlertNotReporting, []string{"enigate_node_verify_last_run_timestamp_seconds", "> 900", "enigate_node_verify_up", `up{namespace="enigate-system", pod=~"enigate-node-verify-.+"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.alert, func(t *testing.T) {
			r, ok := byName[tt.alert]
			if !ok {
				t.Fatalf("no alert %s", tt.alert)
			}
			expr := r["expr"].(string)
			for _, s := range tt.in {
				if !strings.Contains(expr, s) {
					t.Errorf("expr %q lacks %q", expr, s)
				}
			}
			desc := r["annotations"].(map[string]any)["description"].(string)
			if !strings.Contains(desc, "--field-selector spec.nodeName={{ $labels.node }}") {
				t.Errorf("description %q does not say how to reach the node's verifier", desc)
			}
		})
	}
	if cmd := nodeReportCommand(env, mustValues(t, env), "ip-10-0-1-23"); !strings.Contains(cmd, "-- enigate node verify --values=/etc/enigate/node-verify/values.yaml") || !strings.HasSuffix(cmd, "-o text") {
		t.Errorf("report command %q", cmd)
	}
}

func mustValues(t *testing.T, env model.Environment) datapath.Values {
	t.Helper()
	v, err := renderedValues(env)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sorted(c []corev1.Capability) []corev1.Capability {
	s := slices.Clone(c)
	slices.Sort(s)
	return s
}

// TestNodeVerifyAllowedProgramsDeclared: the declaration's allow-list reaches the DaemonSet's
// args, and the schema refuses entries that are neither a kernel program name nor a tag.
func TestNodeVerifyAllowedProgramsDeclared(t *testing.T) {
	src, err := os.ReadFile("../../overlays/dev/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		decl  string
		ok    bool
		wants []string
	}{
		{name: "name and tag", decl: `enigate: nodeVerifyAllowedPrograms: ["falco_tc", "0123456789abcdef"]`, ok: true,
			wants: []string{"--allow-program=falco_tc", "--allow-program=0123456789abcdef"}},
		{name: "name longer than the kernel keeps", decl: `enigate: nodeVerifyAllowedPrograms: ["a_name_longer_than_15"]`},
		{name: "not a name", decl: `enigate: nodeVerifyAllowedPrograms: ["drop;rm"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decl, err := schema.LoadDeclaration(append(append(src, '\n'), tt.decl...), "environment.cue")
			if !tt.ok {
				if err == nil {
					t.Fatal("declaration accepted, want a schema error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			objs, err := NodeVerify(decl.Env)
			if err != nil {
				t.Fatal(err)
			}
			args := objs[1].(*appsv1.DaemonSet).Spec.Template.Spec.Containers[0].Args
			for _, w := range tt.wants {
				if !slices.Contains(args, w) {
					t.Errorf("args %v lack %s", args, w)
				}
			}
		})
	}
}
