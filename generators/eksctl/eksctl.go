// Package eksctl renders the phased eksctl ClusterConfigs: phase 1 a bare cluster (no default
// add-ons, so no VPC CNI and no kube-proxy; eksctl refuses node groups there), phase 3 the
// managed node groups, tainted until the Cilium agent is ready, and the operator's identity.
package eksctl

import (
	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/schema/model"
)

// AgentNotReadyTaint keeps pods off a node until the Cilium agent removes it.
var AgentNotReadyTaint = model.Taint{Key: "node.cilium.io/agent-not-ready", Value: "true", Effect: "NoExecute"}

// OperatorActions are the EC2 actions the Cilium operator calls in ENI mode. Only the operator
// calls EC2; the node role needs no CNI policy.
var OperatorActions = []string{
	"ec2:AssignPrivateIpAddresses",
	"ec2:AttachNetworkInterface",
	"ec2:CreateNetworkInterface",
	"ec2:CreateTags",
	"ec2:DeleteNetworkInterface",
	"ec2:DescribeInstanceTypes",
	"ec2:DescribeInstances",
	"ec2:DescribeManagedPrefixLists",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeRouteTables",
	"ec2:DescribeSecurityGroups",
	"ec2:DescribeSubnets",
	"ec2:DescribeTags",
	"ec2:DescribeVpcs",
	"ec2:DetachNetworkInterface",
	"ec2:ModifyNetworkInterfaceAttribute",
	"ec2:UnassignPrivateIpAddresses",
}

// OperatorServiceAccount is the Cilium chart's operator ServiceAccount.
const (
	OperatorServiceAccount = "cilium-operator"
	OperatorNamespace      = "kube-system"
)

func metadata(env model.Environment) map[string]any {
	md := map[string]any{
		"name":    env.Cluster.Name,
		"region":  env.Cluster.Region,
		"version": env.Versions.Kubernetes,
	}
	if len(env.Cluster.Tags) > 0 {
		md["tags"] = stringMap(env.Cluster.Tags)
	}
	return md
}

// Cluster is the phase-1 ClusterConfig, with the environment's overrides merged in.
func Cluster(env model.Environment) map[string]any {
	subnets := map[string]any{}
	for _, s := range env.VPC.Subnets {
		group, _ := subnets[s.Kind].(map[string]any)
		if group == nil {
			group = map[string]any{}
			subnets[s.Kind] = group
		}
		group[s.AZ] = map[string]any{"az": s.AZ, "cidr": s.CIDR}
	}
	addons := []any{map[string]any{"name": "coredns"}}
	if env.Cluster.OperatorIdentity == "podIdentity" {
		addons = append(addons, map[string]any{"name": "eks-pod-identity-agent"})
	}
	cfg := map[string]any{
		"apiVersion": "eksctl.io/v1alpha5",
		"kind":       "ClusterConfig",
		"metadata":   metadata(env),
		"vpc": map[string]any{
			"cidr":    env.VPC.CIDR,
			"nat":     map[string]any{"gateway": env.VPC.NAT},
			"subnets": subnets,
			"clusterEndpoints": map[string]any{
				"publicAccess":  env.Cluster.EndpointPublicAccess,
				"privateAccess": env.Cluster.EndpointPrivateAccess,
			},
		},
		// No default add-ons: no VPC CNI, no kube-proxy (Cilium replaces both).
		"addonsConfig": map[string]any{"disableDefaultAddons": true},
		"addons":       addons,
	}
	if env.Cluster.OperatorIdentity == "irsa" {
		cfg["iam"] = map[string]any{"withOIDC": true}
	}
	return manifest.Merge(cfg, env.Overrides.EksctlCluster)
}

// NodeGroups is the phase-3 ClusterConfig: managed node groups with maxPodsPerNode from
// maxPods, and the operator's IAM identity. Overrides are merged in.
func NodeGroups(env model.Environment, maxPods func(model.NodeGroup) int) map[string]any {
	var groups []any
	for _, ng := range env.NodeGroups {
		taints := []any{taint(AgentNotReadyTaint)}
		for _, t := range ng.Taints {
			taints = append(taints, taint(t))
		}
		labels := map[string]any{"enigate.dev/node-group": ng.Name}
		for k, v := range ng.Labels {
			labels[k] = v
		}
		g := map[string]any{
			"name":              ng.Name,
			"instanceType":      ng.InstanceType,
			"amiFamily":         ng.AMIFamily,
			"minSize":           ng.MinSize,
			"maxSize":           ng.MaxSize,
			"desiredCapacity":   ng.DesiredCapacity,
			"volumeSize":        ng.VolumeSize,
			"privateNetworking": true,
			"availabilityZones": strings(ng.AvailabilityZones),
			"maxPodsPerNode":    maxPods(ng),
			"labels":            labels,
			"taints":            taints,
			"iam": map[string]any{"withAddonPolicies": map[string]any{
				"autoScaler": true, "cloudWatch": true, "awsLoadBalancerController": true,
			}},
		}
		if len(ng.Tags) > 0 {
			g["tags"] = stringMap(ng.Tags)
		}
		groups = append(groups, g)
	}
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   strings(OperatorActions),
			"Resource": "*",
		}},
	}
	iam := map[string]any{}
	switch env.Cluster.OperatorIdentity {
	case "irsa":
		iam["withOIDC"] = true
		iam["serviceAccounts"] = []any{map[string]any{
			"metadata":     map[string]any{"name": OperatorServiceAccount, "namespace": OperatorNamespace},
			"roleOnly":     true,
			"roleName":     roleName(env.Cluster.OperatorRoleARN),
			"attachPolicy": policy,
		}}
	default:
		iam["podIdentityAssociations"] = []any{map[string]any{
			"namespace":          OperatorNamespace,
			"serviceAccountName": OperatorServiceAccount,
			"permissionPolicy":   policy,
		}}
	}
	cfg := map[string]any{
		"apiVersion":        "eksctl.io/v1alpha5",
		"kind":              "ClusterConfig",
		"metadata":          metadata(env),
		"iam":               iam,
		"managedNodeGroups": groups,
	}
	return manifest.Merge(cfg, env.Overrides.EksctlNodeGroups)
}

// roleName is the last path element of an IAM role ARN.
func roleName(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

func taint(t model.Taint) map[string]any {
	m := map[string]any{"key": t.Key, "effect": t.Effect}
	if t.Value != "" {
		m["value"] = t.Value
	}
	return m
}

func strings(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}

func stringMap(in map[string]string) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
