package datapath

import (
	"fmt"
	"path/filepath"
	"slices"
)

// Spec is the datapath a node should have, computed from Values alone (no I/O): the edge that
// observes the node reads exactly the objects named here. What depends on the node (tcx support,
// CPU count, host IPv6) is observed and resolved by Diff.
type Spec struct {
	ChartVersion string        `json:"chartVersion"`
	BPFFS        string        `json:"bpffs"`
	Features     []FeatureSpec `json:"features"`
	Maps         []MapSpec     `json:"maps"`
	Devices      []DeviceSpec  `json:"devices"`
	// MaglevTableSize is the table size every Maglev inner map must hold.
	MaglevTableSize int    `json:"maglevTableSize"`
	LBAlgorithm     string `json:"lbAlgorithm"`
	// EnableTCX: Cilium attaches with tcx when the kernel has it (bpf.enableTCX), else legacy tc.
	EnableTCX bool `json:"enableTCX"`
	// GlobalsDir is where Cilium pins its global maps (<bpffs>/tc/globals); every pin in it is
	// read, so that programs' maps are compared by identity (map ID), not by name.
	GlobalsDir string `json:"globalsDir"`
	// Endpoint is the spec of every endpoint (lxc*) device found on the node.
	Endpoint DeviceSpec `json:"endpoint"`
	// SocketLB is nil when socket load-balancing is off.
	SocketLB *SocketLBSpec `json:"socketLB,omitempty"`
	// Allowed are non-Cilium programs the environment declares (kernel name or tag).
	Allowed []string `json:"allowed,omitempty"`
}

// FeatureSpec is a kernel feature probe. Required false means it is reported as SKIP.
type FeatureSpec struct {
	Name      string `json:"name"`
	Required  bool   `json:"required"`
	Why       string `json:"why"`
	ValuesKey string `json:"valuesKey"`
}

// Range is an inclusive range of map max_entries; Min == Max for a fixed size.
type Range struct {
	Min uint32 `json:"min"`
	Max uint32 `json:"max"`
}

func (r Range) Contains(n uint32) bool { return n >= r.Min && n <= r.Max }

func (r Range) String() string {
	if r.Min == r.Max {
		return fmt.Sprint(r.Min)
	}
	return fmt.Sprintf("%d..%d", r.Min, r.Max)
}

func fixed(n int) Range { return Range{uint32(n), uint32(n)} }

// MapSpec is one pinned map (or, with Glob, every pin whose name starts with Name).
type MapSpec struct {
	Name       string `json:"name"`
	PinPath    string `json:"pinPath"`
	Glob       bool   `json:"glob,omitempty"`
	Type       string `json:"type"` // ebpf.MapType.String()
	MaxEntries Range  `json:"maxEntries"`
	ValuesKey  string `json:"valuesKey"`
	KeySize    uint32 `json:"keySize"`
	ValueSize  uint32 `json:"valueSize"`
	// Flags are the expected bits of FlagsMask; FlagsKey is the values key deciding them.
	Flags    uint32 `json:"flags"`
	FlagsKey string `json:"flagsKey"`
	// RoundToCPUs: distributed LRU, max_entries is a multiple of the possible CPUs.
	RoundToCPUs bool `json:"roundToCPUs,omitempty"`
	// Inner describes the inner maps of a map-in-map (Maglev).
	Inner *InnerSpec `json:"inner,omitempty"`
}

// InnerSpec is the layout of a map-in-map's inner maps.
type InnerSpec struct {
	Type       string `json:"type"`
	ValueSize  uint32 `json:"valueSize"`
	MaxEntries uint32 `json:"maxEntries"`
}

// DeviceSpec lists the Cilium programs a device must (or must not) carry. An empty program name
// means "no Cilium program expected there".
type DeviceSpec struct {
	Name     string `json:"name"`
	Role     string `json:"role"` // native | cilium_host | cilium_net | endpoint
	LinksDir string `json:"linksDir,omitempty"`
	Ingress  string `json:"ingress,omitempty"`
	Egress   string `json:"egress,omitempty"`
	// EgressOptional is a Cilium program that may sit on egress without being required.
	EgressOptional string `json:"egressOptional,omitempty"`
	// EgressKey is the values key that decides the egress program.
	EgressKey string `json:"egressKey,omitempty"`
	XDP       string `json:"xdp,omitempty"`
	// XDPBestEffort: a missing XDP program is a warning (driver may not support native XDP).
	XDPBestEffort bool `json:"xdpBestEffort,omitempty"`
}

