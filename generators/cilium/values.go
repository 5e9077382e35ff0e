// Package cilium renders the Cilium Helm values for ENI mode with kube-proxy replacement and
// the Gateway API, deep-merged with the environment's overrides. Checks live in schema/checks.
package cilium

import (
	"strconv"

	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/generators/origin"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
)

// APIServerConfigMap and APIServerConfigMapKey hold the EKS endpoint host in kube-system when
// the environment does not declare cluster.apiServerHost (a cluster not created yet): the
// chart's k8sServiceHostRef makes every agent, operator and envoy pod read
// KUBERNETES_SERVICE_HOST from it (configMapKeyRef), so the values hold no placeholder and
// render the same under `helm template` (Argo CD) and `helm install` (Flux). The rollout
// creates the ConfigMap from `aws eks describe-cluster` before installing Cilium.
// `k8sServiceHost: auto` is no alternative: its Helm lookup of kube-public/cluster-info fails
// the render under `helm template` (cilium 1.19.6 install/kubernetes/cilium/templates/
// _helpers.tpl, define "k8sServiceHost").
const (
	APIServerConfigMap    = "cilium-k8s-service-host"
	APIServerConfigMapKey = "host"
)

// HubbleTLSMethod generates Hubble's certificates with a Job (and a renewing CronJob) running
// cilium-certgen in the cluster: unlike "helm" (genCA on every render, never converging
// under GitOps) the rendered objects are deterministic, and unlike "certmanager" it needs no
// cert-manager CRDs before the CNI exists. The agents mount the secrets optionally and start
// without them (cilium 1.19.6 templates/hubble/tls-cronjob, no Helm hooks).
const HubbleTLSMethod = "cronJob"

// hasNodeSpec reports whether the chart has eni.nodeSpec / ipam.nodeSpec (1.19 and later);
// older charts need a custom CNI configuration for these settings.
func hasNodeSpec(version string) bool {
	m := support.Minor(version)
	return m != "1.16" && m != "1.17" && m != "1.18"
}

// ChartRepo is the Cilium Helm repository the rollout and upgrade plans install from.
const ChartRepo = "https://helm.cilium.io/"

// CustomCNIConfigMap is the ConfigMap holding the CNI configuration on charts without nodeSpec.
const CustomCNIConfigMap = "cilium-cni-configuration"

// NeedsCustomCNI reports whether the ENI settings must go through a custom CNI configuration.
func NeedsCustomCNI(env model.Environment) bool {
	return !hasNodeSpec(env.Versions.Cilium) &&
		(env.Cilium.FirstInterfaceIndex != 0 || env.Cilium.PreAllocate != 8)
}

// Values are the Helm values for env, overrides merged in.
func Values(env model.Environment) map[string]any {
	v, _ := Render(env)
	return v
}

