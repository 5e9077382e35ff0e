package upstream

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/test/golden"
)

var valuesPath = field.NewPath("cilium", "values")

func mustYAML(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("test values: %v", err)
	}
	return m
}

func readYAMLFile(t testing.TB, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return mustYAML(t, string(raw))
}

// TestCiliumChartDefaultsPass is the key test of the allow-list approach:
// the chart's own values.yaml must pass both the schema and the unknown-key
// check for every supported version.
func TestCiliumChartDefaultsPass(t *testing.T) {
	for _, v := range support.CiliumVersions() {
		t.Run(v, func(t *testing.T) {
			values := readYAMLFile(t, filepath.Join("data", "cilium", v+"-values.yaml"))
			if len(values) < 100 {
				t.Fatalf("values.yaml has %d top-level keys, expected the full chart values", len(values))
			}
			if errs := ValidateCiliumValues(v, values, valuesPath); len(errs) != 0 {
				t.Fatalf("chart %s values.yaml: %d errors:\n%s", v, len(errs), strings.Join(problem.Lines(errs), "\n"))
			}
		})
	}
}

// TestCiliumValuesKeysInSchema: every key path of the chart's values.yaml is a property path
// of its values.schema.json, and wherever values.yaml holds a map with keys, the schema lists
// properties. The unknown-key check reads only the schema and relies on this.
func TestCiliumValuesKeysInSchema(t *testing.T) {
	for _, v := range support.CiliumVersions() {
		t.Run(v, func(t *testing.T) {
			defaults := readYAMLFile(t, filepath.Join("data", "cilium", v+"-values.yaml"))
			ps, err := loadPropertySchemas("data/cilium/" + v + "-values.schema.json")
			if err != nil {
				t.Fatal(err)
			}
			var missing []string
			var walk func(values map[string]any, schemaNode any, prefix string)
			walk = func(values map[string]any, schemaNode any, prefix string) {
				props := schemaProperties(schemaNode)
				for k, val := range values {
					sub, ok := props[k]
					if !ok {
						missing = append(missing, prefix+k)
						continue
					}
					if m, ok := val.(map[string]any); ok && len(m) > 0 {
						walk(m, sub, prefix+k+".")
					}
				}
			}
			walk(defaults, ps.doc, "")
			if len(missing) > 0 {
				sort.Strings(missing)
				t.Errorf("values.yaml keys missing from values.schema.json (the unknown-key check must read values.yaml again): %s", strings.Join(missing, ", "))
			}
		})
	}
}

// TestCiliumGuideValues checks the guide's whole cilium-values.yaml: every
// mistake is reported at once, exactly as in the golden file.
func TestCiliumGuideValues(t *testing.T) {
	values := readYAMLFile(t, "testdata/guide-cilium-values.yaml")
	for _, v := range support.CiliumVersions() {
		t.Run(v, func(t *testing.T) {
			got := strings.Join(problem.Lines(ValidateCiliumValues(v, values, valuesPath)), "\n") + "\n"
			golden.Check(t, filepath.Join("testdata", "golden", "guide-cilium-values-"+v+".txt"), []byte(got))
		})
	}
}