// SocketLBSpec is the socket load-balancing programs Cilium attaches at its cgroup root
// (cilium/cilium pkg/socketlb, 1.18-1.20): each as a bpf_link pinned at
// <bpffs>/cilium/socketlb/links/cgroup/<program>.
type SocketLBSpec struct {
	CgroupRoot string     `json:"cgroupRoot"`
	LinksDir   string     `json:"linksDir"`
	Programs   []SockProg `json:"programs"`
}

// SockProg is one socket-LB program and its cgroup attach type (ebpf.AttachType.String()).
type SockProg struct {
	Name   string `json:"name"`
	Attach string `json:"attach"`
	// IPv6 programs are expected with ipv6.enabled, or when the host has IPv6 at all (Cilium
	// attaches them for v4-in-v6 sockets: socketlb.Enable).
	IPv6 bool `json:"ipv6,omitempty"`
	// Required false: attached only under a condition the verifier cannot see; its absence is fine.
	Required bool `json:"required"`
}

// Program names Cilium attaches (cilium/cilium pkg/datapath/loader/loader.go, endpoint.go, 1.18-1.20).
const (
	ProgFromNetdev   = "cil_from_netdev"
	ProgToNetdev     = "cil_to_netdev"
	ProgFromHost     = "cil_from_host"
	ProgToHost       = "cil_to_host"
	ProgXDP          = "cil_xdp_entry"
	ProgFromEndpoint = "cil_from_container"
	ProgToEndpoint   = "cil_to_container"
)

// EndpointPrefix names the host side of Cilium's endpoint veths.
const EndpointPrefix = "lxc"

// Map types as ebpf.MapType.String() prints them.
const (
	typeHash       = "Hash"
	typePerCPUHash = "PerCPUHash"
	typeLRUHash    = "LRUHash"
	typeLPMTrie    = "LPMTrie"
	typeHashOfMaps = "HashOfMaps"
	typeArray      = "Array"
)

// Map flags enigate compares (include/uapi/linux/bpf.h); other bits are not judged.
const (
	FlagNoPrealloc  = 1 << 0 // BPF_F_NO_PREALLOC
	FlagNoCommonLRU = 1 << 1 // BPF_F_NO_COMMON_LRU
	FlagRdonlyProg  = 1 << 7 // BPF_F_RDONLY_PROG
	FlagsMask       = FlagNoPrealloc | FlagNoCommonLRU | FlagRdonlyProg
)

// PolicyMapPrefix names Cilium's per-endpoint policy maps (cilium_policy_v2_<endpoint id %05d>).
const PolicyMapPrefix = "cilium_policy_v2_"

// mapDef is one of a Cilium minor's pinned maps under tc/globals, IPv4 and IPv6 names and layouts.
type mapDef struct {
	v4, v6         string
	typ            string
	sizeKey        string // values key that sizes it; "" for a fixed size
	size           int    // the fixed size when sizeKey is ""
	needsNAT       bool   // exists only with KPR/BPF masquerade (NAT, neighbor)
	key4, val4     uint32
	key6, val6     uint32
	extraFlags     uint32 // flags Cilium always sets (ipcache: BPF_F_RDONLY_PROG)
	familyAgnostic bool   // one map for both families (v4 name)
}

