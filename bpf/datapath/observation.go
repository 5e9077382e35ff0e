package datapath

// Observation is what the node showed, as plain data: the observer fills it at the kernel edge,
// Diff compares it with a Spec. Error strings record what could not be read.
type Observation struct {
	Node     string                       `json:"node,omitempty"`
	Kernel   string                       `json:"kernel,omitempty"`
	BPFFS    FSObservation                `json:"bpffs"`
	Features map[string]FeatureResult     `json:"features"`
	Maps     map[string][]MapObservation  `json:"maps"` // by MapSpec.Name; globs may hold many
	Devices  map[string]DeviceObservation `json:"devices"`
	// Endpoints are the endpoint (lxc*) devices found on the node, by name.
	Endpoints map[string]DeviceObservation `json:"endpoints,omitempty"`
	// Pins are every map pinned under Spec.GlobalsDir: the identities programs' maps are
	// compared with.
	Pins    []MapObservation `json:"pins,omitempty"`
	PinsErr string           `json:"pinsError,omitempty"`
	// TCX: the kernel answers tcx queries (Linux >= 6.6).
	TCX bool `json:"tcx"`
	// PossibleCPUs is the kernel's possible CPU count (distributed LRU rounding).
	PossibleCPUs int `json:"possibleCPUs"`
	// HostIPv6: the host has IPv6 (net.ipv6.conf.all.forwarding is readable), so Cilium attaches
	// its IPv6 socket programs even when only IPv4 is enabled.
	HostIPv6 bool               `json:"hostIPv6"`
	SocketLB *CgroupObservation `json:"socketLB,omitempty"`
	Probes   []ProbeResult      `json:"probes,omitempty"`
}

// FSObservation is the statfs result for the bpffs root (or the cgroup root).
type FSObservation struct {
	Path  string `json:"path"`
	Magic int64  `json:"magic"`
	Err   string `json:"error,omitempty"`
}

// BPFFSMagic is BPF_FS_MAGIC, CgroupV2Magic CGROUP2_SUPER_MAGIC (include/uapi/linux/magic.h).
const (
	BPFFSMagic    = 0xcafe4a11
	CgroupV2Magic = 0x63677270
)

// FeatureResult is a kernel feature probe: Supported, or why not.
type FeatureResult struct {
	Supported bool   `json:"supported"`
	Detail    string `json:"detail,omitempty"`
}

// MapObservation is one pinned map as the kernel reports it.
type MapObservation struct {
	PinPath    string `json:"pinPath"`
	Present    bool   `json:"present"`
	Err        string `json:"error,omitempty"`
	ID         uint32 `json:"id,omitempty"`
	Name       string `json:"name,omitempty"` // kernel name (15 characters at most)
	Type       string `json:"type,omitempty"`
	KeySize    uint32 `json:"keySize,omitempty"`
	ValueSize  uint32 `json:"valueSize,omitempty"`
	MaxEntries uint32 `json:"maxEntries,omitempty"`
	Flags      uint32 `json:"flags,omitempty"`
	// Inner holds a sample of a map-in-map's inner maps (looked up through its entries).
	Inner    []MapObservation `json:"inner,omitempty"`
	InnerErr string           `json:"innerError,omitempty"`
}

// DeviceObservation is what is attached to one network device.
type DeviceObservation struct {
	Name    string `json:"name"`
	Exists  bool   `json:"exists"`
	Ifindex int    `json:"ifindex,omitempty"`
	Err     string `json:"error,omitempty"`
	// Ingress and Egress are in the order the kernel runs them: the tcx chain, then the legacy tc
	// filters by priority.
	Ingress []Program `json:"ingress,omitempty"`
	Egress  []Program `json:"egress,omitempty"`
	XDP     *Program  `json:"xdp,omitempty"`
	// Attach is how ingress/egress were read: "tcx+tc" (tcx links and legacy tc filters), or
	// "tc" on a kernel without tcx; a part that could not be read is left out (see Err).
	Attach string `json:"attach,omitempty"`
	// PinnedLinks are the links under Cilium's per-device links directory, by file name.
	PinnedLinks map[string]LinkPin `json:"pinnedLinks,omitempty"`
	LinksErr    string             `json:"linksError,omitempty"`
}

// Program is one attached program.
type Program struct {
	ID     uint32 `json:"id"`
	Name   string `json:"name"`
	Tag    string `json:"tag,omitempty"`
	Type   string `json:"type,omitempty"`
	LinkID uint32 `json:"linkID,omitempty"`
	// Attach is "tcx", "tc" (legacy filter), "xdp" or "cgroup".
	Attach string `json:"attach,omitempty"`
	// Prio and Filter describe a legacy tc filter (priority, name).
	Prio   uint16 `json:"prio,omitempty"`
	Filter string `json:"filter,omitempty"`
	// Mode is an XDP program's attach mode: driver, generic (skb), offload or multi.
	Mode string   `json:"mode,omitempty"`
	Maps []MapRef `json:"maps,omitempty"`
	Err  string   `json:"error,omitempty"`
}

// MapRef is a map a program uses.
type MapRef struct {
	ID        uint32 `json:"id"`
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
	KeySize   uint32 `json:"keySize,omitempty"`
	ValueSize uint32 `json:"valueSize,omitempty"`
}

// LinkPin is a pinned bpf_link.
type LinkPin struct {
	Path      string `json:"path"`
	LinkID    uint32 `json:"linkID,omitempty"`
	ProgramID uint32 `json:"programID,omitempty"`
	Err       string `json:"error,omitempty"`
}

// CgroupObservation is the cgroup root Cilium attaches its socket-LB programs to.
type CgroupObservation struct {
	FS FSObservation `json:"fs"`
	// Hooks holds the programs attached at the root, by attach type (ebpf.AttachType.String()).
	Hooks       map[string][]Program `json:"hooks,omitempty"`
	PinnedLinks map[string]LinkPin   `json:"pinnedLinks,omitempty"`
	Err         string               `json:"error,omitempty"`
}

// ProbeResult is one run of enigate's probe on a native device: Arrived counts packets at the
// head of the tcx ingress chain, Reached is how often Cilium's ingress program ran meanwhile
// (its run count, with kernel BPF statistics on for the window).
type ProbeResult struct {
	Device  string `json:"device"`
	Window  string `json:"window"`
	Arrived uint64 `json:"arrived"`
	Reached uint64 `json:"reached"`
	Program string `json:"program,omitempty"` // Cilium's program, name#id
	// NoCounter: the kernel has no tcx, so arrivals were not counted (Reached alone decides).
	NoCounter bool   `json:"noCounter,omitempty"`
	Err       string `json:"error,omitempty"`
}
