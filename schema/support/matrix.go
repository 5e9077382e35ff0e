// Package support is enigate's support matrix, as data: for each supported Cilium chart the
// Kubernetes minors and the Gateway API release (and channels) it works with, the eksctl,
// Karpenter and cert-manager releases and the Kubernetes minors each works with, and the
// combinations known to break, each naming its upstream issue and the nearest working pin.
// Every row cites where upstream says so. The EKS support calendar is schema/eksdata.
//
// The data is pure; Check judges a version lock without I/O, for render and the upgrade plan.
package support

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Cilium is one supported Cilium chart version.
type Cilium struct {
	// Version is the chart version: the newest patch of its minor whose module the Go module
	// proxy and checksum database serve, so its chart can be fetched and verified
	// (schema/upstream/data/cilium holds its values schema).
	Version string
	// Kubernetes are the minors upstream end-to-end tests this release on.
	Kubernetes []string
	// GatewayAPI is the Gateway API minor the release implements ("v1.6"); Pin is the release
	// enigate vendors and renders for it (generators/crds/data/gateway-api).
	GatewayAPI, GatewayAPIPin string
	// Channels are the Gateway API release channels the release works with.
	Channels []string
	// ExperimentalTLSRoute: the operator watches TLSRoute at v1alpha2, which only the
	// experimental channel serves; with the standard channel the render adds that CRD.
	ExperimentalTLSRoute bool
	// RequiredCRDs are the Gateway API kinds and versions the operator must find served, or it
	// never starts its Gateway API controller.
	RequiredCRDs []string
	// Sources: where upstream says all of the above.
	Sources []string
	// UpgradeNotes are what changes for an enigate environment when it moves to this release
	// from the previous minor.
	UpgradeNotes []Note
}

// Note is an upstream change an upgrade plan reports, with where upstream says so.
type Note struct{ What, Upstream string }

// Minor is the release's minor ("1.20").
func (c Cilium) Minor() string { return Minor(c.Version) }