// Provenance (read in 1.19.6 and 1.20.0, pkg/maps unchanged in 1.19.7 and 1.20.2; the 1.18 table is taken to be the same, not re-read): names and map types in
// cilium/cilium pkg/loadbalancer/maps/lbmaps.go, pkg/maps/{ctmap,nat,neighborsmap,policymap,
// ipcache,lxcmap,metricsmap}; key and value sizes are the Go structs bpf.NewMap sizes with
// reflect (Service4Key 12, Service4Value 12, Backend4KeyV3 4, Backend4ValueV3 12, RevNat4Key 2,
// RevNat4Value 6 (packed), MaglevOuterKey 2/Val 4, TupleKey4Global 14, CtEntry 56, NatEntry4 40,
// neighbors Key4 4/Value 8, PolicyKey 12/PolicyEntry 12, ipcache Key 24/RemoteEndpointInfo 24,
// EndpointKey 20/EndpointInfo 48, metrics Key 8/Value 16, and the IPv6 twins).
var mapsV118 = []mapDef{
	{v4: "cilium_lb4_services_v2", v6: "cilium_lb6_services_v2", typ: typeHash, sizeKey: "bpf.lbMapMax", key4: 12, val4: 12, key6: 24, val6: 12},
	{v4: "cilium_lb4_backends_v3", v6: "cilium_lb6_backends_v3", typ: typeHash, sizeKey: "bpf.lbMapMax", key4: 4, val4: 12, key6: 4, val6: 24},
	{v4: "cilium_lb4_reverse_nat", v6: "cilium_lb6_reverse_nat", typ: typeHash, sizeKey: "bpf.lbMapMax", key4: 2, val4: 6, key6: 2, val6: 18},
	{v4: "cilium_lb4_maglev", v6: "cilium_lb6_maglev", typ: typeHashOfMaps, sizeKey: "bpf.lbMapMax", key4: 2, val4: 4, key6: 2, val6: 4},
	{v4: "cilium_ct4_global", v6: "cilium_ct6_global", typ: typeLRUHash, sizeKey: "bpf.ctTcpMax", key4: 14, val4: 56, key6: 38, val6: 56},
	{v4: "cilium_ct_any4_global", v6: "cilium_ct_any6_global", typ: typeLRUHash, sizeKey: "bpf.ctAnyMax", key4: 14, val4: 56, key6: 38, val6: 56},
	{v4: "cilium_snat_v4_external", v6: "cilium_snat_v6_external", typ: typeLRUHash, sizeKey: "bpf.natMax", needsNAT: true, key4: 14, val4: 40, key6: 38, val6: 56},
	{v4: "cilium_nodeport_neigh4", v6: "cilium_nodeport_neigh6", typ: typeLRUHash, sizeKey: "bpf.neighMax", needsNAT: true, key4: 4, val4: 8, key6: 16, val6: 8},
	// Pinned on every node whatever the values say.
	{v4: "cilium_ipcache_v2", typ: typeLPMTrie, size: 512000, key4: 24, val4: 24, extraFlags: FlagRdonlyProg, familyAgnostic: true},
	{v4: "cilium_lxc", typ: typeHash, size: 65535, key4: 20, val4: 48, familyAgnostic: true},
	{v4: "cilium_metrics", typ: typePerCPUHash, size: 1024, key4: 8, val4: 16, familyAgnostic: true},
}

// mapsV120 differs from 1.19 in one flag: cilium_lxc is created BPF_F_RDONLY_PROG
// (pkg/maps/lxcmap/lxcmap.go, 1.20.0).
var mapsV120 = func() []mapDef {
	ms := slices.Clone(mapsV118)
	for i := range ms {
		if ms[i].v4 == "cilium_lxc" {
			ms[i].extraFlags = FlagRdonlyProg
		}
	}
	return ms
}()

// policyKeySize, policyValueSize: PolicyKey and PolicyEntry (pkg/maps/policymap); policy maps
// are created BPF_F_RDONLY_PROG (newPolicyMap, 1.19.6 and 1.20.0).
const policyKeySize, policyValueSize = 12, 12

var mapTables = map[string][]mapDef{
	"1.18": mapsV118,
	"1.19": mapsV118,
	"1.20": mapsV120,
}

// maglevBackendLen is sizeof(BackendID) (u32) in a Maglev inner map value.
const maglevBackendLen = 4

// socketLBPrograms are Cilium's cgroup programs (pkg/socketlb/socketlb.go cgroupProgs and
// cgroup.go attachTypes). post_bind with KPR and nodePort.bindProtection; getpeername when the
// kernel has the attach type (>= 5.8, which Cilium 1.18+ needs anyway); pre_bind only with the
// health datapath, which the chart does not expose: never required.
func socketLBPrograms(v Values) []SockProg {
	var ps []SockProg
	for _, fam := range []struct {
		n    string
		ipv6 bool
	}{{"4", false}, {"6", true}} {
		ps = append(ps,
			SockProg{Name: "cil_sock" + fam.n + "_connect", Attach: "CGroupInet" + fam.n + "Connect", IPv6: fam.ipv6, Required: true},
			SockProg{Name: "cil_sock" + fam.n + "_sendmsg", Attach: "CGroupUDP" + fam.n + "Sendmsg", IPv6: fam.ipv6, Required: true},
			SockProg{Name: "cil_sock" + fam.n + "_recvmsg", Attach: "CGroupUDP" + fam.n + "Recvmsg", IPv6: fam.ipv6, Required: true},
			SockProg{Name: "cil_sock" + fam.n + "_getpeername", Attach: "CgroupInet" + fam.n + "GetPeername", IPv6: fam.ipv6, Required: true},
			SockProg{Name: "cil_sock" + fam.n + "_post_bind", Attach: "CGroupInet" + fam.n + "PostBind", IPv6: fam.ipv6, Required: v.KubeProxyReplacement && v.BindProtection},
			SockProg{Name: "cil_sock" + fam.n + "_pre_bind", Attach: "CGroupInet" + fam.n + "Bind", IPv6: fam.ipv6},
		)
	}
	return append(ps, SockProg{Name: "cil_sock_release", Attach: "CgroupInetSockRelease", Required: true})
}

