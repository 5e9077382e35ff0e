package capacity

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/vpc"
)

// PrefixWarnPercent is the subnet use (of usable addresses) from which a prefix-delegation
// subnet is reported as close to full.
const PrefixWarnPercent = 80

// NodeDemand is what one node takes from its subnet when it runs its max pods.
type NodeDemand struct {
	// PodAddressesWanted = max(0, maxPods-H) + 2 (Cilium) + pre-allocate, capped at the type's
	// pod addresses.
	PodAddressesWanted int `json:"podAddressesWanted"`
	// PrefixBlocks are the /28 blocks holding them (prefix delegation only).
	PrefixBlocks int `json:"prefixBlocks,omitempty"`
	// PodAddresses actually taken from the subnet: PodAddressesWanted, or PrefixBlocks*16.
	PodAddresses int `json:"podAddresses"`
	// ENIs carrying pod addresses.
	ENIs int `json:"enis"`
	// ENIPrimaries are the primary addresses of those ENIs beyond the node's own (eth0).
	ENIPrimaries int `json:"eniPrimaries"`
}

// Addresses is the node's total: its own primary, ENI primaries and pod addresses.
func (d NodeDemand) Addresses() int { return 1 + d.ENIPrimaries + d.PodAddresses }

// DemandPerNode is what one node of type r takes from its subnet at maxPods with preAllocate
// (0 means Cilium's default 8).
func DemandPerNode(r Result, maxPods, preAllocate int) NodeDemand {
	if preAllocate <= 0 {
		preAllocate = DefaultPreAllocate
	}
	var d NodeDemand
	d.PodAddressesWanted = min(max(0, maxPods-r.HostNetworkPods)+CiliumAddressesPerNode+preAllocate, r.PodAddresses)
	slots := d.PodAddressesWanted
	if r.PrefixDelegation {
		d.PrefixBlocks = ceilDiv(d.PodAddressesWanted, PrefixAddresses)
		d.PodAddresses = d.PrefixBlocks * PrefixAddresses
		slots = d.PrefixBlocks
	} else {
		d.PodAddresses = d.PodAddressesWanted
	}
	d.ENIs = ceilDiv(slots, max(1, r.SlotsPerENI))
	d.ENIPrimaries = d.ENIs
	if r.FirstInterfaceIndex == 0 && d.ENIPrimaries > 0 {
		d.ENIPrimaries-- // eth0's primary is the node's own address
	}
	return d
}

// NodeGroupRow is one node group's line of the render summary.
type NodeGroupRow struct {
	Name         string   `json:"name"`
	InstanceType string   `json:"instanceType"`
	MaxNodes     int      `json:"maxNodes"`
	AZs          []string `json:"azs"`
	// NodesPerAZ = ceil(MaxNodes / len(AZs)).
	NodesPerAZ int `json:"nodesPerAZ"`
	// MaxPods is the rendered value; Derived when it came from the bound.
	MaxPods int  `json:"maxPods"`
	Derived bool `json:"derived"`
	Bound   int  `json:"bound"`
	// PodAddresses the type can hold per node.
	PodAddresses int        `json:"podAddresses"`
	PerNode      NodeDemand `json:"perNode"`
	// Error is set when the group could not be computed (see ValidateNodeGroups).
	Error string `json:"error,omitempty"`
}

// SubnetRow is one AZ's private-subnet use at every node group's max size.
type SubnetRow struct {
	AZ      string   `json:"az"`
	Subnets []string `json:"subnets"`
	CIDRs   []string `json:"cidrs"`
	// Size is the sum of subnet sizes; Usable = Size - 5 per subnet.
	Size       int      `json:"size"`
	Usable     int      `json:"usable"`
	NodeGroups []string `json:"nodeGroups"`
	Nodes      int      `json:"nodes"`
	// NodeAddresses (one per node), ENIPrimaries and PodAddresses make up Demand.
	NodeAddresses int `json:"nodeAddresses"`
	ENIPrimaries  int `json:"eniPrimaries"`
	PodAddresses  int `json:"podAddresses"`
	Demand        int `json:"demand"`
	Free          int `json:"free"`
	UsedPercent   int `json:"usedPercent"`
	// PrefixDelegation rows count aligned /28 blocks: FreeBlocks exist in the subnets (the
	// blocks holding AWS-reserved addresses excluded), PrefixBlocks are needed.
	PrefixDelegation bool `json:"prefixDelegation"`
	FreeBlocks       int  `json:"freeBlocks,omitempty"`
	PrefixBlocks     int  `json:"prefixBlocks,omitempty"`
	// Status is ok, warning or over.
	Status string `json:"status"`
}

