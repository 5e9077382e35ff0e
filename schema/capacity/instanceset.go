package capacity

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Names and architectures as Karpenter derives them (aws/karpenter-provider-aws v1.14.1
// pkg/providers/instancetype/types.go computeRequirements and getArchitecture,
// pkg/apis/v1/labels.go AWSToKubeArchitectures); TestNameLabelsMatchKarpenter compares them with
// Karpenter's own generated reference for every type it lists.
var instanceTypeScheme = regexp.MustCompile(`(^[a-z]+)(\-[0-9]+tb)?([0-9]+).*\.`)

// Family is the karpenter.k8s.aws/instance-family label: the name before the dot.
func (t InstanceType) Family() string { f, _, _ := strings.Cut(t.Name, "."); return f }

// Size is the karpenter.k8s.aws/instance-size label: the name after the dot.
func (t InstanceType) Size() string { _, s, _ := strings.Cut(t.Name, "."); return s }

// Category is the karpenter.k8s.aws/instance-category label ("" when the name has none).
func (t InstanceType) Category() string {
	if m := instanceTypeScheme.FindStringSubmatch(t.Name); len(m) == 4 {
		return m[1]
	}
	return ""
}

// Generation is the karpenter.k8s.aws/instance-generation label (0 when the name has none).
func (t InstanceType) Generation() int {
	if m := instanceTypeScheme.FindStringSubmatch(t.Name); len(m) == 4 {
		g, _ := strconv.Atoi(m[3])
		return g
	}
	return 0
}

// KubernetesArch is the kubernetes.io/arch Karpenter gives the type: the first of its EC2
// architectures that maps to amd64 or arm64; "" when none does or the table does not know.
func (t InstanceType) KubernetesArch() string {
	for _, a := range t.Architectures {
		switch a {
		case "x86_64":
			return "amd64"
		case "arm64":
			return "arm64"
		}
	}
	return ""
}

// EC2Architecture maps a kubernetes.io/arch value back to EC2's SupportedArchitectures name.
func EC2Architecture(kubeArch string) (string, bool) {
	switch kubeArch {
	case "amd64":
		return "x86_64", true
	case "arm64":
		return "arm64", true
	}
	return "", false
}

// IsMetalSize reports whether an instance size is a bare-metal one ("metal", "metal-24xl", ...).
func IsMetalSize(size string) bool { return size == "metal" || strings.HasPrefix(size, "metal-") }

// Requirements select the instance types a Karpenter node pool may launch, in the terms of
// Karpenter's well-known labels (each rendered as one NodePool requirement). Empty lists allow any.
type Requirements struct {
	Families   []string // karpenter.k8s.aws/instance-family In
	Categories []string // karpenter.k8s.aws/instance-category In
	// MinGeneration: karpenter.k8s.aws/instance-generation Gt MinGeneration-1 (0: any).
	MinGeneration int
	Sizes         []string // karpenter.k8s.aws/instance-size In
	// Architectures: kubernetes.io/arch In (amd64, arm64); empty allows both.
	Architectures []string
	// BareMetal allows metal sizes; false renders instance-size NotIn every metal size.
	BareMetal bool
	// NitroOnly: karpenter.k8s.aws/instance-hypervisor In [nitro] (which also excludes metal).
	NitroOnly bool
}

// Allows reports whether the requirements let Karpenter launch t. A type without a known
// Kubernetes architecture is never allowed: Karpenter does not launch it.
func (r Requirements) Allows(t InstanceType) bool {
	arch := t.KubernetesArch()
	switch {
	case arch == "":
		return false
	case len(r.Architectures) > 0 && !slices.Contains(r.Architectures, arch):
		return false
	case len(r.Families) > 0 && !slices.Contains(r.Families, t.Family()):
		return false
	case len(r.Categories) > 0 && !slices.Contains(r.Categories, t.Category()):
		return false
	case r.MinGeneration > 0 && t.Generation() < r.MinGeneration:
		return false
	case len(r.Sizes) > 0 && !slices.Contains(r.Sizes, t.Size()):
		return false
	case !r.BareMetal && IsMetalSize(t.Size()):
		return false
	case r.NitroOnly && t.Hypervisor != "nitro":
		return false
	}
	return true
}

// InstanceSet is every table type the requirements allow, sorted by name.
func (t *Table) InstanceSet(r Requirements) []InstanceType {
	var out []InstanceType
	for _, it := range t.Types {
		if r.Allows(it) {
			out = append(out, it)
		}
	}
	return out
}

// MetalSizes are the bare-metal sizes the table knows, sorted (rendered as NotIn when a pool
// excludes bare metal).
func (t *Table) MetalSizes() []string {
	var out []string
	for _, it := range t.Types {
		if s := it.Size(); IsMetalSize(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// PoolInput is what a pool's bound depends on.
type PoolInput struct {
	Requirements Requirements
	// PrefixDelegation of the cluster: used on the members that can do it (nitro, bare metal);
	// Cilium hands out secondary addresses on the others.
	PrefixDelegation    bool
	FirstInterfaceIndex int
	HostNetworkPods     int
	// DeclaredMaxPods to check against every member's bound; 0 derives it.
	DeclaredMaxPods int
	// WastePercent from which the result carries a split suggestion (0: never).
	WastePercent int
}

// PoolResult is the capacity of a pool's whole instance set.
type PoolResult struct {
	// Members are every allowed type's figures, sorted by name.
	Members []Result `json:"members"`
	// MaxPods = min over Members of MaxPods: the largest kubelet max-pods safe on every type.
	MaxPods int `json:"maxPods"`
	// Limiting is the member whose bound is MaxPods (the first by name on a tie).
	Limiting string `json:"limiting"`
	// Largest is the member with the highest bound; Waste = its bound - MaxPods, pods each of
	// its nodes could run but will not; WastePercent = Waste*100/its bound.
	Largest      string `json:"largest"`
	Waste        int    `json:"waste"`
	WastePercent int    `json:"wastePercent"`
	// Smallest is the member with the fewest vCPUs (then by name): the most nodes a CPU limit
	// allows, used for subnet sizing.
	Smallest Result `json:"smallest"`
	// Breaking are the members whose bound is below DeclaredMaxPods.
	Breaking []Result `json:"breaking,omitempty"`
	// Split, when WastePercent reaches the threshold, says which split recovers the waste.
	Split *Split `json:"split,omitempty"`
	// PrefixDelegationOff lists members on which prefix delegation does not apply.
	PrefixDelegationOff []string `json:"prefixDelegationOff,omitempty"`
}

// Split is a two-pool proposal: Sizes go to their own pool (bound LowMaxPods); the rest keep
// the pool with bound HighMaxPods.
type Split struct {
	Sizes       []string `json:"sizes"`
	LowMaxPods  int      `json:"lowMaxPods"`
	HighMaxPods int      `json:"highMaxPods"`
}

// EmptySetError is an instance set without any type.
type EmptySetError struct{}

func (EmptySetError) Error() string {
	return "the requirements allow no instance type of the limits table (check families, categories, generation, sizes, architectures)"
}

// Pool computes the bound of every type the requirements allow and the pool's max pods.
func Pool(in PoolInput) (PoolResult, error) {
	t, err := defaultTable()
	if err != nil {
		return PoolResult{}, err
	}
	return t.Pool(in)
}

// Pool computes a pool's capacity against t. Errors: an empty set, or a member Compute refuses
// (the first interface index out of its range, too few addresses).
func (t *Table) Pool(in PoolInput) (PoolResult, error) {
	set := t.InstanceSet(in.Requirements)
	if len(set) == 0 {
		return PoolResult{}, EmptySetError{}
	}
	var pr PoolResult
	var problems []string
	for _, it := range set {
		ci := Input{InstanceType: it.Name, PrefixDelegation: in.PrefixDelegation && it.PrefixDelegationCapable(),
			FirstInterfaceIndex: in.FirstInterfaceIndex, HostNetworkPods: in.HostNetworkPods, DeclaredMaxPods: in.DeclaredMaxPods}
		if in.PrefixDelegation && !ci.PrefixDelegation {
			pr.PrefixDelegationOff = append(pr.PrefixDelegationOff, it.Name)
		}
		r, err := ComputeFor(it, ci)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		pr.Members = append(pr.Members, r)
	}
	if len(problems) > 0 {
		return PoolResult{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	lim, big, small := 0, 0, 0
	for i, r := range pr.Members {
		if r.MaxPods < pr.Members[lim].MaxPods {
			lim = i
		}
		if r.MaxPods > pr.Members[big].MaxPods {
			big = i
		}
		if sv, rv := vcpuOrder(pr.Members[small].VCPUs), vcpuOrder(r.VCPUs); rv < sv {
			small = i
		}
		if r.DeclaredExceeds {
			pr.Breaking = append(pr.Breaking, r)
		}
	}
	pr.MaxPods, pr.Limiting = pr.Members[lim].MaxPods, pr.Members[lim].InstanceType
	pr.Largest = pr.Members[big].InstanceType
	pr.Waste = pr.Members[big].MaxPods - pr.MaxPods
	pr.WastePercent = pr.Waste * 100 / max(1, pr.Members[big].MaxPods)
	pr.Smallest = pr.Members[small]
	if in.WastePercent > 0 && pr.WastePercent >= in.WastePercent {
		pr.Split = split(pr.Members)
	}
	return pr, nil
}

// vcpuOrder sorts unknown vCPU counts last.
func vcpuOrder(v int) int {
	if v == 0 {
		return 1 << 30
	}
	return v
}

// split proposes moving the sizes whose members have the lowest bounds to their own pool:
// the sizes of every member whose bound is below the best cut, chosen to maximise the pods
// recovered (members above the cut times the rise of their pool's bound).
func split(members []Result) *Split {
	bounds := map[string]int{} // size -> lowest bound among its members
	count := map[string]int{}
	for _, r := range members {
		s := InstanceType{Name: r.InstanceType}.Size()
		if b, ok := bounds[s]; !ok || r.MaxPods < b {
			bounds[s] = r.MaxPods
		}
		count[s]++
	}
	sizes := make([]string, 0, len(bounds))
	for s := range bounds {
		sizes = append(sizes, s)
	}
	slices.SortFunc(sizes, func(a, b string) int {
		if bounds[a] != bounds[b] {
			return bounds[a] - bounds[b]
		}
		return strings.Compare(a, b)
	})
	low := bounds[sizes[0]]
	var best *Split
	bestGain := 0
	for i := 1; i < len(sizes); i++ {
		if bounds[sizes[i]] == bounds[sizes[i-1]] {
			continue
		}
		high := bounds[sizes[i]] // the rest's min bound
		rest := 0
		for _, s := range sizes[i:] {
			rest += count[s]
		}
		if gain := (high - low) * rest; gain > bestGain {
			bestGain = gain
			lowSizes := slices.Clone(sizes[:i])
			slices.Sort(lowSizes)
			best = &Split{Sizes: lowSizes, LowMaxPods: low, HighMaxPods: high}
		}
	}
	return best
}

// Message words a split proposal.
func (s Split) Message() string {
	return fmt.Sprintf("move sizes %s to their own pool (max pods %d): the rest of the pool gets max pods %d",
		strings.Join(s.Sizes, ", "), s.LowMaxPods, s.HighMaxPods)
}
