package datapath

// chartDefaults are the Cilium chart defaults enigate needs when the rendered values leave a key
// out, per chart minor version.
//
// Provenance: cilium/charts packaged values.yaml of cilium-1.18.12 (charts commit ee5ca22d),
// cilium-1.19.6 (3934d0b7) and cilium-1.20.0 (d5f3d1cc): bpf.root, bpf.lbMapMax,
// bpf.policyMapMax, loadBalancer.acceleration, kubeProxyReplacement, ipv4.enabled, ipv6.enabled,
// bpf.enableTCX, bpf.preallocateMaps, bpf.distributedLRU.enabled, nodePort.bindProtection,
// cgroup.hostRoot.
// Keys the values files leave unset are agent defaults (cilium/cilium pkg/option/config.go and
// the chart's cilium-configmap.yaml): bpf-map-dynamic-size-ratio 0.0025, maglev table size
// 16381, CT/NAT/neighbor maps sized dynamically from node memory.
var chartDefaults = map[string]chartDefault{
	"1.18": baseDefaults,
	"1.19": baseDefaults,
	"1.20": baseDefaults,
}

type chartDefault struct {
	BPFRoot              string
	LBMapMax             int
	PolicyMapMax         int
	Acceleration         string
	KubeProxyReplacement bool
	IPv4, IPv6           bool
	DynamicSizeRatio     float64
	MaglevTableSize      int
	LBAlgorithm          string
	EnableTCX            bool
	PreallocateMaps      bool
	DistributedLRU       bool
	BindProtection       bool
	CgroupRoot           string
}

var baseDefaults = chartDefault{
	BPFRoot:              "/sys/fs/bpf",
	LBMapMax:             65536,
	PolicyMapMax:         16384,
	Acceleration:         "disabled",
	KubeProxyReplacement: false,
	IPv4:                 true,
	IPv6:                 false,
	DynamicSizeRatio:     0.0025,
	MaglevTableSize:      16381,
	LBAlgorithm:          "random",
	EnableTCX:            true,
	PreallocateMaps:      false,
	DistributedLRU:       false,
	BindProtection:       true,
	CgroupRoot:           "/run/cilium/cgroupv2",
}

// Limits Cilium applies when it sizes CT, NAT and neighbor maps from node memory
// (cilium/cilium pkg/option/config.go: LimitTableAutoGlobalTCPMin, LimitTableAutoGlobalAnyMin,
// LimitTableAutoNatGlobalMin, LimitTableMax). The observed size must fall in [min, max].
const (
	dynCTTCPMin = 1 << 17
	dynCTAnyMin = 1 << 16
	dynNATMin   = 1 << 17
	dynTableMax = 1 << 24
)

// kernelNameLen is BPF_OBJ_NAME_LEN-1: the kernel keeps 15 characters of a map or program name.
const kernelNameLen = 15

// KernelName is name as the kernel stores it for a map or program.
func KernelName(name string) string {
	if len(name) > kernelNameLen {
		return name[:kernelNameLen]
	}
	return name
}
