package capacity

import (
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/model"
)

func pool(name string, cpu, maxPods int, families ...string) model.NodePool {
	return model.NodePool{Name: name, Families: families, Architectures: []string{"arm64"}, MaxPodsPerNode: maxPods,
		Limits: model.NodePoolLimits{CPU: cpu}, AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}}
}

func poolEnv(pools ...model.NodePool) model.Environment {
	env := testEnv()
	env.Karpenter = model.Karpenter{AMIVersion: "v20251117", WasteWarnPercent: 25, NodePools: pools}
	return env
}

func TestValidateNodePools(t *testing.T) {
	sized := func(p model.NodePool, sizes ...string) model.NodePool { p.Sizes = sizes; return p }
	tests := []struct {
		name     string
		env      model.Environment
		want     []string // substrings, one error each
		warnings []string
	}{
		{name: "derived", env: poolEnv(sized(pool("general", 64, 0, "m7g"), "xlarge", "2xlarge"))},
		{name: "empty set", env: poolEnv(pool("general", 64, 0, "zz9")),
			want: []string{"karpenter.nodePools[general]: Invalid value: \"general\": the requirements allow no instance type"}},
		{name: "declared above a member's bound names it", env: poolEnv(sized(pool("general", 64, 58, "m7g"), "large", "xlarge")),
			want:     []string{"karpenter.nodePools[general].maxPodsPerNode: Invalid value: 58: max pods 58 exceeds the bound of m7g.large (bound 27), m7g.xlarge (bound 56)"},
			warnings: []string{"move sizes large to their own pool (max pods 27): the rest of the pool gets max pods 56"}},
		{name: "declared within every bound", env: poolEnv(sized(pool("general", 64, 27, "m7g"), "large", "xlarge")),
			warnings: []string{"leaves 29 of 56 safe pods unused on m7g.xlarge (51%)"}},
		{name: "ami version required", env: func() model.Environment {
			e := poolEnv(sized(pool("general", 64, 0, "m7g"), "xlarge"))
			e.Karpenter.AMIVersion = ""
			return e
		}(), want: []string{"karpenter.amiVersion: Required value"}},
		{name: "waste warns with the split", env: func() model.Environment {
			e := poolEnv(sized(pool("general", 64, 0, "m7g"), "xlarge", "8xlarge", "16xlarge"))
			e.Cilium.PrefixDelegation = true
			return e
		}(), warnings: []string{"node pool general: max pods 110 (limited by m7g.xlarge) leaves 140 of 250 safe pods unused on m7g.16xlarge (56%)", "move sizes xlarge to their own pool (max pods 110): the rest of the pool gets max pods 250"}},
		{name: "prefix delegation off on xen members", env: func() model.Environment {
			e := poolEnv(model.NodePool{Name: "old", Families: []string{"m4", "m5"}, Sizes: []string{"large"}, Limits: model.NodePoolLimits{CPU: 8}})
			e.Cilium.PrefixDelegation = true
			return e
		}(), warnings: []string{"node pool old: prefix delegation does not apply on m4.large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warnings := ValidateNodePools(tt.env, nil)
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n%s", len(errs), len(tt.want), errorStrings(errs))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d %q lacks %q", i, errs[i].Error(), w)
				}
			}
			all := strings.Join(warnings, "\n")
			for _, w := range tt.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q:\n%s", w, all)
				}
			}
			if len(tt.warnings) == 0 && len(warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", all)
			}
		})
	}
}

// TestSubnetUsagePoolWorstCase: a pool's CPU limit over its smallest type lands in every zone
// it may use; a limit too large for a /20 is an error, a smaller one fits.
func TestSubnetUsagePoolWorstCase(t *testing.T) {
	p := pool("general", 400, 0, "m7g")
	p.Sizes = []string{"xlarge", "4xlarge"}
	rows := NodePoolUsage(poolEnv(p))
	if len(rows) != 1 || rows[0].Smallest != "m7g.xlarge" || rows[0].MaxNodes != 100 || rows[0].MaxPods != 56 {
		t.Fatalf("rows %+v, want m7g.xlarge x 100 nodes at 56 pods", rows)
	}
	rs, errs, _ := SubnetUsage(poolEnv(p), nil)
	if len(errs) != 3 || !strings.Contains(errs[0].Error(), "100 nodes") {
		t.Fatalf("400 vCPU of m7g.xlarge in each /20: errors\n%s", errorStrings(errs))
	}
	if rs[0].Nodes != 100 || rs[0].NodeGroups[0] != "pool/general" {
		t.Errorf("row %+v", rs[0])
	}
	p.Limits.CPU = 160
	if _, errs, _ := SubnetUsage(poolEnv(p), nil); len(errs) != 0 {
		t.Errorf("160 vCPU: %s", errorStrings(errs))
	}
}