// Render returns the Helm values for env, overrides merged in, and where each value set from
// the declaration was declared: the environment field, or the override that set it.
func Render(env model.Environment) (map[string]any, origin.Map) {
	c := env.Cilium
	eni := map[string]any{
		"enabled":                   true,
		"awsEnablePrefixDelegation": origin.From("cilium.prefixDelegation", c.PrefixDelegation),
		"awsReleaseExcessIPs":       true,
		// Tags on every ENI the operator creates. The operator adds io.cilium/cilium-managed
		// and io.cilium/cluster-name=<cluster.name> itself and garbage-collects only detached
		// ENIs carrying both (cilium 1.19.6 pkg/ipam/allocator/aws/aws.go,
		// initENIGarbageCollectionTags), so cluster.name keeps it off other clusters' ENIs.
		"eniTags": origin.From("cluster.tags", stringMap(env.Cluster.Tags)),
	}
	if env.Cluster.OperatorIdentity == "irsa" {
		eni["iamRole"] = origin.From("cluster.operatorRoleARN", env.Cluster.OperatorRoleARN)
	}
	ipam := map[string]any{"mode": "eni"}
	if hasNodeSpec(env.Versions.Cilium) {
		eni["nodeSpec"] = map[string]any{"firstInterfaceIndex": origin.From("cilium.firstInterfaceIndex", c.FirstInterfaceIndex)}
		ipam["nodeSpec"] = map[string]any{"ipamPreAllocate": origin.From("cilium.preAllocate", c.PreAllocate)}
	}
	lb := map[string]any{
		"mode":         origin.From("cilium.loadBalancerMode", c.LoadBalancerMode),
		"acceleration": origin.From("cilium.acceleration", c.Acceleration),
	}
	v := map[string]any{
		"eni":                   eni,
		"ipam":                  ipam,
		"routingMode":           "native",
		"ipv4NativeRoutingCIDR": origin.From("vpc.cidr", env.VPC.CIDR),
		"kubeProxyReplacement":  true,
		"k8sServicePort":        443,
		// cluster.name scopes ENI garbage collection (see eniTags); cluster.id is declared.
		"cluster": map[string]any{"name": origin.From("cluster.name", env.Cluster.Name), "id": origin.From("cilium.clusterID", c.ClusterID)},
		"gatewayAPI": map[string]any{
			"enabled": true,
			// enigate renders the GatewayClass with its CiliumGatewayClassConfig.
			"gatewayClass": map[string]any{"create": "false"},
		},
		"envoy":        map[string]any{"enabled": true},
		"loadBalancer": lb,
		"bpf":          origin.From("cilium.bpf", bpf(c.BPF)),
		"hubble":       hubble(c.Hubble, c.ServiceMonitors),
		"prometheus":   map[string]any{"enabled": true, "serviceMonitor": serviceMonitor(c.ServiceMonitors)},
		"operator": map[string]any{
			"replicas": origin.From("cilium.operatorReplicas", c.OperatorReplicas),
			"prometheus": map[string]any{
				"enabled": true, "serviceMonitor": serviceMonitor(c.ServiceMonitors),
			},
		},
	}
	if h := env.Cluster.APIServerHost; h != "" {
		v["k8sServiceHost"] = origin.From("cluster.apiServerHost", h)
	} else {
		v["k8sServiceHostRef"] = map[string]any{"name": APIServerConfigMap, "key": APIServerConfigMapKey}
	}
	if c.Maglev.Enabled {
		lb["algorithm"] = "maglev"
		v["maglev"] = map[string]any{
			"tableSize": origin.From("cilium.maglev.tableSize", c.Maglev.TableSize),
			"hashSeed":  origin.From("cilium.maglev.hashSeed", c.Maglev.HashSeed),
		}
	}
	if NeedsCustomCNI(env) {
		v["cni"] = map[string]any{"customConf": true, "configMap": CustomCNIConfigMap}
	}
	from := origin.Map{}
	v = manifest.Merge(from.Record("", v), env.Overrides.CiliumValues)
	from.Override("", "overrides.ciliumValues", env.Overrides.CiliumValues)
	return v, from
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
		"enabled": origin.From("cilium.hubble.enabled", h.Enabled),
		"relay":   map[string]any{"enabled": origin.From("cilium.hubble.relay", h.Relay)},
		"ui":      map[string]any{"enabled": origin.From("cilium.hubble.ui", h.UI)},
		"metrics": map[string]any{
			"enabled":           origin.From("cilium.hubble.metrics", metrics),
			"enableOpenMetrics": origin.From("cilium.hubble.openMetrics", h.OpenMetrics),
			"serviceMonitor":    serviceMonitor(serviceMonitors),
		},
		"tls": map[string]any{"auto": map[string]any{"method": HubbleTLSMethod}},
	}
}

func serviceMonitor(enabled bool) map[string]any {
	return map[string]any{"enabled": origin.From("cilium.serviceMonitors", enabled)}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
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