// Ciliums are the supported Cilium charts, oldest first.
var Ciliums = []Cilium{
	{
		Version:    "1.18.12",
		Kubernetes: []string{"1.30", "1.31", "1.32", "1.33"},
		GatewayAPI: "v1.4", GatewayAPIPin: "v1.4.1", Channels: []string{"standard", "experimental"},
		ExperimentalTLSRoute: true,
		RequiredCRDs:         []string{"gatewayclasses/v1", "gateways/v1", "httproutes/v1", "grpcroutes/v1", "referencegrants/v1beta1", "tlsroutes/v1alpha2"},
		Sources: []string{
			"docs.cilium.io/en/v1.18: network/kubernetes/compatibility and network/servicemesh/gateway-api (the module proxy does not serve v1.18.12; 1.18.11 is the newest 1.18 it serves with a checksum record)",
			"the chart is the packaged release cilium-1.18.12.tgz (cilium/charts ee5ca22d), rendered by test/helm from test/helm/testdata",
		},
	},
	{
		Version:    "1.19.7",
		Kubernetes: []string{"1.32", "1.33", "1.34", "1.35"},
		GatewayAPI: "v1.4", GatewayAPIPin: "v1.4.1", Channels: []string{"standard", "experimental"},
		ExperimentalTLSRoute: true,
		RequiredCRDs:         []string{"gatewayclasses/v1", "gateways/v1", "httproutes/v1", "grpcroutes/v1", "referencegrants/v1beta1"},
		Sources: []string{
			"cilium/cilium v1.19.7 Documentation/network/kubernetes/compatibility.rst (Kubernetes 1.32-1.35) and .github/actions/eks/k8s-versions.yaml (EKS 1.32-1.35)",
			"cilium/cilium v1.19.7 Documentation/network/servicemesh/gateway-api/installation.rst (Gateway API v1.4.1 standard CRDs, TLSRoute from experimental)",
			"cilium/cilium v1.19.7 operator/pkg/gateway-api/cell.go (requiredGVKs; optional TLSRoute v1alpha2, checkCRD matches a listed version even when it is not served)",
			"v1.19.8 is released, but the module proxy serves no go.mod and the checksum database no record for it, so its chart cannot be verified here; 1.19.7 is the newest verifiable 1.19 patch",
		},
		UpgradeNotes: []Note{
			{"--aws-pagination-enabled is deprecated for --aws-max-results-per-call (default 0: unpaginated)",
				"cilium/cilium v1.19.7 Documentation/operations/upgrade.rst (1.19 Upgrade Notes)"},
			{"--egress-multi-home-ip-rule-compat is removed: ENI IPAM nodes must have migrated to the new-style IP rules before 1.19",
				"cilium/cilium v1.19.7 Documentation/operations/upgrade.rst (1.19 Upgrade Notes)"},
		},
	},
	{
		Version:    "1.20.2",
		Kubernetes: []string{"1.33", "1.34", "1.35", "1.36"},
		GatewayAPI: "v1.6", GatewayAPIPin: "v1.6.3", Channels: []string{"standard", "experimental"},
		RequiredCRDs: []string{"gatewayclasses/v1", "gateways/v1", "httproutes/v1", "grpcroutes/v1", "tlsroutes/v1", "referencegrants/v1", "backendtlspolicies/v1"},
		Sources: []string{
			"cilium/cilium v1.20.2 Documentation/network/kubernetes/compatibility.rst (Kubernetes 1.33-1.36) and .github/actions/eks/k8s-versions.yaml (EKS 1.33-1.35)",
			"cilium/cilium v1.20.2 Documentation/conf.py (gateway_api_version v1.6.1), go.mod (sigs.k8s.io/gateway-api v1.6.1), Documentation/network/servicemesh/gateway-api/installation.rst",
			"cilium/cilium v1.20.2 operator/pkg/gateway-api/helpers/schemes.go (RequiredGVKs, all at v1; ListenerSet, TCPRoute, UDPRoute optional at v1)",
			"sigs.k8s.io/gateway-api v1.6.3 differs from v1.6.1 in CRD descriptions only (config/crd)",
			"v1.20.2 over v1.20.0: ENI prefix delegation recomputes the allocatable addresses when a subnet runs out of /28 prefixes and no longer counts " +
				"a secondary address inside a delegated prefix twice (pkg/aws/ipam/node.go, pkg/ipam/eni.go); pkg/maps, the Gateway API checks and the chart's keys are unchanged",
		},
		UpgradeNotes: []Note{
			{"ENI IPAM moves to the multi-pool allocator: agents read their ENIs' addresses and /28 prefixes from CiliumNode status.eni.enis, " +
				"write their demand to spec.ipam.pools.requested (in use + pre-allocate) and no longer write status.ipam.used. " +
				"Pod addresses per node are unchanged: secondary addresses count one each, delegated /28 prefixes all 16 (first and last allowed), " +
				"pre-allocate is still spec.ipam.pre-allocate (ipam.nodeSpec.ipamPreAllocate), so the capacity model and max pods stay as rendered",
				"cilium/cilium#45154; v1.20.2 pkg/ipam/eni.go (eniPoolAccessor, newENIMultiPoolAllocators), pkg/ipam/multipool_manager.go (ciliumNodeUpdated)"},
			{"TLSRoute moves to v1: objects stored at v1alpha2 or v1alpha3 are unreadable under the standard v1.6 TLSRoute CRD (it does not serve them); " +
				"back them up and keep the experimental TLSRoute CRD until they are rewritten at v1",
				"cilium/cilium v1.20.2 Documentation/operations/upgrade-current.inc (Action Required)"},
			{"operator metrics cilium_operator_ipam_ips and cilium_operator_ipam_available_interfaces are removed " +
				"(use cilium_operator_ipam_available_ips, _used_ips, _needed_ips, _interface_candidates, _empty_interface_slots)",
				"cilium/cilium v1.20.2 Documentation/operations/upgrade-current.inc (Removed Metrics)"},
			{"CiliumNode spec.eni.pre-allocate, min-allocate, max-above-watermark and instance-id are removed (spec.ipam.* and spec.instance-id remain)",
				"cilium/cilium v1.20.2 Documentation/operations/upgrade-current.inc (Removed CRD Fields)"},
		},
	},
}

// Breakage is a combination upstream reports broken.
type Breakage struct {
	// Cilium minor and the Gateway API minors (and channel, "" for any) that break together.
	Cilium     string
	GatewayAPI []string
	Channel    string
	// What happens and where upstream reports it.
	What, Upstream string
}

// Pin is the nearest working pin: the Gateway API release this Cilium minor implements, or the
// newest Cilium that implements the Gateway API minor asked for.
func (b Breakage) Pin() string {
	var same, other *Cilium
	for i := range Ciliums {
		c := &Ciliums[i]
		switch {
		case c.Minor() == b.Cilium:
			same = c
		case slices.Contains(b.GatewayAPI, c.GatewayAPI):
			other = c
		}
	}
	var pins []string
	if same != nil {
		pins = append(pins, fmt.Sprintf("gatewayAPI %s with cilium %s", same.GatewayAPIPin, same.Version))
	}
	if other != nil {
		pins = append(pins, fmt.Sprintf("cilium %s with gatewayAPI %s", other.Version, other.GatewayAPIPin))
	}
	return strings.Join(pins, ", or ")
}

