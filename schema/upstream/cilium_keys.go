package upstream

import (
	"fmt"
	"strings"
)

// templateKey is a Helm value the chart templates read although neither the
// chart's values.schema.json nor its values.yaml declares it (it is only
// documented as a comment in values.yaml, or not at all). Everything below
// the key is accepted as is. since/until bound the chart minors that read it
// (until is exclusive; "" leaves the bound open).
type templateKey struct {
	path         string
	since, until string
}

// ciliumTemplateKeys is the allow-list of template-only keys. It was built
// from the .Values reads of cilium/cilium
// install/kubernetes/cilium/templates/cilium-configmap.yaml (a 1.19-era
// revision), keeping the reads absent from a supported version's schema and
// values.yaml; each was cross-checked against the commented examples in that
// version's values.yaml. Keys a version's schema declares need no entry.
var ciliumTemplateKeys = []templateKey{
	// Load balancing: documented in values.yaml only as comments.
	{path: "loadBalancer.algorithm"},
	{path: "loadBalancer.mode"},
	{path: "loadBalancer.dsrDispatch"},
	{path: "loadBalancer.standalone"},
	{path: "loadBalancer.serviceTopology"},
	{path: "maglev.tableSize"},
	{path: "maglev.hashSeed"},
	{path: "nodePort.range"},
	{path: "nodePort.directRoutingDevice"},
	{path: "socketLB.hostNamespaceOnly"},
	{path: "socketLB.terminatePodConnections"},
	{path: "socketLB.tracing"},
	{path: "hostServices"}, // legacy name of socketLB, still coalesced by the template
	// Agent options.
	{path: "labels"},
	{path: "nodeLabels"},
	{path: "devices"},
	{path: "egressMasqueradeInterfaces"},
	{path: "enableIdentityMark"},
	{path: "enableTunnelBIGTCP", since: "1.19"},
	{path: "fragmentTracking"},
	{path: "iptablesLockTimeout"},
	{path: "disableIptablesFeederRules"},
	{path: "disableEnvoyVersionCheck"},
	{path: "dnsPolicyUnloadOnShutdown"},
	{path: "dnsProxy.enableTransparentMode"},
	{path: "policyAuditMode"},
	{path: "clusterHealthPort"},
	{path: "logOptions"},
	{path: "ipMasqAgent.config"},
	{path: "egressGateway.maxPolicyEntries"},
	{path: "l2announcements.leaseDuration"},
	{path: "k8s.apiServerURLs"},
	{path: "k8s.serviceProxyName"},
	{path: "cni.readCniConf"},
	{path: "cni.externalRouting"},
	{path: "azure.usePrimaryAddress"},
	{path: "azure.userAssignedIdentityID"},
	// Hubble.
	{path: "hubble.eventQueueSize"},
	{path: "hubble.eventBufferCapacity"},
	{path: "hubble.lostEventSendInterval", since: "1.19"},
	{path: "hubble.export.fileMaxSizeMb"},
	{path: "hubble.export.fileMaxBackups"},
	{path: "hubble.export.fileCompress"},
	{path: "hubble.export.aggregationInterval"},
	{path: "hubble.export.static.aggregationInterval"},
}

// removedKey is a key users write (often from old guides) that the chart
// does not read, with the reason and what to use instead.
type removedKey struct {
	path string
	// why returns the parenthesised explanation for the given chart minor.
	why func(minor string) string
}

var ciliumRemovedKeys = []removedKey{
	{path: "eni.updateEC2AdapterLimitViaAPI", why: func(string) string {
		return "removed in 1.18; not read by the chart"
	}},
	{path: "enableXDPPrefilter", why: func(string) string {
		return "not a chart value; XDP acceleration is loadBalancer.acceleration: native|best-effort, the prefilter is extraConfig enable-xdp-prefilter: \"true\""
	}},
	{path: "xdp", why: func(string) string {
		return "not a chart value (there is no xdp.mode); XDP acceleration is loadBalancer.acceleration: disabled|native|best-effort"
	}},
	{path: "loadBalancer.maglev", why: func(string) string {
		return "ignored under loadBalancer; use top-level maglev.tableSize and maglev.hashSeed"
	}},
	{path: "eni.minAllocate", why: func(minor string) string { return ipamAllocateHint(minor, "min-allocate", "ipamMinAllocate") }},
	{path: "eni.preAllocate", why: func(minor string) string { return ipamAllocateHint(minor, "pre-allocate", "ipamPreAllocate") }},
	{path: "eni.maxAllocate", why: func(minor string) string { return ipamAllocateHint(minor, "max-allocate", "ipamMaxAllocate") }},
	{path: "kubeProxy", why: func(string) string {
		return "not a chart value; kube-proxy replacement is kubeProxyReplacement: true"
	}},
}

func ipamAllocateHint(minor, spec, value string) string {
	h := fmt.Sprintf("not a chart value; it is CiliumNode spec.ipam.%s, set through a custom CNI config", spec)
	if !minorBefore(minor, "1.19") {
		h += fmt.Sprintf(", or ipam.nodeSpec.%s since 1.19", value)
	}
	return h
}

// passthroughKey reports whether a key holds a Kubernetes object or a
// free-form map copied into manifests as is (toYaml), so its contents are
// not chart values and are never flagged.
func passthroughKey(name string) bool {
	l := strings.ToLower(name)
	switch l {
	case "affinity", "nodeselector", "tolerations", "resources", "securitycontext", "podsecuritycontext",
		"updatestrategy", "topologyspreadconstraints", "extraconfig", "extraenv", "env",
		"readinessprobe", "livenessprobe", "startupprobe", "dnsconfig":
		return true
	}
	for _, suffix := range []string{"annotations", "labels", "resources", "securitycontext", "affinity", "nodeselector", "tolerations"} {
		if strings.HasSuffix(l, suffix) {
			return true
		}
	}
	return false
}

// allowTree indexes the template-only keys of one chart minor.
type allowTree struct {
	exact    map[string]bool
	children map[string][]string // parent path ("" for top level) -> child names
}

func newAllowTree(minor string) allowTree {
	t := allowTree{exact: map[string]bool{}, children: map[string][]string{}}
	for _, k := range ciliumTemplateKeys {
		if k.since != "" && minorBefore(minor, k.since) {
			continue
		}
		if k.until != "" && !minorBefore(minor, k.until) {
			continue
		}
		t.exact[k.path] = true
		parent := ""
		for _, part := range strings.Split(k.path, ".") {
			t.children[parent] = appendUnique(t.children[parent], part)
			if parent == "" {
				parent = part
			} else {
				parent += "." + part
			}
		}
	}
	return t
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