// NodeGroupUsage computes each node group's summary line. Groups that cannot be computed carry
// Error (ValidateNodeGroups reports them with paths).
func NodeGroupUsage(env model.Environment) []NodeGroupRow {
	privateAZs := privateSubnetAZs(env)
	rows := make([]NodeGroupRow, 0, len(env.NodeGroups))
	for _, ng := range env.NodeGroups {
		row := NodeGroupRow{Name: ng.Name, InstanceType: ng.InstanceType, MaxNodes: max(0, ng.MaxSize), AZs: ng.AvailabilityZones}
		if len(row.AZs) == 0 {
			row.AZs = privateAZs
		}
		if len(row.AZs) > 0 {
			row.NodesPerAZ = ceilDiv(row.MaxNodes, len(row.AZs))
		}
		in := InputFor(env, ng)
		in.DeclaredMaxPods = max(0, in.DeclaredMaxPods)
		r, err := Compute(in)
		if err != nil {
			row.Error = groupError(env, err)
			rows = append(rows, row)
			continue
		}
		row.Bound, row.PodAddresses = r.MaxPods, r.PodAddresses
		row.MaxPods, row.Derived = ng.MaxPodsPerNode, ng.MaxPodsPerNode <= 0
		if row.Derived {
			row.MaxPods = r.MaxPods
		}
		row.PerNode = DemandPerNode(r, row.MaxPods, env.Cilium.PreAllocate)
		rows = append(rows, row)
	}
	return rows
}

