package checks

import (
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/upstream"
)

// DefaultMaglevSeed is Cilium's built-in hash seed: every cluster that keeps it shares it.
const DefaultMaglevSeed = "JLfvgnHc2kaSUFaI"

// MaglevTableSizes are the primes Cilium accepts for maglev.tableSize.
var MaglevTableSizes = []int64{251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071}

// XDPMaxMTU is the largest MTU at which the ENA driver runs XDP programs.
const XDPMaxMTU = 3498

// CiliumValues checks the merged Helm values (path: where values live, e.g. cilium.values)
// for ENI mode with kube-proxy replacement and the Gateway API: the chart's schema and keys for
// the pinned version, then the guide's mistakes and the cross-value rules.
func CiliumValues(env model.Environment, v map[string]any, path *field.Path) Report {
	var r Report
	if _, err := upstream.CiliumMinor(env.Versions.Cilium); err != nil {
		r.errorf(field.NewPath("versions", "cilium"), "chart %q is not supported (allowed: %s, the newest patch of each supported minor)",
			env.Versions.Cilium, strings.Join(upstream.CiliumChartVersions(), ", "))
		return r
	}
	r.Errors = append(r.Errors, upstream.ValidateCiliumValues(env.Versions.Cilium, v, path)...)

	// ENI IPAM implies eni.enabled and native routing.
	if mode := lookupString(v, "ipam", "mode"); mode != "eni" {
		r.errorf(pathOf(path, "ipam", "mode"), "is %q (ENI mode needs eni)", mode)
	}
	if on, _ := lookupBool(v, "eni", "enabled"); !on {
		r.errorf(pathOf(path, "eni", "enabled"), "is not true (ENI IPAM needs eni.enabled: true)")
	}
	if rm := lookupString(v, "routingMode"); rm != "native" {
		r.errorf(pathOf(path, "routingMode"), "is %q (ENI mode needs native; the chart default is tunnel)", rm)
	}
	if on, _ := lookupBool(v, "autoDirectNodeRoutes"); on {
		r.errorf(pathOf(path, "autoDirectNodeRoutes"), "is true (meaningless in ENI mode: the VPC routes pod addresses; leave it unset)")
	}
	if _, ok := lookup(v, "ipam", "operator", "clusterPoolIPv4PodCIDRList"); ok {
		r.errorf(pathOf(path, "ipam", "operator", "clusterPoolIPv4PodCIDRList"), "is set (ignored in ENI mode: pods get VPC addresses from ENIs; remove it)")
	}
	if cidr := lookupString(v, "ipv4NativeRoutingCIDR"); cidr != "" {
		if !covers(cidr, env.VPC.CIDR) {
			r.errorf(pathOf(path, "ipv4NativeRoutingCIDR"), "%q does not cover the VPC CIDR %s (it must cover every VPC CIDR)", cidr, env.VPC.CIDR)
		}
	}

	// No default add-ons means no kube-proxy: Cilium must replace it and reach the API
	// server directly. The Gateway API needs kube-proxy replacement too.
	if kpr, _ := lookup(v, "kubeProxyReplacement"); kpr != true && kpr != "true" {
		r.errorf(pathOf(path, "kubeProxyReplacement"), "is %v (kube-proxy is not installed: disableDefaultAddons needs kubeProxyReplacement: true, and so does gatewayAPI.enabled)", kpr)
	}
	if lookupString(v, "k8sServiceHost") == "" {
		r.errorf(pathOf(path, "k8sServiceHost"), "is empty (kube-proxy replacement needs the EKS API server host, without https://)")
	}

	// Load balancing.
	if mode := lookupString(v, "loadBalancer", "mode"); mode != "" && mode != "snat" {
		r.errorf(pathOf(path, "loadBalancer", "mode"), "is %q (ENI mode on AWS needs snat: DSR breaks on the source/destination check and does nothing for Envoy-terminated Gateway traffic)", mode)
	}
	switch acc := lookupString(v, "loadBalancer", "acceleration"); acc {
	case "native", "best-effort":
		mtu, _ := lookupInt(v, "MTU")
		if mtu == 0 || mtu > XDPMaxMTU {
			shown := "unset: EKS uses 9001"
			if mtu > 0 {
				shown = strconv.FormatInt(mtu, 10)
			}
			msg := "XDP on ENA needs an MTU <= 3498 and at most half the combined channels (MTU is " + shown + "; set MTU <= 3498 or acceleration: disabled)"
			if acc == "native" {
				r.errorf(pathOf(path, "loadBalancer", "acceleration"), "%s", msg)
			} else {
				r.warnf(pathOf(path, "loadBalancer", "acceleration"), "best-effort falls back to no XDP: %s", msg)
			}
		}
	}
	if lookupString(v, "loadBalancer", "algorithm") == "maglev" {
		r.Add(maglev(v, path))
	}

	// BPF map sizes: NAT entries need CT entries behind them.
	nat, okNat := lookupInt(v, "bpf", "natMax")
	ctTCP, okTCP := lookupInt(v, "bpf", "ctTcpMax")
	ctAny, okAny := lookupInt(v, "bpf", "ctAnyMax")
	if okNat && okTCP && okAny && 3*nat > 2*(ctTCP+ctAny) {
		r.errorf(pathOf(path, "bpf", "natMax"), "%d exceeds 2/3 of ctTcpMax+ctAnyMax (%d) (natMax <= 2/3 (ctTcpMax + ctAnyMax))", nat, 2*(ctTCP+ctAny)/3)
	}

	// Observability.
	r.Add(serviceMonitors(v, path))
	if metrics, ok := lookup(v, "hubble", "metrics", "enabled"); ok {
		open, _ := lookupBool(v, "hubble", "metrics", "enableOpenMetrics")
		if list, ok := metrics.([]any); ok && !open {
			for i, m := range list {
				if s, _ := m.(string); strings.Contains(s, "exemplars=true") {
					r.errorf(pathOf(path, "hubble", "metrics", "enabled").Index(i), "asks for exemplars but hubble.metrics.enableOpenMetrics is false (exemplars are exported only in OpenMetrics format)")
				}
			}
		}
	}
	return r
}

