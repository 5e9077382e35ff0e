package datapath

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/schema/upstream"
)

// chartDefault is what the datapath takes when the rendered values leave a key out.
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
	BPFMasquerade        bool
	EnableTCX            bool
	PreallocateMaps      bool
	DistributedLRU       bool
	SocketLB             bool
	BindProtection       bool
	CgroupRoot           string
}

// Defaults the chart's values.yaml leaves unset, stated by the templates or the agent instead.
const (
	// install/kubernetes/cilium/templates/cilium-configmap.yaml $defaultBpfMapDynamicSizeRatio (cilium/cilium v1.19.6, v1.20.2).
	defaultDynamicSizeRatio = 0.0025
	// pkg/maglev/maglev.go DefaultTableSize (cilium/cilium v1.19.6, v1.20.2).
	defaultMaglevTableSize = 16381
	// pkg/loadbalancer/config.go DefaultConfig LBAlgorithm: LBAlgorithmRandom (cilium/cilium v1.19.6, v1.20.2).
	defaultLBAlgorithm = "random"
	// cilium-configmap.yaml $defaultBpfMasquerade "false" from upgradeCompatibility 1.10 on (cilium/cilium v1.19.6, v1.20.2).
	defaultBPFMasquerade = false
)

// chartDefaultsFrom reads the defaults from a chart's values.yaml; a key it lacks is an error,
// so that a chart which drops one is noticed when it is vendored.
func chartDefaultsFrom(valuesYAML []byte) (chartDefault, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(valuesYAML, &doc); err != nil {
		return chartDefault{}, err
	}
	r := reader{doc: doc, root: "chart", required: true}
	d := chartDefault{
		BPFRoot:              r.str("bpf.root", ""),
		LBMapMax:             r.intv("bpf.lbMapMax", 0),
		PolicyMapMax:         r.intv("bpf.policyMapMax", 0),
		Acceleration:         r.str("loadBalancer.acceleration", ""),
		KubeProxyReplacement: r.boolish("kubeProxyReplacement", false),
		IPv4:                 r.boolish("ipv4.enabled", false),
		IPv6:                 r.boolish("ipv6.enabled", false),
		EnableTCX:            r.boolish("bpf.enableTCX", false),
		PreallocateMaps:      r.boolish("bpf.preallocateMaps", false),
		DistributedLRU:       r.boolish("bpf.distributedLRU.enabled", false),
		SocketLB:             r.boolish("socketLB.enabled", false),
		BindProtection:       r.boolish("nodePort.bindProtection", false),
		CgroupRoot:           r.str("cgroup.hostRoot", ""),
		DynamicSizeRatio:     defaultDynamicSizeRatio,
		MaglevTableSize:      defaultMaglevTableSize,
		LBAlgorithm:          defaultLBAlgorithm,
		BPFMasquerade:        defaultBPFMasquerade,
	}
	if len(r.errs) > 0 {
		return d, errors.New(strings.Join(problem.Lines(r.errs), "; "))
	}
	return d, nil
}

// vendoredChart is the supported chart whose values.yaml holds version's defaults: version
// itself, or the supported patch of its minor (the support matrix pins one per minor).
func vendoredChart(version string) (string, bool) {
	for _, c := range support.Ciliums {
		if c.Version == version {
			return version, true
		}
	}
	for i := len(support.Ciliums) - 1; i >= 0; i-- {
		if c := support.Ciliums[i]; c.Minor() == support.Minor(version) {
			return c.Version, true
		}
	}
	return "", false
}

var chartDefaultsCache sync.Map // vendored chart version -> chartDefault

// chartDefaults returns the defaults of a vendored chart version, read once.
func chartDefaults(version string) (chartDefault, error) {
	if d, ok := chartDefaultsCache.Load(version); ok {
		return d.(chartDefault), nil
	}
	b, err := upstream.CiliumChartValues(version)
	if err != nil {
		return chartDefault{}, err
	}
	d, err := chartDefaultsFrom(b)
	if err != nil {
		return chartDefault{}, fmt.Errorf("cilium chart %s values.yaml: %w", version, err)
	}
	chartDefaultsCache.Store(version, d)
	return d, nil
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