// Expected computes the datapath spec for values, the node's native devices and the declared
// non-Cilium programs (kernel names or tags).
func Expected(v Values, devices, allowed []string) Spec {
	s := Spec{
		ChartVersion:    v.ChartVersion,
		BPFFS:           v.BPFRoot,
		MaglevTableSize: v.MaglevTableSize,
		LBAlgorithm:     v.LBAlgorithm,
		EnableTCX:       v.EnableTCX,
		Allowed:         slices.Clone(allowed),
	}
	accel := v.Acceleration != "disabled"
	s.Features = []FeatureSpec{
		{Name: "btf", Required: true, Why: "Cilium 1.18+ needs kernel BTF", ValuesKey: "-"},
		{Name: "map_lru_hash", Required: true, Why: "CT, NAT and neighbor maps are LRU hashes", ValuesKey: "bpf.ctTcpMax"},
		{Name: "map_lpm_trie", Required: true, Why: "policy and ipcache maps are LPM tries", ValuesKey: "bpf.policyMapMax"},
		{Name: "map_hash_of_maps", Required: true, Why: "Maglev tables are a hash of maps", ValuesKey: "maglev.tableSize"},
		{Name: "tc_attach", Required: true, Why: "programs attach with tcx (kernel >= 6.6) or legacy tc", ValuesKey: "-"},
		{Name: "xdp", Required: accel, Why: "loadBalancer.acceleration=" + v.Acceleration, ValuesKey: "loadBalancer.acceleration"},
	}

	globals := filepath.Join(v.BPFRoot, "tc", "globals")
	s.GlobalsDir = globals
	nat := v.KubeProxyReplacement || v.BPFMasquerade
	for _, d := range mapTables[v.Minor] {
		if d.needsNAT && !nat {
			continue
		}
		for _, fam := range []struct {
			on       bool
			name     string
			key, val uint32
		}{{v.IPv4 || d.familyAgnostic, d.v4, d.key4, d.val4}, {v.IPv6 && !d.familyAgnostic, d.v6, d.key6, d.val6}} {
			if !fam.on {
				continue
			}
			m := MapSpec{
				Name:       fam.name,
				PinPath:    filepath.Join(globals, fam.name),
				Type:       d.typ,
				MaxEntries: fixed(d.size),
				ValuesKey:  "-",
				KeySize:    fam.key,
				ValueSize:  fam.val,
			}
			if d.sizeKey != "" {
				m.MaxEntries, m.ValuesKey = sizeFor(v, d.sizeKey), d.sizeKey
				if m.MaxEntries.Min != m.MaxEntries.Max {
					m.ValuesKey = d.sizeKey + " (unset: bpf.mapDynamicSizeRatio)"
				}
			}
			m.Flags, m.FlagsKey = memoryFlags(v, d.typ)
			m.Flags |= d.extraFlags
			m.RoundToCPUs = d.typ == typeLRUHash && v.DistributedLRU
			if d.typ == typeHashOfMaps {
				m.Inner = &InnerSpec{Type: typeArray, ValueSize: uint32(maglevBackendLen * v.MaglevTableSize), MaxEntries: 1}
			}
			s.Maps = append(s.Maps, m)
		}
	}
	pm := MapSpec{
		Name:       PolicyMapPrefix,
		PinPath:    filepath.Join(globals, PolicyMapPrefix+"*"),
		Glob:       true,
		Type:       typeLPMTrie,
		MaxEntries: fixed(v.PolicyMapMax),
		ValuesKey:  "bpf.policyMapMax",
		KeySize:    policyKeySize,
		ValueSize:  policyValueSize,
	}
	pm.Flags, pm.FlagsKey = memoryFlags(v, typeLPMTrie)
	pm.Flags |= FlagRdonlyProg
	s.Maps = append(s.Maps, pm)

	links := func(dev string) string {
		return filepath.Join(v.BPFRoot, "cilium", "devices", dev, "links")
	}
	devs := slices.Clone(devices)
	slices.Sort(devs)
	devs = slices.Compact(devs)
	for _, dev := range devs {
		d := DeviceSpec{Name: dev, Role: "native", LinksDir: links(dev), Ingress: ProgFromNetdev, EgressKey: "kubeProxyReplacement"}
		// Cilium attaches cil_to_netdev when devices are required: KPR (BPF NodePort), BPF
		// masquerading, host firewall, ... (loader.go attachNetworkDevices, AreDevicesRequired).
		if v.KubeProxyReplacement || v.BPFMasquerade {
			d.Egress = ProgToNetdev
		}
		if accel {
			d.XDP = ProgXDP
			d.XDPBestEffort = v.Acceleration == "best-effort"
		}
		s.Devices = append(s.Devices, d)
	}
	s.Devices = append(s.Devices,
		DeviceSpec{Name: "cilium_host", Role: "cilium_host", LinksDir: links("cilium_host"), Ingress: ProgToHost, Egress: ProgFromHost},
		DeviceSpec{Name: "cilium_net", Role: "cilium_net", LinksDir: links("cilium_net"), Ingress: ProgToHost},
	)
	// Endpoints: cil_from_container on ingress; cil_to_container on egress only when the endpoint
	// requires it (loader/endpoint.go, ep.RequireEgressProg), so it is allowed, not required.
	// Their links live under <bpffs>/cilium/endpoints/<endpoint id>/links, found by link ID.
	s.Endpoint = DeviceSpec{Role: "endpoint", Ingress: ProgFromEndpoint, EgressOptional: ProgToEndpoint}
	if v.SocketLB {
		s.SocketLB = &SocketLBSpec{
			CgroupRoot: v.CgroupRoot,
			LinksDir:   filepath.Join(v.BPFRoot, "cilium", "socketlb", "links", "cgroup"),
			Programs:   socketLBPrograms(v),
		}
	}
	return s
}