// Breakages are the known-breaking combinations, checked before the general rule that the
// Gateway API minor must be the one the Cilium release implements.
var Breakages = []Breakage{
	{
		Cilium: "1.19", GatewayAPI: []string{"v1.5", "v1.6", "v1.7"}, Channel: "standard",
		What:     "the operator crashes at start: the standard channel lists TLSRoute v1alpha2 but no longer serves it, and the 1.19 operator watches v1alpha2",
		Upstream: "cilium/cilium#44920, cilium/cilium#45139, kubernetes-sigs/kubespray#13222",
	},
	{
		Cilium: "1.20", GatewayAPI: []string{"v1.0", "v1.1", "v1.2", "v1.3", "v1.4"},
		What:     "the operator requires TLSRoute, ReferenceGrant and BackendTLSPolicy served at v1; without them it silently does not start its Gateway API controller and every HTTPS listener resets (no certificate is synced to Envoy)",
		Upstream: "cilium/cilium v1.20.2 operator/pkg/gateway-api/helpers/schemes.go RequiredGVKs, Documentation/network/servicemesh/gateway-api/installation.rst",
	},
}

// Tool is a release of a component that runs beside Cilium and the Kubernetes minors upstream
// tests it on.
type Tool struct {
	// Version is a release ("0.230.0") or a minor with ".x" ("v1.20.x").
	Version    string
	Kubernetes []string
	Source     string
}

// Eksctl releases: eksctl asks EKS (DescribeClusterVersions) which minors exist; the minors it
// knows by name are the ones it is built and tested for.
var Eksctl = []Tool{
	{"0.230.0", minors("1.23", "1.35"), "eksctl-io/eksctl v0.230.0 pkg/apis/eksctl.io/v1alpha5/types.go (Version1_23 to Version1_35, DefaultVersion 1.34)"},
}

// Karpenter minors (Karpenter's own compatibility matrix; enigate installs Karpenter through
// eksctl).
var Karpenter = []Tool{
	{"1.13.x", minors("1.26", "1.36"), "aws/karpenter-provider-aws v1.15.2 hack/docs/compatibilitymatrix_gen/compatibility.yaml"},
	{"1.14.x", minors("1.26", "1.36"), "aws/karpenter-provider-aws v1.15.2 hack/docs/compatibilitymatrix_gen/compatibility.yaml"},
}

// CertManager minors: the kind node images upstream's end-to-end tests run on.
var CertManager = []Tool{
	{"v1.19.x", minors("1.31", "1.34"), "cert-manager/cert-manager v1.19.1 make/cluster.sh (kind images 1.31-1.34)"},
	{"v1.20.x", minors("1.31", "1.35"), "cert-manager/cert-manager v1.20.2 make/cluster.sh (kind images 1.31-1.35)"},
	{"v1.21.x", minors("1.33", "1.36"), "cert-manager/cert-manager v1.21.2 make/cluster.sh (kind images 1.33-1.36)"},
}

// minors lists the Kubernetes minors from..to ("1.31".."1.34").
func minors(from, to string) []string {
	f, t := MinorNumber(from), MinorNumber(to)
	var out []string
	for i := f; i <= t; i++ {
		out = append(out, "1."+strconv.Itoa(i))
	}
	return out
}

// MinorNumber is y of "1.y", "1.y.z" or "v1.y.z"; -1 if s is not of that form.
func MinorNumber(s string) int {
	s = strings.TrimPrefix(s, "v")
	major, rest, ok := strings.Cut(s, ".")
	if !ok || major != "1" {
		return -1
	}
	rest, _, _ = strings.Cut(rest, ".")
	n, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return n
}

// Minor is the minor of a version: "1.20" of "1.20.2", "v1.6" of "v1.6.3"; the version itself
// when it has no patch part.
func Minor(version string) string {
	if i := strings.IndexByte(version, '.'); i >= 0 {
		if j := strings.IndexByte(version[i+1:], '.'); j >= 0 {
			return version[:i+1+j]
		}
	}
	return version
}

// CiliumVersions are the supported Cilium chart versions, oldest first.
func CiliumVersions() []string {
	out := make([]string, len(Ciliums))
	for i, c := range Ciliums {
		out[i] = c.Version
	}
	return out
}

// LookupCilium returns the row of a supported chart version.
func LookupCilium(version string) (Cilium, bool) {
	i := slices.IndexFunc(Ciliums, func(c Cilium) bool { return c.Version == version })
	if i < 0 {
		return Cilium{}, false
	}
	return Ciliums[i], true
}

// ExperimentalTLSRoute reports whether a standard-channel install for this Cilium chart needs
// the experimental TLSRoute CRD added.
func ExperimentalTLSRoute(ciliumVersion string) bool {
	c, ok := LookupCilium(ciliumVersion)
	return ok && c.ExperimentalTLSRoute
}

// lookupTool returns the row of tools matching version: equal, or by minor for "x.y.x" rows.
func lookupTool(tools []Tool, version string) (Tool, bool) {
	for _, t := range tools {
		if t.Version == version || strings.HasSuffix(t.Version, ".x") && Minor(version) == strings.TrimSuffix(t.Version, ".x") {
			return t, true
		}
	}
	return Tool{}, false
}

func toolVersions(tools []Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Version
	}
	return out
}

// MaglevTableSizes are the primes Cilium accepts for maglev.tableSize (cilium/cilium
// pkg/maglev SupportedPrimes, the same in 1.18, 1.19 and 1.20).
var MaglevTableSizes = []int{251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071}
