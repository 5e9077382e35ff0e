package verify

import (
	"fmt"
	"path/filepath"
	"slices"
)

// Spec is the datapath a node should have, computed from Values alone (no I/O): the edge that
// observes the node reads exactly the objects named here.
type Spec struct {
	ChartVersion string        `json:"chartVersion"`
	BPFFS        string        `json:"bpffs"`
	Features     []FeatureSpec `json:"features"`
	Maps         []MapSpec     `json:"maps"`
	Devices      []DeviceSpec  `json:"devices"`
	// MaglevTableSize is the table size every Maglev inner map must hold.
	MaglevTableSize int    `json:"maglevTableSize"`
	LBAlgorithm     string `json:"lbAlgorithm"`
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
	Role     string `json:"role"` // native | cilium_host | cilium_net
	LinksDir string `json:"linksDir"`
	Ingress  string `json:"ingress,omitempty"`
	Egress   string `json:"egress,omitempty"`
	// EgressKey is the values key that decides the egress program.
	EgressKey string `json:"egressKey,omitempty"`
	XDP       string `json:"xdp,omitempty"`
	// XDPBestEffort: a missing XDP program is a warning (driver may not support native XDP).
	XDPBestEffort bool `json:"xdpBestEffort,omitempty"`
}

// Program names Cilium attaches (cilium/cilium pkg/datapath/loader/loader.go, 1.18-1.20).
const (
	ProgFromNetdev = "cil_from_netdev"
	ProgToNetdev   = "cil_to_netdev"
	ProgFromHost   = "cil_from_host"
	ProgToHost     = "cil_to_host"
	ProgXDP        = "cil_xdp_entry"
)

// Map types as ebpf.MapType.String() prints them.
const (
	typeHash       = "Hash"
	typeLRUHash    = "LRUHash"
	typeLPMTrie    = "LPMTrie"
	typeHashOfMaps = "HashOfMaps"
	typeArray      = "Array"
)

// PolicyMapPrefix names Cilium's per-endpoint policy maps (cilium_policy_v2_<endpoint id %05d>).
const PolicyMapPrefix = "cilium_policy_v2_"

// mapTable is one Cilium minor's pinned maps under tc/globals, IPv4 and IPv6 names.
type mapDef struct {
	v4, v6   string
	typ      string
	sizeKey  string // values key that sizes it
	needsNAT bool   // exists only with KPR/BPF masquerade (NAT, neighbor)
}

// Provenance: cilium/cilium pkg/loadbalancer/maps (lb maps, maglev), pkg/maps/ctmap,
// pkg/maps/nat, pkg/maps/neighborsmap, pkg/maps/policymap; unchanged from 1.18 through 1.20.
var mapsV118 = []mapDef{
	{"cilium_lb4_services_v2", "cilium_lb6_services_v2", typeHash, "bpf.lbMapMax", false},
	{"cilium_lb4_backends_v3", "cilium_lb6_backends_v3", typeHash, "bpf.lbMapMax", false},
	{"cilium_lb4_reverse_nat", "cilium_lb6_reverse_nat", typeHash, "bpf.lbMapMax", false},
	{"cilium_lb4_maglev", "cilium_lb6_maglev", typeHashOfMaps, "bpf.lbMapMax", false},
	{"cilium_ct4_global", "cilium_ct6_global", typeLRUHash, "bpf.ctTcpMax", false},
	{"cilium_ct_any4_global", "cilium_ct_any6_global", typeLRUHash, "bpf.ctAnyMax", false},
	{"cilium_snat_v4_external", "cilium_snat_v6_external", typeLRUHash, "bpf.natMax", true},
	{"cilium_nodeport_neigh4", "cilium_nodeport_neigh6", typeLRUHash, "bpf.neighMax", true},
}

var mapTables = map[string][]mapDef{
	"1.18": mapsV118,
	"1.19": mapsV118,
	"1.20": mapsV118,
}

// maglevBackendLen is sizeof(BackendID) (u32) in a Maglev inner map value.
const maglevBackendLen = 4

// Expected computes the datapath spec for values and the node's native devices.
func Expected(v Values, devices []string) Spec {
	s := Spec{
		ChartVersion:    v.ChartVersion,
		BPFFS:           v.BPFRoot,
		MaglevTableSize: v.MaglevTableSize,
		LBAlgorithm:     v.LBAlgorithm,
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
	nat := v.KubeProxyReplacement || v.BPFMasquerade
	for _, d := range mapTables[v.Minor] {
		if d.needsNAT && !nat {
			continue
		}
		for _, fam := range []struct {
			on   bool
			name string
		}{{v.IPv4, d.v4}, {v.IPv6, d.v6}} {
			if !fam.on {
				continue
			}
			m := MapSpec{
				Name:       fam.name,
				PinPath:    filepath.Join(globals, fam.name),
				Type:       d.typ,
				MaxEntries: sizeFor(v, d.sizeKey),
				ValuesKey:  d.sizeKey,
			}
			if m.MaxEntries.Min != m.MaxEntries.Max {
				m.ValuesKey = d.sizeKey + " (unset: bpf.mapDynamicSizeRatio)"
			}
			if d.typ == typeHashOfMaps {
				m.Inner = &InnerSpec{Type: typeArray, ValueSize: uint32(maglevBackendLen * v.MaglevTableSize), MaxEntries: 1}
			}
			s.Maps = append(s.Maps, m)
		}
	}
	s.Maps = append(s.Maps, MapSpec{
		Name:       PolicyMapPrefix,
		PinPath:    filepath.Join(globals, PolicyMapPrefix+"*"),
		Glob:       true,
		Type:       typeLPMTrie,
		MaxEntries: fixed(v.PolicyMapMax),
		ValuesKey:  "bpf.policyMapMax",
	})

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
	return s
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