// memoryFlags are the allocation flags Cilium gives a map of type t (cilium/cilium pkg/bpf/bpf.go
// GetMapMemoryFlags, applied to every map bpf.NewMap creates): LPM tries never preallocate; hash
// maps (and per-CPU hashes, hashes of maps) skip preallocation unless bpf.preallocateMaps; LRU
// maps get BPF_F_NO_COMMON_LRU with bpf.distributedLRU.enabled.
func memoryFlags(v Values, t string) (uint32, string) {
	switch t {
	case typeLPMTrie:
		return FlagNoPrealloc, "-"
	case typeHash, typePerCPUHash, typeHashOfMaps:
		if v.PreallocateMaps {
			return 0, "bpf.preallocateMaps"
		}
		return FlagNoPrealloc, "bpf.preallocateMaps"
	case typeLRUHash:
		if v.DistributedLRU {
			return FlagNoCommonLRU, "bpf.distributedLRU.enabled"
		}
		return 0, "bpf.distributedLRU.enabled"
	}
	return 0, "-"
}

// sizeFor returns the max_entries range a values key implies.
func sizeFor(v Values, key string) Range {
	dyn := func(p *int, min int) Range {
		if p != nil {
			return fixed(*p)
		}
		return Range{uint32(min), dynTableMax}
	}
	switch key {
	case "bpf.lbMapMax":
		return fixed(v.LBMapMax)
	case "bpf.ctTcpMax":
		return dyn(v.CTTCPMax, dynCTTCPMin)
	case "bpf.ctAnyMax":
		return dyn(v.CTAnyMax, dynCTAnyMin)
	case "bpf.natMax":
		return dyn(v.NATMax, dynNATMin)
	case "bpf.neighMax":
		// Unset, the neighbor map follows the NAT map's size.
		if v.NeighMax == nil {
			return dyn(v.NATMax, dynNATMin)
		}
		return fixed(*v.NeighMax)
	case "bpf.policyMapMax":
		return fixed(v.PolicyMapMax)
	}
	return Range{}
}

// RoundForCPUs is the max_entries range Cilium creates an LRU map with under distributed LRU:
// cilium/cilium pkg/option/config.go (1.19.6, 1.20.0) rounds an explicit size up to a multiple of
// the possible CPUs, capped at LimitTableMax rounded down (alignDistributedLRUSize), and a dynamic
// size the same way between the rounded-up floor and the rounded-down limit
// (getDynamicSizeCalculator), matching the kernel's own roundup(max_entries, num_possible_cpus())
// in htab_map_alloc for BPF_F_NO_COMMON_LRU.
func RoundForCPUs(r Range, cpus int) Range {
	if cpus <= 1 {
		return r
	}
	c := uint32(cpus)
	up := func(n uint32) uint32 { return (n + c - 1) / c * c }
	down := func(n uint32) uint32 { return n / c * c }
	out := Range{Min: up(r.Min), Max: up(r.Max)}
	if out.Max > dynTableMax {
		out.Max = down(dynTableMax)
	}
	if out.Min > out.Max {
		out.Min = out.Max
	}
	return out
}
