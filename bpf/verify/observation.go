package verify

// Observation is what the node showed, as plain data: the observer fills it at the kernel edge,
// Diff compares it with a Spec. Error strings record what could not be read.
type Observation struct {
	Node     string                       `json:"node,omitempty"`
	Kernel   string                       `json:"kernel,omitempty"`
	BPFFS    FSObservation                `json:"bpffs"`
	Features map[string]FeatureResult     `json:"features"`
	Maps     map[string][]MapObservation  `json:"maps"` // by MapSpec.Name; globs may hold many
	Devices  map[string]DeviceObservation `json:"devices"`
	Probes   []ProbeResult                `json:"probes,omitempty"`
}

// FSObservation is the statfs result for the bpffs root.
type FSObservation struct {
	Path  string `json:"path"`
	Magic int64  `json:"magic"`
	Err   string `json:"error,omitempty"`
}

// BPFFSMagic is BPF_FS_MAGIC (include/uapi/linux/magic.h).
const BPFFSMagic = 0xcafe4a11

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
	// Inner holds a sample of a map-in-map's inner maps (looked up through its entries).
	Inner    []MapObservation `json:"inner,omitempty"`
	InnerErr string           `json:"innerError,omitempty"`
}

// DeviceObservation is what is attached to one network device.
type DeviceObservation struct {
	Name    string    `json:"name"`
	Exists  bool      `json:"exists"`
	Ifindex int       `json:"ifindex,omitempty"`
	Err     string    `json:"error,omitempty"`
	Ingress []Program `json:"ingress,omitempty"`
	Egress  []Program `json:"egress,omitempty"`
	XDP     *Program  `json:"xdp,omitempty"`
	// Attach is how ingress/egress were read: "tcx+tc" (tcx links and legacy tc filters), or
	// "tc" on a kernel without tcx; a part that could not be read is left out (see Err).
	Attach string `json:"attach,omitempty"`
	// PinnedLinks are the links under Cilium's per-device links directory, by file name.
	PinnedLinks map[string]LinkPin `json:"pinnedLinks,omitempty"`
}

// Program is one attached program.
type Program struct {
	ID     uint32   `json:"id"`
	Name   string   `json:"name"`
	Type   string   `json:"type,omitempty"`
	LinkID uint32   `json:"linkID,omitempty"`
	Attach string   `json:"attach,omitempty"` // "tcx" or "tc" (legacy filter); empty for XDP
	Maps   []MapRef `json:"maps,omitempty"`
	Err    string   `json:"error,omitempty"`
}

// MapRef is a map a program uses.
type MapRef struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// LinkPin is a pinned bpf_link.
type LinkPin struct {
	Path      string `json:"path"`
	LinkID    uint32 `json:"linkID,omitempty"`
	ProgramID uint32 `json:"programID,omitempty"`
	Err       string `json:"error,omitempty"`
}

// ProbeResult is one run of enigate's packet-counting probe.
type ProbeResult struct {
	Device  string `json:"device"`
	Window  string `json:"window"`
	Packets uint64 `json:"packets"`
	Err     string `json:"error,omitempty"`
}
