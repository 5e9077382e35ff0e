package capacity

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Constants of the model; docs/capacity.md explains each.
const (
	// CiliumAddressesPerNode are the pod addresses Cilium itself takes on every node: the
	// cilium_host router address and the health endpoint.
	CiliumAddressesPerNode = 2
	// DefaultHostNetworkPods are the host-network pods per node that need no pod address when
	// the environment declares none: the Cilium agent and Envoy.
	DefaultHostNetworkPods = 2
	// DefaultPreAllocate is Cilium's CiliumNode spec.ipam.pre-allocate default.
	DefaultPreAllocate = 8
	// PrefixAddresses is the size of one delegated /28 prefix.
	PrefixAddresses = 16
	// AWSReservedPerSubnet are the addresses AWS keeps in every subnet (network, router, DNS,
	// future use, broadcast).
	AWSReservedPerSubnet = 5
	// SmallPodCap / LargePodCap are AWS's max-pods guidance below / from LargeVCPUs vCPUs:
	// awslabs/amazon-eks-ami templates/al2/runtime/max-pods-calculator.sh (commit a4f0d905,
	// MAX_POD_CEILING_FOR_LOW_CPU=110, MAX_POD_CEILING_FOR_HIGH_CPU=250 when CPU_COUNT -gt 30).
	// No type has exactly 30 vCPUs (TestNoTypeAtThirtyVCPUs), so ">= 30" and "> 30" agree.
	SmallPodCap = 110
	LargePodCap = 250
	LargeVCPUs  = 30
)

// Input is what the bound depends on.
type Input struct {
	InstanceType     string
	PrefixDelegation bool
	// FirstInterfaceIndex is Cilium's eni.first-interface-index: ENIs below it carry no pods.
	FirstInterfaceIndex int
	// HostNetworkPods per node that need no pod address (0 means none; the environment's
	// schema defaults it to DefaultHostNetworkPods).
	HostNetworkPods int
	// DeclaredMaxPods is a max-pods value to check against the bound; 0 means none declared.
	DeclaredMaxPods int
}

// Formula is one figure with the expression that produced it.
type Formula struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
	// Substituted is Expression with the inputs filled in.
	Substituted string `json:"substituted"`
	Value       int    `json:"value"`
}

// Result is every figure for one instance type and input; Formulas explain each.
type Result struct {
	InstanceType        string   `json:"instanceType"`
	ENIs                int      `json:"enis"`
	IPv4PerENI          int      `json:"ipv4PerEni"`
	PrefixDelegation    bool     `json:"prefixDelegation"`
	FirstInterfaceIndex int      `json:"firstInterfaceIndex"`
	HostNetworkPods     int      `json:"hostNetworkPods"`
	VCPUs               int      `json:"vcpus"` // 0: unknown
	Architectures       []string `json:"architectures,omitempty"`
	Hypervisor          string   `json:"hypervisor"`
	BareMetal           bool     `json:"bareMetal"`
	NetworkCards        int      `json:"networkCards"`
	DefaultNetworkCard  int      `json:"defaultNetworkCard"`

	// UsableENIs = ENIs - FirstInterfaceIndex.
	UsableENIs int `json:"usableEnis"`
	// SlotsPerENI = IPv4PerENI - 1: secondary addresses, or /28 prefixes with delegation.
	SlotsPerENI int `json:"slotsPerEni"`
	// AddressesPerSlot is 1, or 16 with prefix delegation.
	AddressesPerSlot int `json:"addressesPerSlot"`
	PodAddresses     int `json:"podAddresses"`
	CiliumAddresses  int `json:"ciliumAddresses"`
	VPCCNIMaxPods    int `json:"vpcCniMaxPods"`
	// AddressBound = PodAddresses - CiliumAddresses + HostNetworkPods.
	AddressBound int    `json:"addressBound"`
	PodCap       int    `json:"podCap"`
	PodCapReason string `json:"podCapReason"`
	// MaxPods = min(AddressBound, PodCap): the largest safe kubelet max-pods.
	MaxPods int `json:"maxPods"`

	DeclaredMaxPods int `json:"declaredMaxPods,omitempty"`
	// DeclaredExceeds is true when DeclaredMaxPods > MaxPods.
	DeclaredExceeds bool `json:"declaredExceeds"`

	Formulas []Formula `json:"formulas"`
	Notes    []string  `json:"notes,omitempty"`
}

// UnknownTypeError is returned for a type not in the table.
type UnknownTypeError struct {
	Name    string
	Nearest []string
}

