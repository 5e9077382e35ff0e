package datapath

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/schema/upstream"
)

// chartKeys are the values keys whose defaults come from the chart, and the parsed field each fills.
var chartKeys = []struct {
	key string
	got func(Values) any
}{
	{"bpf.root", func(v Values) any { return v.BPFRoot }},
	{"bpf.lbMapMax", func(v Values) any { return v.LBMapMax }},
	{"bpf.policyMapMax", func(v Values) any { return v.PolicyMapMax }},
	{"loadBalancer.acceleration", func(v Values) any { return v.Acceleration }},
	{"kubeProxyReplacement", func(v Values) any { return v.KubeProxyReplacement }},
	{"ipv4.enabled", func(v Values) any { return v.IPv4 }},
	{"ipv6.enabled", func(v Values) any { return v.IPv6 }},
	{"bpf.enableTCX", func(v Values) any { return v.EnableTCX }},
	{"bpf.preallocateMaps", func(v Values) any { return v.PreallocateMaps }},
	{"bpf.distributedLRU.enabled", func(v Values) any { return v.DistributedLRU }},
	{"socketLB.enabled", func(v Values) any { return v.SocketLB }},
	{"nodePort.bindProtection", func(v Values) any { return v.BindProtection }},
	{"cgroup.hostRoot", func(v Values) any { return v.CgroupRoot }},
}

func chartDoc(t *testing.T, version string) map[string]any {
	t.Helper()
	b, err := upstream.CiliumChartValues(version)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestDefaultsAreTheChartValues: with nothing set, every chart-defaulted field holds the value
// at its key in the vendored values.yaml of each supported chart.
func TestDefaultsAreTheChartValues(t *testing.T) {
	for _, version := range support.CiliumVersions() {
		t.Run(version, func(t *testing.T) {
			r := reader{doc: chartDoc(t, version), root: "chart", required: true}
			v, errs := ParseValues([]byte("{}"), []byte("cilium: "+version))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, k := range chartKeys {
				want, _ := r.lookup(k.key)
				if got := k.got(v); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: default %v, chart has %v", k.key, got, want)
				}
			}
			if len(r.errs) > 0 {
				t.Errorf("chart lacks keys: %v", r.errs)
			}
		})
	}
}

// TestDefaultsFollowTheChart: a changed copy of a chart's values.yaml gives changed defaults,
// and a copy without a key is refused.
func TestDefaultsFollowTheChart(t *testing.T) {
	versions := support.CiliumVersions()
	newest := versions[len(versions)-1]
	set := func(doc map[string]any, dotted string, val any) {
		parts := strings.Split(dotted, ".")
		m := doc
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		if val == nil {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = val
		}
	}
	tests := []struct {
		name  string
		key   string
		val   any
		check func(chartDefault) bool
		err   string
	}{
		{name: "lbMapMax", key: "bpf.lbMapMax", val: 1234, check: func(d chartDefault) bool { return d.LBMapMax == 1234 }},
		{name: "bpf root", key: "bpf.root", val: "/elsewhere", check: func(d chartDefault) bool { return d.BPFRoot == "/elsewhere" }},
		{name: "kube-proxy replacement as a string", key: "kubeProxyReplacement", val: "true", check: func(d chartDefault) bool { return d.KubeProxyReplacement }},
		{name: "tcx off", key: "bpf.enableTCX", val: false, check: func(d chartDefault) bool { return !d.EnableTCX }},
		{name: "key dropped", key: "nodePort.bindProtection", err: "chart.nodePort.bindProtection: is not set (the chart must give a default)"},
		{name: "key of the wrong type", key: "cgroup.hostRoot", val: 7, err: "chart.cgroup.hostRoot: 7 is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := chartDoc(t, newest)
			set(doc, tt.key, tt.val)
			b, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			d, err := chartDefaultsFrom(b)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(d) {
				t.Errorf("%s=%v: defaults %+v", tt.key, tt.val, d)
			}
			orig, err := chartDefaults(newest)
			if err != nil {
				t.Fatal(err)
			}
			if d == orig {
				t.Errorf("%s=%v: defaults equal the unchanged chart's", tt.key, tt.val)
			}
		})
	}
}

func TestVendoredChart(t *testing.T) {
	for _, c := range support.Ciliums {
		for _, v := range []string{c.Version, c.Minor() + ".999"} {
			if got, ok := vendoredChart(v); !ok || got != c.Version {
				t.Errorf("vendoredChart(%s) = %q, %v; want %s", v, got, ok, c.Version)
			}
		}
	}
	if got, ok := vendoredChart("1.0.0"); ok {
		t.Errorf("vendoredChart(1.0.0) = %q, want none", got)
	}
}