// SubnetUsage sizes each AZ's private subnets (env.VPC.Subnets of Kind "private": declared, or
// for a VPC eksctl creates the subnets it will carve, see schema/vpc) against the
// node groups at max size, spread evenly over their AZs (rounded up). Errors: bad CIDRs, node
// groups in an AZ without a private subnet, demand above supply (addresses, or aligned /28
// blocks with prefix delegation). Warnings: prefix-delegation subnets close to full, node
// groups left out because their type could not be computed. path is the environment's root.
func SubnetUsage(env model.Environment, path *field.Path) (rows []SubnetRow, errs field.ErrorList, warnings []string) {
	byAZ := map[string]*SubnetRow{}
	first := map[string]model.Subnet{}
	var azs []string
	for _, s := range env.VPC.Subnets {
		if s.Kind != "private" {
			continue
		}
		prefix, err := netip.ParsePrefix(s.CIDR)
		if err != nil || !prefix.Addr().Is4() || prefix.Bits() < 16 || prefix.Bits() > 28 {
			errs = append(errs, field.Invalid(vpc.SubnetPath(path, s).Child("cidr"), s.CIDR, "not an IPv4 CIDR from /16 to /28 (the sizes AWS allows)"))
			continue
		}
		row, ok := byAZ[s.AZ]
		if !ok {
			row = &SubnetRow{AZ: s.AZ, PrefixDelegation: env.Cilium.PrefixDelegation}
			byAZ[s.AZ], first[s.AZ] = row, s
			azs = append(azs, s.AZ)
		}
		size := 1 << (32 - prefix.Bits())
		name := s.Name
		if name == "" {
			name = s.AZ
		}
		row.Subnets = append(row.Subnets, name)
		row.CIDRs = append(row.CIDRs, s.CIDR)
		row.Size += size
		row.Usable += size - AWSReservedPerSubnet
		if size >= 2*PrefixAddresses {
			// The first block holds .0-.3, the last the broadcast address: not assignable as /28.
			row.FreeBlocks += size/PrefixAddresses - 2
		}
	}

	for gi, g := range NodeGroupUsage(env) {
		ng := env.NodeGroups[gi]
		if g.Error != "" {
			warnings = append(warnings, fmt.Sprintf("node group %s left out of subnet sizing: %s", g.Name, g.Error))
			continue
		}
		gp := path.Child("nodeGroups").Key(g.Name).Child("availabilityZones")
		if len(g.AZs) == 0 {
			errs = append(errs, field.Invalid(gp, ng.AvailabilityZones, "no private subnet to place the node group in (declare vpc.subnets of kind private)"))
			continue
		}
		for j, az := range g.AZs {
			row, ok := byAZ[az]
			if !ok {
				errs = append(errs, field.NotFound(gp.Index(j), az))
				continue
			}
			row.NodeGroups = append(row.NodeGroups, g.Name)
			row.Nodes += g.NodesPerAZ
			row.NodeAddresses += g.NodesPerAZ
			row.ENIPrimaries += g.NodesPerAZ * g.PerNode.ENIPrimaries
			row.PodAddresses += g.NodesPerAZ * g.PerNode.PodAddresses
			row.PrefixBlocks += g.NodesPerAZ * g.PerNode.PrefixBlocks
		}
	}

	// A pool's worst case: its CPU limit filled with its smallest type, all in one zone; each
	// of its zones is sized for it.
	for _, pr := range NodePoolUsage(env) {
		if pr.Error != "" {
			warnings = append(warnings, fmt.Sprintf("node pool %s left out of subnet sizing: %s", pr.Name, pr.Error))
			continue
		}
		gp := path.Child("karpenter", "nodePools").Key(pr.Name).Child("availabilityZones")
		if len(pr.AZs) == 0 {
			errs = append(errs, field.Invalid(gp, pr.AZs, "no private subnet to place the node pool in (declare vpc.subnets of kind private)"))
			continue
		}
		for j, az := range pr.AZs {
			row, ok := byAZ[az]
			if !ok {
				errs = append(errs, field.NotFound(gp.Index(j), az))
				continue
			}
			row.NodeGroups = append(row.NodeGroups, "pool/"+pr.Name)
			row.Nodes += pr.MaxNodes
			row.NodeAddresses += pr.MaxNodes
			row.ENIPrimaries += pr.MaxNodes * pr.PerNode.ENIPrimaries
			row.PodAddresses += pr.MaxNodes * pr.PerNode.PodAddresses
			row.PrefixBlocks += pr.MaxNodes * pr.PerNode.PrefixBlocks
		}
	}

	slices.Sort(azs)
	for _, az := range azs {
		row := byAZ[az]
		row.Demand = row.NodeAddresses + row.ENIPrimaries + row.PodAddresses
		row.Free = row.Usable - row.Demand
		if row.Usable > 0 {
			row.UsedPercent = row.Demand * 100 / row.Usable
		}
		row.Status = "ok"
		sp := vpc.SubnetPath(path, first[az])
		if env.VPC.SubnetsModelled {
			sp = path.Child("vpc", "cidr") // eksctl carves the subnets from it
		}
		where := fmt.Sprintf("AZ %s (%s)", az, strings.Join(row.CIDRs, ", "))
		breakdown := fmt.Sprintf("%d nodes + %d ENI primaries + %d pod addresses = %d", row.NodeAddresses, row.ENIPrimaries, row.PodAddresses, row.Demand)
		individual := row.NodeAddresses + row.ENIPrimaries
		switch {
		case row.Demand > row.Usable:
			row.Status = "over"
			errs = append(errs, field.Invalid(sp, strings.Join(row.CIDRs, ","), fmt.Sprintf(
				"%s: node groups at max size need %s addresses, more than the %d usable (size %d minus %d AWS-reserved per subnet); enlarge the subnets or lower maxSize/maxPodsPerNode",
				where, breakdown, row.Usable, row.Size, AWSReservedPerSubnet)))
		case row.PrefixDelegation && row.PrefixBlocks+ceilDiv(max(0, individual-27*len(row.CIDRs)), PrefixAddresses) > row.FreeBlocks:
			row.Status = "over"
			errs = append(errs, field.Invalid(sp, strings.Join(row.CIDRs, ","), fmt.Sprintf(
				"%s: node groups at max size need %d aligned /28 blocks plus %d node/ENI primary addresses, more than the %d free /28 blocks even packed perfectly",
				where, row.PrefixBlocks, individual, row.FreeBlocks)))
		case row.PrefixDelegation && (row.UsedPercent >= PrefixWarnPercent || row.PrefixBlocks+individual > row.FreeBlocks):
			row.Status = "warning"
			warnings = append(warnings, fmt.Sprintf(
				"%s: prefix delegation needs %d aligned free /28 blocks of %d (%d%% of usable addresses used: %s); node and ENI primary addresses scattered over blocks can fragment the subnet so a /28 cannot be found: consider a subnet CIDR reservation of type prefix or a larger subnet",
				where, row.PrefixBlocks, row.FreeBlocks, row.UsedPercent, breakdown))
		}
		rows = append(rows, *row)
	}
	return rows, errs, warnings
}

func privateSubnetAZs(env model.Environment) []string {
	var azs []string
	for _, s := range env.VPC.Subnets {
		if s.Kind == "private" && !slices.Contains(azs, s.AZ) {
			azs = append(azs, s.AZ)
		}
	}
	slices.Sort(azs)
	return azs
}

func ceilDiv(a, b int) int {
	if b <= 0 || a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