func (e *UnknownTypeError) Error() string {
	if len(e.Nearest) == 0 {
		return fmt.Sprintf("unknown instance type %q", e.Name)
	}
	return fmt.Sprintf("unknown instance type %q (nearest known: %s)", e.Name, strings.Join(e.Nearest, ", "))
}

// ErrPrefixDelegationUnsupported is wrapped when prefix delegation is asked of a type that is
// neither nitro nor bare metal.
var ErrPrefixDelegationUnsupported = errors.New("prefix delegation needs a nitro or bare-metal instance type")

// Compute computes every figure for in against the embedded table.
func Compute(in Input) (Result, error) {
	t, err := defaultTable()
	if err != nil {
		return Result{}, err
	}
	return t.Compute(in)
}

// Compute computes every figure for in. Errors: unknown type, prefix delegation on a type that
// cannot do it, an interface index or counts out of range, or too few addresses for Cilium
// itself. A declared max-pods above the bound is not an error: see Result.DeclaredExceeds.
func (t *Table) Compute(in Input) (Result, error) {
	it, ok := t.Lookup(in.InstanceType)
	if !ok {
		return Result{}, &UnknownTypeError{Name: in.InstanceType, Nearest: t.Nearest(in.InstanceType, 3)}
	}
	return ComputeFor(it, in)
}

// ComputeFor computes every figure for a known type (in.InstanceType is not looked up).
func ComputeFor(it InstanceType, in Input) (Result, error) {
	r := Result{
		InstanceType: it.Name, ENIs: it.ENIs, IPv4PerENI: it.IPv4PerENI,
		PrefixDelegation: in.PrefixDelegation, FirstInterfaceIndex: in.FirstInterfaceIndex,
		HostNetworkPods: in.HostNetworkPods, VCPUs: it.VCPUs, Architectures: it.Architectures,
		Hypervisor: it.Hypervisor, BareMetal: it.BareMetal, NetworkCards: max(1, len(it.NetworkCards)),
		DefaultNetworkCard: it.DefaultNetworkCard, DeclaredMaxPods: in.DeclaredMaxPods,
		CiliumAddresses: CiliumAddressesPerNode,
	}
	var problems []string
	if it.ENIs < 1 || it.IPv4PerENI < 2 {
		problems = append(problems, fmt.Sprintf("table lists %d ENIs x %d IPv4 per ENI (need at least 1 x 2)", it.ENIs, it.IPv4PerENI))
	}
	if in.PrefixDelegation && !it.PrefixDelegationCapable() {
		problems = append(problems, fmt.Sprintf("%v (hypervisor %s, bare metal %t)", ErrPrefixDelegationUnsupported, it.Hypervisor, it.BareMetal))
	}
	if in.FirstInterfaceIndex < 0 || (it.ENIs >= 1 && in.FirstInterfaceIndex >= it.ENIs) {
		problems = append(problems, fmt.Sprintf("first interface index %d out of range (0..%d: the default network card has %d ENIs)", in.FirstInterfaceIndex, it.ENIs-1, it.ENIs))
	}
	if in.HostNetworkPods < 0 {
		problems = append(problems, fmt.Sprintf("host-network pods %d is negative", in.HostNetworkPods))
	}
	if in.DeclaredMaxPods < 0 {
		problems = append(problems, fmt.Sprintf("declared max pods %d is negative", in.DeclaredMaxPods))
	}
	if len(problems) > 0 {
		return Result{}, fmt.Errorf("%s: %s", it.Name, strings.Join(problems, "; "))
	}

	E, I, F, H := it.ENIs, it.IPv4PerENI, in.FirstInterfaceIndex, in.HostNetworkPods
	r.VPCCNIMaxPods = E*(I-1) + 2
	r.UsableENIs = E - F
	r.SlotsPerENI = I - 1
	r.AddressesPerSlot = 1
	if in.PrefixDelegation {
		r.AddressesPerSlot = PrefixAddresses
	}
	r.PodAddresses = r.UsableENIs * r.SlotsPerENI * r.AddressesPerSlot
	if r.PodAddresses < CiliumAddressesPerNode {
		return Result{}, fmt.Errorf("%s: %d pod addresses, fewer than the %d Cilium takes per node (cilium_host, health)", it.Name, r.PodAddresses, CiliumAddressesPerNode)
	}
	r.AddressBound = r.PodAddresses - CiliumAddressesPerNode + H
	switch {
	case it.VCPUs == 0:
		r.PodCap = SmallPodCap
		r.PodCapReason = "vCPU count unknown: conservative 110 (run `enigate limits refresh` to record vCPUs)"
	case it.VCPUs < LargeVCPUs:
		r.PodCap = SmallPodCap
		r.PodCapReason = strconv.Itoa(it.VCPUs) + " vCPU < 30: AWS guidance caps max pods at 110"
	default:
		r.PodCap = LargePodCap
		r.PodCapReason = strconv.Itoa(it.VCPUs) + " vCPU >= 30: AWS guidance caps max pods at 250"
	}
	r.MaxPods = min(r.AddressBound, r.PodCap)

	// The substituted expressions share one buffer and one string: Compute runs for every node
	// group at render time and for every Node/CiliumNode at admission.
	var arr [192]byte
	var ends [4]int
	buf := fmtInts(arr[:0], "", E, "*(", I, "-1)+2")
	ends[0] = len(buf)
	buf = fmtInts(buf, "(", E, "-", F, ")*(")
	buf = append(strconv.AppendInt(buf, int64(I), 10), "-1)"...)
	if in.PrefixDelegation {
		buf = append(buf, "*16"...)
	}
	ends[1] = len(buf)
	buf = fmtInts(buf, "", r.PodAddresses, "-2+", H, "")
	ends[2] = len(buf)
	buf = fmtInts(buf, "min(", r.AddressBound, ", ", r.PodCap, ")")
	ends[3] = len(buf)
	all := string(buf)
	podName, podExpr := "pod addresses (Cilium ENI)", "(E-F)*(I-1)"
	if in.PrefixDelegation {
		podName, podExpr = "pod addresses (Cilium ENI, prefix delegation)", "(E-F)*(I-1)*16"
	}
	r.Formulas = []Formula{
		{Name: "VPC CNI max pods (EKS AMI default)", Expression: "E*(I-1)+2", Substituted: all[:ends[0]], Value: r.VPCCNIMaxPods},
		{Name: podName, Expression: podExpr, Substituted: all[ends[0]:ends[1]], Value: r.PodAddresses},
		{Name: "address bound", Expression: "podAddresses-2+H", Substituted: all[ends[1]:ends[2]], Value: r.AddressBound},
		{Name: "max pods (kubelet bound)", Expression: "min(addressBound, cap)", Substituted: all[ends[2]:ends[3]], Value: r.MaxPods},
	}

	if r.NetworkCards > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("%s has %d network cards: only the default card (index %d, %d ENIs) counts; ENIs on other cards are not used for pods", it.Name, r.NetworkCards, it.DefaultNetworkCard, E))
	}
	if it.VCPUs == 0 {
		if len(r.Notes) == 0 {
			r.Notes = unknownVCPUNotes[:1:1] // shared; cap 1 so an append by the caller copies
		} else {
			r.Notes = append(r.Notes, unknownVCPUNotes[0])
		}
	}
	if in.DeclaredMaxPods > 0 && in.DeclaredMaxPods > r.MaxPods {
		r.DeclaredExceeds = true
	}
	return r, nil
}

