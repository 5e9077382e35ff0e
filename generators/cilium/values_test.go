package cilium_test

import (
	"fmt"
	"testing"

	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/generators/origin"
	"github.com/enigate/enigate/schema"
)

const env = `name: "t"
cluster: {region: "eu-west-1", operatorIdentity: "irsa", operatorRoleARN: "arn:aws:iam::123456789012:role/op", tags: team: "x"}
vpc: {cidr: "10.0.0.0/16", availabilityZones: ["eu-west-1a", "eu-west-1b"]}
nodeGroups: general: {instanceType: "m7g.large", maxSize: 2}
cilium: {clusterID: 1, maglev: hashSeed: "Yie+5slhri/40zfx"}
overrides: ciliumValues: {
	eni: minAllocate: 10
	bpf: lbMapMax: 131072
	hubble: metrics: enabled: ["dns"]
}
`

// TestRenderRecordsOrigins: each value rendered from the declaration names its field, an
// override names its own path, and a value enigate sets itself names nothing.
func TestRenderRecordsOrigins(t *testing.T) {
	e, err := schema.Load([]byte(env), "e.cue")
	if err != nil {
		t.Fatal(err)
	}
	values, from := cilium.Render(e)
	tests := []struct{ name, path, want string }{
		{"rendered from a field", "maglev.hashSeed", "cilium.maglev.hashSeed"},
		{"rendered from a field elsewhere", "ipv4NativeRoutingCIDR", "vpc.cidr"},
		{"operator role", "eni.iamRole", "cluster.operatorRoleARN"},
		{"a tag of cluster.tags", "eni.eniTags.team", "cluster.tags.team"},
		{"in the bpf map", "bpf.natMax", "cilium.bpf.natMax"},
		{"service monitor switch", "operator.prometheus.serviceMonitor.enabled", "cilium.serviceMonitors"},
		{"override beside rendered keys", "eni.minAllocate", "overrides.ciliumValues.eni.minAllocate"},
		{"override of a rendered key", "bpf.lbMapMax", "overrides.ciliumValues.bpf.lbMapMax"},
		{"override of a rendered list, an item", "hubble.metrics.enabled[0]", "overrides.ciliumValues.hubble.metrics.enabled[0]"},
		{"rendered key beside an override", "eni.awsEnablePrefixDelegation", "cilium.prefixDelegation"},
		{"pass-through", "routingMode", "routingMode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := from.Of(tt.path); got != tt.want {
				t.Errorf("Of(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	t.Run("values hold no origin markers", func(t *testing.T) {
		if p := declaredIn("", values); p != "" {
			t.Errorf("%s is still an origin.Declared", p)
		}
		if got := values["bpf"].(map[string]any)["lbMapMax"]; fmt.Sprint(got) != "131072" {
			t.Errorf("bpf.lbMapMax = %v, want the override's 131072", got)
		}
	})
}

// declaredIn returns the path of an origin.Declared left in v, or "".
func declaredIn(path string, v any) string {
	switch v := v.(type) {
	case origin.Declared:
		return path
	case map[string]any:
		for k, x := range v {
			if p := declaredIn(path+"."+k, x); p != "" {
				return p
			}
		}
	case []any:
		for i, x := range v {
			if p := declaredIn(fmt.Sprintf("%s[%d]", path, i), x); p != "" {
				return p
			}
		}
	}
	return ""
}