func TestValidateCiliumValues(t *testing.T) {
	tests := []struct {
		name    string
		version string
		values  string
		want    []string
	}{
		{
			name:    "removed eni.updateEC2AdapterLimitViaAPI",
			version: "1.19.7",
			values:  "eni: {enabled: true, updateEC2AdapterLimitViaAPI: true}",
			want:    []string{"cilium.values.eni.updateEC2AdapterLimitViaAPI: unknown key for chart 1.19.7 (removed in 1.18; not read by the chart)"},
		},
		{
			name:    "enableXDPPrefilter",
			version: "1.18.12",
			values:  "enableXDPPrefilter: true",
			want:    []string{`cilium.values.enableXDPPrefilter: unknown key for chart 1.18.12 (not a chart value; XDP acceleration is loadBalancer.acceleration: native|best-effort, the prefilter is extraConfig enable-xdp-prefilter: "true")`},
		},
		{
			name:    "xdp.mode",
			version: "1.20.2",
			values:  "xdp: {mode: native}",
			want:    []string{"cilium.values.xdp: unknown key for chart 1.20.2 (not a chart value (there is no xdp.mode); XDP acceleration is loadBalancer.acceleration: disabled|native|best-effort)"},
		},
		{
			name:    "maglev nested under loadBalancer",
			version: "1.19.7",
			values:  "loadBalancer: {algorithm: maglev, maglev: {tableSize: 65521}}",
			want:    []string{"cilium.values.loadBalancer.maglev: unknown key for chart 1.19.7 (ignored under loadBalancer; use top-level maglev.tableSize and maglev.hashSeed)"},
		},
		{
			name:    "eni.preAllocate before 1.19",
			version: "1.18.12",
			values:  "eni: {preAllocate: 8}",
			want:    []string{"cilium.values.eni.preAllocate: unknown key for chart 1.18.12 (not a chart value; it is CiliumNode spec.ipam.pre-allocate, set through a custom CNI config)"},
		},
		{
			name:    "eni.minAllocate since 1.19 points at ipam.nodeSpec",
			version: "1.20.2",
			values:  "eni: {minAllocate: 10}",
			want:    []string{"cilium.values.eni.minAllocate: unknown key for chart 1.20.2 (not a chart value; it is CiliumNode spec.ipam.min-allocate, set through a custom CNI config, or ipam.nodeSpec.ipamMinAllocate since 1.19)"},
		},
		{
			name:    "wrong type",
			version: "1.19.7",
			values:  `eni: {enabled: "true"}`,
			want:    []string{"cilium.values.eni.enabled: must be boolean (got string)"},
		},
		{
			name:    "wrong type where null is allowed",
			version: "1.19.7",
			values:  `eni: {nodeSpec: {firstInterfaceIndex: "1"}}`,
			want:    []string{"cilium.values.eni.nodeSpec.firstInterfaceIndex: must be integer or null (got string)"},
		},
		{
			name:    "enum",
			version: "1.20.2",
			values:  "clustermesh: {apiserver: {service: {externalTrafficPolicy: Everywhere}}}",
			want:    []string{`cilium.values.clustermesh.apiserver.service.externalTrafficPolicy: must be one of "Local", "Cluster" (got "Everywhere")`},
		},
		{
			name:    "near miss gets a did-you-mean",
			version: "1.19.7",
			values:  "loadBalancer: {acceleraton: native}",
			want:    []string{"cilium.values.loadBalancer.acceleraton: unknown key for chart 1.19.7 (not a value the chart reads; did you mean loadBalancer.acceleration?)"},
		},
		{
			name:    "near miss of a template-only key",
			version: "1.18.12",
			values:  "maglev: {tablesize: 65521}",
			want:    []string{"cilium.values.maglev.tablesize: unknown key for chart 1.18.12 (not a value the chart reads; did you mean maglev.tableSize?)"},
		},
		{
			name:    "unknown top-level key without a near miss",
			version: "1.19.7",
			values:  "frobnicate: true",
			want:    []string{"cilium.values.frobnicate: unknown key for chart 1.19.7 (not a value the chart reads)"},
		},
		{
			name:    "all problems at once: schema errors, then unknown keys, each by path",
			version: "1.19.7",
			values:  `{eni: {enabled: yes-please, updateEC2AdapterLimitViaAPI: true}, bpf: {lbMapMax: "big"}, enableXDPPrefilter: true, hubble: {relay: {replicaz: 2}}}`,
			want: []string{
				"cilium.values.bpf.lbMapMax: must be integer or null (got string)",
				"cilium.values.eni.enabled: must be boolean (got string)",
				`cilium.values.enableXDPPrefilter: unknown key for chart 1.19.7 (not a chart value; XDP acceleration is loadBalancer.acceleration: native|best-effort, the prefilter is extraConfig enable-xdp-prefilter: "true")`,
				"cilium.values.eni.updateEC2AdapterLimitViaAPI: unknown key for chart 1.19.7 (removed in 1.18; not read by the chart)",
				"cilium.values.hubble.relay.replicaz: unknown key for chart 1.19.7 (not a value the chart reads; did you mean hubble.relay.replicas?)",
			},
		},
		{
			name:    "template-only and free-form keys pass",
			version: "1.18.12",
			values: `
routingMode: native
autoDirectNodeRoutes: true
ipam: {mode: eni, operator: {clusterPoolIPv4PodCIDRList: [10.0.0.0/16]}}
eni: {enabled: true, eniTags: {team: platform, "kubernetes.io/cluster/x": owned}}
loadBalancer: {algorithm: maglev, mode: snat, acceleration: best-effort, dsrDispatch: opt}
maglev: {tableSize: 65521, hashSeed: AAAAAAAAAAAAAAAA}
bpf: {lbMapMax: 65536, ctTcpMax: 524288, ctAnyMax: 262144, natMax: 524288, neighMax: 524288, policyMapMax: 16384, mapDynamicSizeRatio: 0.0025}
extraConfig: {enable-xdp-prefilter: "true", anything-goes: "x"}
podAnnotations: {example.com/a: b}
nodeSelector: {kubernetes.io/os: linux, node.kubernetes.io/instance-type: m7g.xlarge}
tolerations: [{operator: Exists, value: x}]
operator: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}}, podLabels: {a: b}}
hubble: {metrics: {enableOpenMetrics: true, enabled: ["httpV2:exemplars=true"]}, eventQueueSize: 4096}
k8sServiceHost: example.eks.amazonaws.com
k8sServicePort: 443
socketLB: {hostNamespaceOnly: true}
ipMasqAgent: {config: {nonMasqueradeCIDRs: [10.0.0.0/8]}}
`,
		},
		{
			name:    "key added in 1.19 is unknown to 1.18",
			version: "1.18.12",
			values:  "ipam: {nodeSpec: {ipamPreAllocate: 8}}",
			want:    []string{"cilium.values.ipam.nodeSpec: unknown key for chart 1.18.12 (not a value the chart reads)"},
		},
		{
			name:    "key added in 1.19 is known to 1.19",
			version: "1.19.7",
			values:  "ipam: {nodeSpec: {ipamPreAllocate: 8}}",
		},
		{
			name:    "template-only key read since 1.19 is unknown to 1.18",
			version: "1.18.12",
			values:  "enableTunnelBIGTCP: true",
			want:    []string{"cilium.values.enableTunnelBIGTCP: unknown key for chart 1.18.12 (not a value the chart reads)"},
		},
		{
			name:    "template-only key read since 1.19",
			version: "1.20.2",
			values:  "enableTunnelBIGTCP: true",
		},
		{
			name:    "unsupported chart version",
			version: "1.17.0",
			values:  "eni: {enabled: true}",
			want:    []string{`cilium.values: cilium chart version "1.17.0" is not supported (supported: 1.18.12, 1.19.7, 1.20.2)`},
		},
		{
			name:    "empty values",
			version: "1.20.2",
			values:  "{}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problem.Lines(ValidateCiliumValues(tt.version, mustYAML(t, tt.values), valuesPath))
			if !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Fatalf("got %d lines:\n%s\nwant %d lines:\n%s", len(got), strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestValidateCiliumValuesOddInput: values built in Go or broken input never
// panic and say what is wrong.
func TestValidateCiliumValuesOddInput(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range 10000 {
		next := map[string]any{}
		cur["extraConfig"] = next
		cur = next
	}
	deepList := []any{}
	for range 10000 {
		deepList = []any{deepList}
	}
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{name: "nil map", values: nil},
		{
			name: "Go types",
			values: map[string]any{
				"eni":            map[string]bool{"enabled": true},
				"bpf":            map[string]int{"lbMapMax": 65536},
				"extraConfig":    map[string]string{"enable-xdp-prefilter": "true"},
				"hubble":         map[string]any{"metrics": map[string]any{"enabled": []string{"dns", "drop"}}},
				"k8sServiceHost": ptr("example.com"),
			},
		},
		{
			name:   "wrong type at the top of a subtree",
			values: map[string]any{"eni": "yes", "hubble": []any{1, 2}},
			want: []string{
				"cilium.values.eni: must be object (got string)",
				"cilium.values.hubble: must be object (got array)",
			},
		},
		{
			name:   "values without a JSON form",
			values: map[string]any{"eni": map[string]any{"enabled": func() {}}, "bpf": map[int]int{1: 2}, "maglev": map[string]any{"tableSize": nan()}},
			want: []string{
				"cilium.values.bpf: must be a map with string keys (got map[int]int)",
				"cilium.values.eni.enabled: has no JSON form (got func())",
				"cilium.values.maglev.tableSize: must be a finite number",
			},
		},
		{
			name:   "huge nesting in a map",
			values: map[string]any{"extraConfig": deep},
			want:   []string{"cilium.values" + strings.Repeat(".extraConfig", 64) + ": nested deeper than 64 levels"},
		},
		{
			name:   "huge nesting in a list",
			values: map[string]any{"devices": deepList},
			want:   []string{"cilium.values.devices" + strings.Repeat("[0]", 63) + ": nested deeper than 64 levels"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problem.Lines(ValidateCiliumValues("1.19.7", tt.values, valuesPath))
			if !sameSet(got, tt.want) {
				t.Fatalf("got %d lines:\n%s\nwant %d lines:\n%s", len(got), strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// sameSet compares line lists ignoring order (both nil or empty count equal).
func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		if count[w] == 0 {
			return false
		}
		count[w]--
	}
	return true
}
