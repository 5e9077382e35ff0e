package checks

import (
	"cmp"
	"encoding/base64"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/schema/upstream"
)

// DefaultMaglevSeed is Cilium's built-in hash seed: every cluster that keeps it shares it.
const DefaultMaglevSeed = "JLfvgnHc2kaSUFaI"

// XDPMaxMTU is the largest MTU at which the ENA driver runs XDP programs.
const XDPMaxMTU = 3498

// CiliumValues checks the merged Helm values (path: where values live, e.g. cilium.values)
// for ENI mode with kube-proxy replacement and the Gateway API: the chart's schema and keys for
// the pinned version, then the guide's mistakes and the cross-value rules.
func CiliumValues(env model.Environment, v map[string]any, path *field.Path) Report {
	var r Report
	if _, ok := support.LookupCilium(env.Versions.Cilium); !ok {
		return r // reported by Environment (the support matrix)
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
	r.Add(apiServer(v, path))
	r.Add(clusterIdentity(env, v, path))

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
	r.Add(serviceMonitors(env, v, path))
	r.Add(hubbleTLS(v, path))
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
	} else if !slices.Contains(support.MaglevTableSizes, int(size)) {
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
	s := make([]string, len(support.MaglevTableSizes))
	for i, p := range support.MaglevTableSizes {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// serviceMonitors: an enabled ServiceMonitor makes helm install fail unless the Prometheus
// Operator CRDs exist; the overlay's crds/ carries the ServiceMonitor CRD only when
// cilium.serviceMonitors is true, so no other value may enable one.
func serviceMonitors(env model.Environment, v map[string]any, path *field.Path) Report {
	var r Report
	if env.Cilium.ServiceMonitors {
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
					r.errorf(pathOf(path, append(next, "enabled")...), "is true but cilium.serviceMonitors is false (helm install fails without the Prometheus Operator CRDs, which crds/ carries only with cilium.serviceMonitors: true)")
				}
				continue
			}
			walk(sub, next)
		}
	}
	walk(v, nil)
	return r
}

// apiServer: without kube-proxy the agents reach the API server at k8sServiceHost, or at the
// host in the ConfigMap k8sServiceHostRef names; the chart fails when both are set.
func apiServer(v map[string]any, path *field.Path) Report {
	var r Report
	host := lookupString(v, "k8sServiceHost")
	refName := lookupString(v, "k8sServiceHostRef", "name")
	refKey := lookupString(v, "k8sServiceHostRef", "key")
	hp := pathOf(path, "k8sServiceHost")
	switch {
	case host != "" && refName != "" && refKey != "":
		r.errorf(hp, "is set together with k8sServiceHostRef (the chart fails: set only one)")
	case host == "" && (refName == "" || refKey == ""):
		r.errorf(hp, "is empty and k8sServiceHostRef is unset (kube-proxy replacement needs the EKS API server host, without https://: set cluster.apiServerHost)")
	case host == "auto":
		r.errorf(hp, "is auto (a Helm lookup of kube-public/cluster-info: `helm template`, as Argo CD renders, fails on it; set cluster.apiServerHost or leave it empty for k8sServiceHostRef)")
	case Placeholder(host):
		r.errorf(hp, "%q is a placeholder (set cluster.apiServerHost to the EKS endpoint host)", host)
	case strings.Contains(host, "/") || strings.Contains(host, ":"):
		r.errorf(hp, "%q is not a bare host (no scheme, path or port: the port is k8sServicePort)", host)
	}
	return r
}

// Placeholder reports whether s is a value left for a human to fill in (REPLACE-WITH-...,
// CHANGEME): never valid in a rendered or pushed file.
func Placeholder(s string) bool {
	u := strings.ToUpper(s)
	return strings.Contains(u, "REPLACE-WITH") || strings.Contains(u, "CHANGEME")
}

// clusterNameMax and the name pattern are Cilium's (1.19.6 pkg/clustermesh/types/types.go,
// ValidateClusterName): the agent refuses to start otherwise.
const clusterNameMax = 32

var clusterNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// clusterIdentity: cluster.name scopes the operator's ENI garbage collection and must be the
// EKS cluster's; cluster.id is declared and, in ENI mode, below 128.
func clusterIdentity(env model.Environment, v map[string]any, path *field.Path) Report {
	var r Report
	name := lookupString(v, "cluster", "name")
	np := pathOf(path, "cluster", "name")
	switch {
	case name == "" || name == "default":
		r.errorf(np, "is %q (Cilium's default: the operator then garbage-collects ENIs of every Cilium cluster it cannot tell apart; set the EKS cluster name)", name)
	case len(name) > clusterNameMax || !clusterNamePattern.MatchString(name):
		r.errorf(np, "%q is not a Cilium cluster name (lower case alphanumerics and '-', at most %d characters)", name, clusterNameMax)
	case name != env.Cluster.Name:
		r.errorf(np, "%q is not the EKS cluster name %q (ENI garbage collection is scoped by it)", name, env.Cluster.Name)
	}
	id, ok := lookupInt(v, "cluster", "id")
	ip := pathOf(path, "cluster", "id")
	switch {
	case !ok || id < 1 || id > 255:
		r.errorf(ip, "is %v (allowed: 1-127 in ENI mode, unique per environment)", id)
	case id >= 128:
		r.errorf(ip, "%d is rejected by the chart in ENI mode (cilium/cilium#21330 drops policy-matched traffic for cluster IDs 128-255; allowed: 1-127)", id)
	}
	return r
}

// hubbleTLS: method helm generates new certificates on every render (a GitOps controller
// never converges) and certmanager needs cert-manager's CRDs and pods, which need the CNI.
func hubbleTLS(v map[string]any, path *field.Path) Report {
	var r Report
	if on, ok := lookupBool(v, "hubble", "enabled"); ok && !on {
		return r
	}
	if on, ok := lookupBool(v, "hubble", "tls", "enabled"); ok && !on {
		return r
	}
	if on, ok := lookupBool(v, "hubble", "tls", "auto", "enabled"); ok && !on {
		return r
	}
	switch m := lookupString(v, "hubble", "tls", "auto", "method"); m {
	case "", "helm":
		r.errorf(pathOf(path, "hubble", "tls", "auto", "method"), "is %q (helm generates new certificates on every render, so Argo CD and Flux never converge; use cronJob)", cmp.Or(m, "helm"))
	case "certmanager":
		r.errorf(pathOf(path, "hubble", "tls", "auto", "method"), "is certmanager (its Certificates need cert-manager's CRDs when Cilium is installed, before any pod network exists; use cronJob)")
	}
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

// IDClash is an environment (Index) whose cilium.clusterID an earlier one (Other) already has.
type IDClash struct{ Index, Other int }

// DuplicateClusterIDs returns every environment whose cilium.clusterID an earlier one in envs
// already uses: environments rendered together must be told apart by Cilium (cluster mesh,
// identities in flows and metrics).
func DuplicateClusterIDs(envs []model.Environment) []IDClash {
	first := map[int]int{}
	var out []IDClash
	for i, e := range envs {
		if j, ok := first[e.Cilium.ClusterID]; ok {
			out = append(out, IDClash{Index: i, Other: j})
			continue
		}
		first[e.Cilium.ClusterID] = i
	}
	return out
}
