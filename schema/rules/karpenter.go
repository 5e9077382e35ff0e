package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
)

// Karpenter's kinds (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass).
const (
	KarpenterGroup    = "karpenter.sh"
	KarpenterAWSGroup = "karpenter.k8s.aws"
	KindNodePool      = "NodePool"
	KindEC2NodeClass  = "EC2NodeClass"
	// RuleKarpenter names the Karpenter rules in Result.Rules.
	RuleKarpenter = "karpenter"
	// AgentNotReadyTaintKey is the taint the Cilium agent removes once it is ready.
	AgentNotReadyTaintKey = "node.cilium.io/agent-not-ready"
)

// NodeRequirement is one NodePool requirement (a NodeSelectorRequirement).
type NodeRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// NodePoolSpec is what the rules read of a NodePool: its requirements, startup taints and the
// EC2NodeClass it uses.
type NodePoolSpec struct {
	Name          string
	NodeClass     string
	Requirements  []NodeRequirement
	StartupTaints []model.Taint
}

// EC2NodeClassSpec is what the rules read of an EC2NodeClass: its kubelet maxPods (nil: the
// AMI's default, the VPC CNI formula).
type EC2NodeClassSpec struct {
	Name    string
	MaxPods *int
}

// typeLabel is the value Karpenter gives t for a well-known label; ok false for keys that do
// not describe the instance type (zone, capacity type, custom labels: they never narrow the set).
func typeLabel(t capacity.InstanceType, key string) (string, bool) {
	switch key {
	case "node.kubernetes.io/instance-type":
		return t.Name, true
	case "kubernetes.io/arch":
		return t.KubernetesArch(), true
	case "kubernetes.io/os":
		return "linux", true
	case "karpenter.k8s.aws/instance-family":
		return t.Family(), true
	case "karpenter.k8s.aws/instance-category":
		return t.Category(), true
	case "karpenter.k8s.aws/instance-generation":
		if g := t.Generation(); g > 0 {
			return strconv.Itoa(g), true
		}
		return "", true
	case "karpenter.k8s.aws/instance-size":
		return t.Size(), true
	case "karpenter.k8s.aws/instance-cpu":
		if t.VCPUs > 0 {
			return strconv.Itoa(t.VCPUs), true
		}
		return "", true
	case "karpenter.k8s.aws/instance-hypervisor":
		if t.Hypervisor == "nitro" || t.Hypervisor == "xen" {
			return t.Hypervisor, true
		}
		return "", true
	}
	return "", false
}

// matches reports whether t satisfies r as Karpenter reads a requirement ("" is an absent label).
func matches(t capacity.InstanceType, r NodeRequirement) bool {
	v, ok := typeLabel(t, r.Key)
	if !ok {
		return true
	}
	switch r.Operator {
	case "In":
		return v != "" && slices.Contains(r.Values, v)
	case "NotIn":
		return v == "" || !slices.Contains(r.Values, v)
	case "Exists":
		return v != ""
	case "DoesNotExist":
		return v == ""
	case "Gt", "Lt":
		n, err1 := strconv.Atoi(v)
		if len(r.Values) != 1 || err1 != nil {
			return false
		}
		lim, err2 := strconv.Atoi(r.Values[0])
		if err2 != nil {
			return false
		}
		if r.Operator == "Gt" {
			return n > lim
		}
		return n < lim
	}
	return true
}

// LaunchableTypes are the table's types a NodePool's requirements allow (types without a
// Kubernetes architecture are never launched).
func LaunchableTypes(reqs []NodeRequirement) ([]capacity.InstanceType, error) {
	tab, err := capacity.Default()
	if err != nil {
		return nil, err
	}
	var out []capacity.InstanceType
	for _, t := range tab.Types {
		if t.KubernetesArch() == "" {
			continue
		}
		ok := true
		for _, r := range reqs {
			if !matches(t, r) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// ValidateNodePool checks a NodePool write: the Cilium startup taint is required (without it
// Karpenter binds pods before the agent is ready and launches duplicate nodes), and when its
// EC2NodeClass is known, that class's maxPods fits every type the pool can launch.
func ValidateNodePool(p model.CapacityPolicy, pool NodePoolSpec, class *EC2NodeClassSpec) Result {
	var res Result
	spec := field.NewPath("spec", "template", "spec")
	if !slices.ContainsFunc(pool.StartupTaints, func(t model.Taint) bool { return t.Key == AgentNotReadyTaintKey }) {
		res.deny(RuleKarpenter, field.Required(spec.Child("startupTaints"),
			fmt.Sprintf("NodePool %s needs the startup taint %s=true:NoExecute: the Cilium agent removes it when the node can give pods addresses", pool.Name, AgentNotReadyTaintKey)))
	}
	if class == nil {
		res.warn("NodePool %s: EC2NodeClass %s not found: kubelet maxPods not checked against the pool's instance types", pool.Name, pool.NodeClass)
		return res
	}
	checkMaxPods(p, &res, pool, *class, spec.Child("requirements"))
	return res
}

// ValidateEC2NodeClass checks an EC2NodeClass write against every NodePool that uses it.
func ValidateEC2NodeClass(p model.CapacityPolicy, class EC2NodeClassSpec, pools []NodePoolSpec) Result {
	var res Result
	for _, pool := range pools {
		checkMaxPods(p, &res, pool, class, field.NewPath("spec", "kubelet", "maxPods"))
	}
	return res
}

// checkMaxPods judges class.MaxPods (nil: the AMI's VPC CNI figure, which is what Karpenter
// and the AMI use; the bound is what Cilium can give) against every type pool can launch.
func checkMaxPods(p model.CapacityPolicy, res *Result, pool NodePoolSpec, class EC2NodeClassSpec, path *field.Path) {
	types, err := LaunchableTypes(pool.Requirements)
	if err != nil {
		res.warn("NodePool %s: instance types not checked: %v", pool.Name, err)
		return
	}
	if len(types) == 0 {
		res.warn("NodePool %s: its requirements allow no instance type enigate's limits table knows: kubelet maxPods not checked", pool.Name)
		return
	}
	var breaking []string
	var first capacity.Result
	declared := 0
	for _, t := range types {
		in := capacity.InputForPolicy(t.Name, p)
		in.PrefixDelegation = p.PrefixDelegation && t.PrefixDelegationCapable()
		r, err := capacity.ComputeFor(t, in)
		if err != nil {
			continue
		}
		want := r.VPCCNIMaxPods
		if class.MaxPods != nil {
			want = *class.MaxPods
		}
		if want > r.MaxPods {
			if len(breaking) == 0 {
				first, declared = r, want
			}
			breaking = append(breaking, fmt.Sprintf("%s (bound %d)", t.Name, r.MaxPods))
		}
	}
	if len(breaking) == 0 {
		return
	}
	what := "kubelet maxPods unset (the AMI's VPC CNI figure)"
	var value any = "unset"
	if class.MaxPods != nil {
		what, value = fmt.Sprintf("kubelet maxPods %d", *class.MaxPods), *class.MaxPods
	}
	shown := breaking
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(breaking)-5))
	}
	capacityViolation(p, res, field.Invalid(path, value, fmt.Sprintf("NodePool %s with EC2NodeClass %s: %s exceeds the bound of %s; %s",
		pool.Name, class.Name, what, strings.Join(shown, ", "), first.ExceedsMessage(declared))))
}
