package capacity

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

// RequirementsFor are a node pool's declared requirements.
func RequirementsFor(p model.NodePool) Requirements {
	return Requirements{
		Families: p.Families, Categories: p.Categories, MinGeneration: p.MinGeneration, Sizes: p.Sizes,
		Architectures: p.Architectures, BareMetal: p.BareMetal, NitroOnly: p.NitroOnly,
	}
}

// PoolInputFor is the capacity input of a node pool in an environment.
func PoolInputFor(env model.Environment, p model.NodePool) PoolInput {
	return PoolInput{
		Requirements:        RequirementsFor(p),
		PrefixDelegation:    env.Cilium.PrefixDelegation,
		FirstInterfaceIndex: env.Cilium.FirstInterfaceIndex,
		HostNetworkPods:     env.Cilium.HostNetworkPods,
		DeclaredMaxPods:     p.MaxPodsPerNode,
		WastePercent:        env.Karpenter.WasteWarnPercent,
	}
}

// ValidateNodePools checks every node pool of env: a non-empty instance set, every member
// computable, a declared maxPodsPerNode within every member's bound (the error names each type
// that breaks it), a pinned AMI version; warns about waste past the threshold with the split
// that recovers it. path is the environment's root.
func ValidateNodePools(env model.Environment, path *field.Path) (errs field.ErrorList, warnings []string) {
	k := path.Child("karpenter")
	if len(env.Karpenter.NodePools) > 0 && env.Karpenter.AMIVersion == "" {
		errs = append(errs, field.Required(k.Child("amiVersion"), "node pools need a pinned AMI version (e.g. v20251117 for al2023@v20251117; never latest)"))
	}
	for _, p := range env.Karpenter.NodePools {
		pp := k.Child("nodePools").Key(p.Name)
		pr, err := Pool(PoolInputFor(env, p))
		if err != nil {
			var empty EmptySetError
			if errors.As(err, &empty) {
				errs = append(errs, field.Invalid(pp, p.Name, err.Error()))
			} else {
				errs = append(errs, field.Invalid(pp, p.Name, "instance set: "+err.Error()))
			}
			continue
		}
		if len(pr.Breaking) > 0 {
			errs = append(errs, field.Invalid(pp.Child("maxPodsPerNode"), p.MaxPodsPerNode, BreakingMessage(p.MaxPodsPerNode, pr)))
		}
		if pr.Split != nil {
			warnings = append(warnings, fmt.Sprintf("node pool %s: max pods %d (limited by %s) leaves %d of %d safe pods unused on %s (%d%%): %s",
				p.Name, pr.MaxPods, pr.Limiting, pr.Waste, pr.Waste+pr.MaxPods, pr.Largest, pr.WastePercent, pr.Split.Message()))
		}
		if len(pr.PrefixDelegationOff) > 0 {
			warnings = append(warnings, fmt.Sprintf("node pool %s: prefix delegation does not apply on %s (neither nitro nor bare metal): their secondary-address bound counts in the pool's max pods",
				p.Name, strings.Join(pr.PrefixDelegationOff, ", ")))
		}
	}
	return errs, warnings
}

// BreakingMessage names every member whose bound is below declared, with the first one's formula.
func BreakingMessage(declared int, pr PoolResult) string {
	names := make([]string, 0, len(pr.Breaking))
	for _, r := range pr.Breaking {
		names = append(names, fmt.Sprintf("%s (bound %d)", r.InstanceType, r.MaxPods))
	}
	return fmt.Sprintf("max pods %d exceeds the bound of %s the pool can launch; %s; the pool's largest safe value is %d (allowed: 0 to derive it, or 1..%d)",
		declared, strings.Join(names, ", "), pr.Breaking[0].ExceedsMessage(declared), pr.MaxPods, pr.MaxPods)
}

// MaxPodsForPool is the kubelet maxPods to render for a pool: the set's bound when
// MaxPodsPerNode is 0, else the declared value when every member allows it.
func MaxPodsForPool(env model.Environment, p model.NodePool) (int, error) {
	pr, err := Pool(PoolInputFor(env, p))
	if err != nil {
		return 0, fmt.Errorf("node pool %s: %w", p.Name, err)
	}
	if p.MaxPodsPerNode > 0 {
		if len(pr.Breaking) > 0 {
			return 0, fmt.Errorf("node pool %s: %s", p.Name, BreakingMessage(p.MaxPodsPerNode, pr))
		}
		return p.MaxPodsPerNode, nil
	}
	return pr.MaxPods, nil
}

// NodePoolRow is a node pool's worst case for subnet sizing: its CPU limit filled with its
// smallest type, every node at the pool's max pods, all in any one of its zones (Karpenter may
// place them all in one).
type NodePoolRow struct {
	Name     string   `json:"name"`
	Smallest string   `json:"smallest"`
	MaxNodes int      `json:"maxNodes"`
	AZs      []string `json:"azs"`
	MaxPods  int      `json:"maxPods"`
	// Types is the size of the instance set.
	Types   int        `json:"types"`
	PerNode NodeDemand `json:"perNode"`
	Error   string     `json:"error,omitempty"`
}

// NodePoolUsage computes each pool's worst case.
func NodePoolUsage(env model.Environment) []NodePoolRow {
	rows := make([]NodePoolRow, 0, len(env.Karpenter.NodePools))
	for _, p := range env.Karpenter.NodePools {
		row := NodePoolRow{Name: p.Name, AZs: p.AvailabilityZones}
		maxPods, err := MaxPodsForPool(env, p)
		if err != nil {
			row.Error = err.Error()
			rows = append(rows, row)
			continue
		}
		pr, _ := Pool(PoolInputFor(env, p))
		row.Smallest, row.Types, row.MaxPods = pr.Smallest.InstanceType, len(pr.Members), maxPods
		row.MaxNodes = max(1, p.Limits.CPU/max(1, pr.Smallest.VCPUs))
		row.PerNode = DemandPerNode(pr.Smallest, maxPods, env.Cilium.PreAllocate)
		rows = append(rows, row)
	}
	return rows
}
