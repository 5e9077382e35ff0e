package rules

import (
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/model"
)

func karpenterPool(reqs ...NodeRequirement) NodePoolSpec {
	return NodePoolSpec{Name: "general", NodeClass: "general", Requirements: reqs,
		StartupTaints: []model.Taint{{Key: AgentNotReadyTaintKey, Value: "true", Effect: "NoExecute"}}}
}

func maxPods(n int) *int { return &n }

func TestValidateNodePool(t *testing.T) {
	deny := model.CapacityPolicy{Enforcement: EnforcementDeny, HostNetworkPods: 2}
	m7g := []NodeRequirement{
		{Key: "karpenter.k8s.aws/instance-family", Operator: "In", Values: []string{"m7g"}},
		{Key: "karpenter.k8s.aws/instance-size", Operator: "In", Values: []string{"large", "xlarge"}},
		{Key: "topology.kubernetes.io/zone", Operator: "In", Values: []string{"eu-west-1a"}},
	}
	tests := []struct {
		name     string
		pool     NodePoolSpec
		class    *EC2NodeClassSpec
		errs     []string
		warnings []string
	}{
		{name: "within every bound", pool: karpenterPool(m7g...), class: &EC2NodeClassSpec{Name: "general", MaxPods: maxPods(27)}},
		{name: "above the smallest type's bound", pool: karpenterPool(m7g...), class: &EC2NodeClassSpec{Name: "general", MaxPods: maxPods(56)},
			errs: []string{"spec.template.spec.requirements: Invalid value: 56: NodePool general with EC2NodeClass general: kubelet maxPods 56 exceeds the bound of m7g.large (bound 27); max pods 56 on m7g.large exceeds the bound"}},
		{name: "unset maxPods is the VPC CNI figure", pool: karpenterPool(m7g...), class: &EC2NodeClassSpec{Name: "general"},
			errs: []string{"kubelet maxPods unset (the AMI's VPC CNI figure) exceeds the bound of m7g.large (bound 27), m7g.xlarge (bound 56)"}},
		{name: "missing startup taint", pool: NodePoolSpec{Name: "general", NodeClass: "general", Requirements: m7g}, class: &EC2NodeClassSpec{Name: "general", MaxPods: maxPods(20)},
			errs: []string{"spec.template.spec.startupTaints: Required value: NodePool general needs the startup taint node.cilium.io/agent-not-ready=true:NoExecute"}},
		{name: "gt generation and cpu", pool: karpenterPool(
			NodeRequirement{Key: "karpenter.k8s.aws/instance-category", Operator: "In", Values: []string{"c"}},
			NodeRequirement{Key: "karpenter.k8s.aws/instance-generation", Operator: "Gt", Values: []string{"6"}},
			NodeRequirement{Key: "karpenter.k8s.aws/instance-cpu", Operator: "Lt", Values: []string{"3"}},
		), class: &EC2NodeClassSpec{Name: "general", MaxPods: maxPods(28)},
			errs: []string{"exceeds the bound of c7a.large (bound 27)"}},
		{name: "class unknown", pool: karpenterPool(m7g...), warnings: []string{"EC2NodeClass general not found"}},
		{name: "nothing launchable", pool: karpenterPool(NodeRequirement{Key: "karpenter.k8s.aws/instance-family", Operator: "In", Values: []string{"zz9"}}),
			class: &EC2NodeClassSpec{Name: "general", MaxPods: maxPods(20)}, warnings: []string{"allow no instance type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ValidateNodePool(deny, tt.pool, tt.class)
			if len(res.Errors) != len(tt.errs) {
				t.Fatalf("errors %v, want %d", res.Errors, len(tt.errs))
			}
			for i, w := range tt.errs {
				if !strings.Contains(res.Errors[i].Error(), w) {
					t.Errorf("error %q lacks %q", res.Errors[i].Error(), w)
				}
			}
			all := strings.Join(res.Warnings, "\n")
			for _, w := range tt.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", all, w)
				}
			}
		})
	}
}

func TestValidateEC2NodeClass(t *testing.T) {
	p := model.CapacityPolicy{Enforcement: EnforcementWarn, HostNetworkPods: 2, PrefixDelegation: true}
	big := karpenterPool(NodeRequirement{Key: "node.kubernetes.io/instance-type", Operator: "In", Values: []string{"m7g.8xlarge", "m7g.16xlarge"}})
	small := karpenterPool(NodeRequirement{Key: "node.kubernetes.io/instance-type", Operator: "In", Values: []string{"m7g.xlarge"}})
	if res := ValidateEC2NodeClass(p, EC2NodeClassSpec{Name: "general", MaxPods: maxPods(250)}, []NodePoolSpec{big}); len(res.Errors)+len(res.Warnings) != 0 {
		t.Errorf("250 on 32+ vCPU with prefix delegation: %v %v", res.Errors, res.Warnings)
	}
	res := ValidateEC2NodeClass(p, EC2NodeClassSpec{Name: "general", MaxPods: maxPods(250)}, []NodePoolSpec{big, small})
	if len(res.Errors) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "m7g.xlarge (bound 110)") || !strings.Contains(res.Warnings[0], "enforcement: warn") {
		t.Errorf("250 with a 4 vCPU pool under warn: %v %v", res.Errors, res.Warnings)
	}
}
