package schema

import (
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/model"
)

func TestLoadKarpenter(t *testing.T) {
	pool := `karpenter: {amiVersion: "v20251117", nodePools: general: {families: ["m7g"], architectures: ["arm64"], limits: cpu: 64}}` + "\n"
	tests := []struct {
		name  string
		add   string
		check func(t *testing.T, env model.Environment)
	}{
		{"no pool, no system group", "", func(t *testing.T, env model.Environment) {
			if len(env.Karpenter.NodePools) != 0 || len(env.NodeGroups) != 1 {
				t.Errorf("pools %v, groups %d", env.Karpenter.NodePools, len(env.NodeGroups))
			}
		}},
		{"a pool adds the system group with its defaults", pool, func(t *testing.T, env model.Environment) {
			if len(env.NodeGroups) != 2 || env.NodeGroups[1].Name != model.SystemNodeGroupName {
				t.Fatalf("groups %+v", env.NodeGroups)
			}
			sys := env.NodeGroups[1]
			if sys.InstanceType != "m7i.large" || sys.MinSize != 2 || sys.MaxSize != 3 || sys.DesiredCapacity != 2 || sys.Labels["enigate.dev/role"] != "system" {
				t.Errorf("system group %+v", sys)
			}
			p := env.Karpenter.NodePools[0]
			if p.Name != "general" || p.MaxPodsPerNode != 0 || p.Disruption.ConsolidationPolicy != "WhenEmptyOrUnderutilized" ||
				p.Disruption.BudgetNodes != "10%" || p.ExpireAfter != "720h" || p.AMIFamily != "AL2023" ||
				strings.Join(p.CapacityTypes, ",") != "on-demand" || strings.Join(p.AvailabilityZones, ",") != "eu-west-1a" {
				t.Errorf("pool defaults %+v", p)
			}
			if env.Versions.Karpenter != "1.14.3" || env.Karpenter.WasteWarnPercent != 25 {
				t.Errorf("karpenter %q, waste %d", env.Versions.Karpenter, env.Karpenter.WasteWarnPercent)
			}
		}},
		{"system group sized by the declaration", pool + `karpenter: systemNodeGroup: {instanceType: "m7g.large", minSize: 3, maxSize: 5}` + "\n", func(t *testing.T, env model.Environment) {
			sys := env.NodeGroups[1]
			if sys.InstanceType != "m7g.large" || sys.MinSize != 3 || sys.MaxSize != 5 {
				t.Errorf("system group %+v", sys)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Load([]byte(minimal+tt.add), "overlays/t/environment.cue")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, env)
		})
	}
}

func TestLoadKarpenterProblems(t *testing.T) {
	for _, tt := range []struct{ name, add, want string }{
		{"latest is no pin", `karpenter: {amiVersion: "latest", nodePools: p: limits: cpu: 8}`, "karpenter.amiVersion"},
		{"limits required", `karpenter: nodePools: p: families: ["m7g"]`, "karpenter.nodePools.p.limits.cpu"},
		{"unknown architecture", `karpenter: nodePools: p: {architectures: ["x86"], limits: cpu: 8}`, "karpenter.nodePools.p.architectures"},
		{"budget over 100%", `karpenter: nodePools: p: {disruption: budgetNodes: "150%", limits: cpu: 8}`, "budgetNodes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(minimal+tt.add+"\n"), "overlays/t/environment.cue")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}