var unknownVCPUNotes = []string{"vCPU count unknown in the limits table: the 110 cap is assumed"}

// fmtInts appends pre, a, mid, b, post to buf.
func fmtInts(buf []byte, pre string, a int, mid string, b int, post string) []byte {
	buf = append(buf, pre...)
	buf = strconv.AppendInt(buf, int64(a), 10)
	buf = append(buf, mid...)
	buf = strconv.AppendInt(buf, int64(b), 10)
	return append(buf, post...)
}

// Inputs describes the formula inputs in one line, for messages.
func (r Result) Inputs() string {
	pd := "off"
	if r.PrefixDelegation {
		pd = "on"
	}
	vcpu := "unknown"
	if r.VCPUs > 0 {
		vcpu = fmt.Sprint(r.VCPUs)
	}
	return fmt.Sprintf("E=%d ENIs, I=%d IPv4/ENI, first interface index %d, prefix delegation %s, %d host-network pods, vCPU %s",
		r.ENIs, r.IPv4PerENI, r.FirstInterfaceIndex, pd, r.HostNetworkPods, vcpu)
}

// BoundExplanation explains MaxPods in one line: the formula with its inputs.
func (r Result) BoundExplanation() string {
	slot := "(E-F)*(I-1)"
	if r.PrefixDelegation {
		slot = "(E-F)*(I-1)*16"
	}
	return fmt.Sprintf("bound %d = min(%s - 2 Cilium + H = %d, cap %d) with %s", r.MaxPods, slot, r.AddressBound, r.PodCap, r.Inputs())
}

// ExceedsMessage is the message for a declared max-pods above the bound.
func (r Result) ExceedsMessage(declared int) string {
	return fmt.Sprintf("max pods %d on %s exceeds the bound: %s", declared, r.InstanceType, r.BoundExplanation())
}
