// Package cilium renders the Cilium Helm values for ENI mode with kube-proxy replacement and
// the Gateway API, deep-merged with the environment's overrides. Checks live in schema/checks.
package cilium

import (
	"strconv"

	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/schema/model"
)

// APIServerHostPlaceholder is rendered when the environment does not know its EKS endpoint yet;
// ROLLOUT.md passes the real host with --set at install time.
const APIServerHostPlaceholder = "REPLACE-WITH-EKS-ENDPOINT-HOST"

// Minor returns the chart's minor version ("1.19") of a chart version ("1.19.6").
func Minor(version string) string {
	dots := 0
	for i, c := range version {
		if c == '.' {
			dots++
			if dots == 2 {
				return version[:i]
			}
		}
	}
	return version
}

// hasNodeSpec reports whether the chart has eni.nodeSpec / ipam.nodeSpec (1.19 and later);
// older charts need a custom CNI configuration for these settings.
func hasNodeSpec(version string) bool {
	m := Minor(version)
	return m != "1.16" && m != "1.17" && m != "1.18"
}

// CustomCNIConfigMap is the ConfigMap holding the CNI configuration on charts without nodeSpec.
const CustomCNIConfigMap = "cilium-cni-configuration"

// NeedsCustomCNI reports whether the ENI settings must go through a custom CNI configuration.
func NeedsCustomCNI(env model.Environment) bool {
	return !hasNodeSpec(env.Versions.Cilium) &&
		(env.Cilium.FirstInterfaceIndex != 0 || env.Cilium.PreAllocate != 8)
}

// Values are the Helm values for env, overrides merged in.
func Values(env model.Environment) map[string]any {
	c := env.Cilium
	host := env.Cluster.APIServerHost
	if host == "" {
		host = APIServerHostPlaceholder
	}
	eni := map[string]any{
		"enabled":                   true,
		"awsEnablePrefixDelegation": c.PrefixDelegation,
		"awsReleaseExcessIPs":       true,
	}
	if env.Cluster.OperatorIdentity == "irsa" {
		eni["iamRole"] = env.Cluster.OperatorRoleARN
	}
	ipam := map[string]any{"mode": "eni"}
	if hasNodeSpec(env.Versions.Cilium) {
		eni["nodeSpec"] = map[string]any{"firstInterfaceIndex": c.FirstInterfaceIndex}
		ipam["nodeSpec"] = map[string]any{"ipamPreAllocate": c.PreAllocate}
	}
	lb := map[string]any{
		"mode":         c.LoadBalancerMode,
		"acceleration": c.Acceleration,
	}
	v := map[string]any{
		"eni":                   eni,
		"ipam":                  ipam,
		"routingMode":           "native",
		"ipv4NativeRoutingCIDR": env.VPC.CIDR,
		"kubeProxyReplacement":  true,
		"k8sServiceHost":        host,
		"k8sServicePort":        443,
		"gatewayAPI": map[string]any{
			"enabled": true,
			// enigate renders the GatewayClass with its CiliumGatewayClassConfig.
			"gatewayClass": map[string]any{"create": "false"},
		},
		"envoy":        map[string]any{"enabled": true},
		"loadBalancer": lb,
		"bpf":          bpf(c.BPF),
		"hubble":       hubble(c.Hubble, c.ServiceMonitors),
		"prometheus":   prometheus(c.ServiceMonitors, c.TrustCRDsExist),
		"operator": map[string]any{
			"replicas": c.OperatorReplicas,
			"prometheus": map[string]any{
				"enabled": true, "serviceMonitor": map[string]any{"enabled": c.ServiceMonitors},
			},
		},
	}
	if c.Maglev.Enabled {
		lb["algorithm"] = "maglev"
		v["maglev"] = map[string]any{"tableSize": c.Maglev.TableSize, "hashSeed": c.Maglev.HashSeed}
	}
	if NeedsCustomCNI(env) {
		v["cni"] = map[string]any{"customConf": true, "configMap": CustomCNIConfigMap}
	}
	return manifest.Merge(v, env.Overrides.CiliumValues)
}

func bpf(b model.BPF) map[string]any {
	m := map[string]any{
		"preallocateMaps":     b.PreallocateMaps,
		"mapDynamicSizeRatio": b.MapDynamicSizeRatio,
		"lbMapMax":            b.LBMapMax,
		"policyMapMax":        b.PolicyMapMax,
		"monitorAggregation":  b.MonitorAggregation,
	}
	// Zero leaves a size to mapDynamicSizeRatio.
	for k, n := range map[string]int{"ctTcpMax": b.CTTCPMax, "ctAnyMax": b.CTAnyMax, "natMax": b.NATMax, "neighMax": b.NeighMax} {
		if n > 0 {
			m[k] = n
		}
	}
	return m
}

func hubble(h model.Hubble, serviceMonitors bool) map[string]any {
	metrics := make([]any, len(h.Metrics))
	for i, m := range h.Metrics {
		metrics[i] = m
	}
	return map[string]any{
		"enabled": h.Enabled,
		"relay":   map[string]any{"enabled": h.Relay},
		"ui":      map[string]any{"enabled": h.UI},
		"metrics": map[string]any{
			"enabled":           metrics,
			"enableOpenMetrics": h.OpenMetrics,
			"serviceMonitor":    map[string]any{"enabled": serviceMonitors},
		},
	}
}

// prometheus is the agent's metrics block; its trustCRDsExist governs every ServiceMonitor.
func prometheus(serviceMonitors, trust bool) map[string]any {
	sm := map[string]any{"enabled": serviceMonitors}
	if trust {
		sm["trustCRDsExist"] = true
	}
	return map[string]any{"enabled": true, "serviceMonitor": sm}
}

// CNIConfig is the custom CNI configuration (JSON) for charts without nodeSpec values.
func CNIConfig(env model.Environment) string {
	return `{
  "cniVersion": "0.3.1",
  "name": "cilium",
  "plugins": [
    {
      "cniVersion": "0.3.1",
      "type": "cilium-cni",
      "eni": {"first-interface-index": ` + strconv.Itoa(env.Cilium.FirstInterfaceIndex) + `},
      "ipam": {"pre-allocate": ` + strconv.Itoa(env.Cilium.PreAllocate) + `}
    }
  ]
}
`
}