// maglev checks the top-level maglev block the chart reads.
func maglev(v map[string]any, path *field.Path) Report {
	var r Report
	size, ok := lookupInt(v, "maglev", "tableSize")
	if !ok {
		r.errorf(pathOf(path, "maglev", "tableSize"), "is not set (Maglev needs a prime table size > 100 x the largest backend count of a service; allowed: %s)", primes())
	} else if !slices.Contains(MaglevTableSizes, size) {
		r.errorf(pathOf(path, "maglev", "tableSize"), "%d is not one of Cilium's table sizes (allowed: %s)", size, primes())
	}
	seed := lookupString(v, "maglev", "hashSeed")
	sp := pathOf(path, "maglev", "hashSeed")
	switch {
	case seed == "":
		r.errorf(sp, "is empty (set a cluster-unique seed: base64 of 12 random bytes, e.g. `head -c12 /dev/urandom | base64`)")
	case seed == DefaultMaglevSeed:
		r.errorf(sp, "is Cilium's built-in default, shared by every cluster that keeps it (set base64 of 12 random bytes, 16 characters)")
	default:
		if b, err := base64.StdEncoding.DecodeString(seed); err != nil || len(b) != 12 || len(seed) != 16 {
			r.errorf(sp, "%q is not base64 of 12 bytes (16 characters, e.g. `head -c12 /dev/urandom | base64`)", seed)
		}
	}
	return r
}

func primes() string {
	s := make([]string, len(MaglevTableSizes))
	for i, p := range MaglevTableSizes {
		s[i] = strconv.FormatInt(p, 10)
	}
	return strings.Join(s, ", ")
}

// serviceMonitors: any enabled ServiceMonitor makes helm install fail unless the Prometheus
// Operator CRDs exist at install time or prometheus.serviceMonitor.trustCRDsExist is true.
func serviceMonitors(v map[string]any, path *field.Path) Report {
	var r Report
	if trust, _ := lookupBool(v, "prometheus", "serviceMonitor", "trustCRDsExist"); trust {
		return r
	}
	var walk func(m map[string]any, keys []string)
	walk = func(m map[string]any, keys []string) {
		for _, k := range sortedKeys(m) {
			sub, ok := m[k].(map[string]any)
			if !ok {
				continue
			}
			next := append(append([]string{}, keys...), k)
			if k == "serviceMonitor" {
				if on, _ := sub["enabled"].(bool); on {
					r.errorf(pathOf(path, append(next, "enabled")...), "is true but prometheus.serviceMonitor.trustCRDsExist is false (helm install fails unless the Prometheus Operator CRDs exist; set cilium.trustCRDsExist)")
				}
				continue
			}
			walk(sub, next)
		}
	}
	walk(v, nil)
	return r
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// covers reports whether CIDR outer contains CIDR inner.
func covers(outer, inner string) bool {
	o, err1 := netip.ParsePrefix(outer)
	i, err2 := netip.ParsePrefix(inner)
	if err1 != nil || err2 != nil {
		return false
	}
	return o.Bits() <= i.Bits() && o.Contains(i.Addr())
}
