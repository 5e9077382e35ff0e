// Package eksctl renders the phased eksctl ClusterConfigs: phase 1 a bare cluster (no default
// add-ons, so no VPC CNI and no kube-proxy; eksctl refuses node groups and identities there),
// right after it the identities (the Cilium operator's and the AWS Load Balancer Controller's,
// which must exist before either starts), and phase 3 the managed node groups, tainted until
// the Cilium agent is ready.
package eksctl

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/schema/model"
)

// LBCVersion is the AWS Load Balancer Controller release whose IAM policy is vendored; its
// Helm chart (same version number, without the v) is the only versions.awsLoadBalancerController
// render accepts, and the chart test/helm installs.
const LBCVersion = "v3.2.2"

// lbcPolicy is docs/install/iam_policy.json of the AWS Load Balancer Controller at tag v3.2.2
// (commit 32e047bc1709597dbb9a496b36d6d87fb903661c; the same bytes are in the Go module
// sigs.k8s.io/aws-load-balancer-controller@v0.0.0-20260423195125-93ff3b5fdaad, whose helm/
// directory test/helm installs), sha256
// 16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a (unchanged since v2.17.1).
//
//go:embed data/aws-load-balancer-controller-v3.2.2-iam_policy.json
var lbcPolicy []byte

// LBCPolicy is the controller's published IAM policy as data.
func LBCPolicy() map[string]any {
	var p map[string]any
	if err := json.Unmarshal(lbcPolicy, &p); err != nil {
		panic(fmt.Sprintf("embedded LBC policy: %v", err)) // embedded and tested: cannot happen
	}
	return p
}

// The phase files, relative to the overlay.
const (
	ClusterFile    = "eksctl/cluster.yaml"
	IdentitiesFile = "eksctl/identities.yaml"
	NodeGroupsFile = "eksctl/nodegroups.yaml"
)

// The AWS Load Balancer Controller's ServiceAccount (its chart's default name).
const (
	LBCServiceAccount = "aws-load-balancer-controller"
	LBCNamespace      = "kube-system"
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

// Cluster is the phase-1 ClusterConfig, with the environment's overrides merged in. A VPC
// eksctl creates is rendered as availabilityZones + vpc.cidr + vpc.nat (eksctl carves the
// subnets; listing subnets would make eksctl look for existing ones); an existing VPC as vpc.id
// + vpc.subnets with ids (and the declared CIDRs, which eksctl checks against the real subnets).
func Cluster(env model.Environment) map[string]any {
	vpc := map[string]any{
		"cidr": env.VPC.CIDR,
		"clusterEndpoints": map[string]any{
			"publicAccess":  env.Cluster.EndpointPublicAccess,
			"privateAccess": env.Cluster.EndpointPrivateAccess,
		},
	}
	cfg := map[string]any{
		"apiVersion": "eksctl.io/v1alpha5",
		"kind":       "ClusterConfig",
		"metadata":   metadata(env),
		"vpc":        vpc,
		// No default add-ons: no VPC CNI, no kube-proxy (Cilium replaces both). The Pod
		// Identity agent serves the identities of phase 1b.
		"addonsConfig": map[string]any{"disableDefaultAddons": true},
		"addons": []any{
			map[string]any{"name": "coredns"},
			map[string]any{"name": "eks-pod-identity-agent"},
		},
	}
	if env.VPC.ID == "" {
		cfg["availabilityZones"] = strings(env.VPC.AvailabilityZones)
		vpc["nat"] = map[string]any{"gateway": env.VPC.NAT}
	} else {
		vpc["id"] = env.VPC.ID
		// eksctl creates no NAT gateway in an existing VPC (its --dry-run prints Disable too);
		// left out, eksctl would record its default Single in the stack outputs.
		vpc["nat"] = map[string]any{"gateway": "Disable"}
		subnets := map[string]any{}
		for _, s := range env.VPC.Subnets {
			group, _ := subnets[s.Kind].(map[string]any)
			if group == nil {
				group = map[string]any{}
				subnets[s.Kind] = group
			}
			group[s.AZ] = map[string]any{"id": s.ID, "az": s.AZ, "cidr": s.CIDR}
		}
		vpc["subnets"] = subnets
	}
	if env.Cluster.OperatorIdentity == "irsa" {
		// The OIDC provider is created with the cluster (eksctl accepts iam.withOIDC in a bare
		// cluster; validateBareCluster refuses only serviceAccounts and podIdentityAssociations).
		cfg["iam"] = map[string]any{"withOIDC": true}
	}
	return manifest.Merge(cfg, env.Overrides.EksctlCluster)
}

// OperatorPolicy is the inline IAM policy of the Cilium operator.
func OperatorPolicy() map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   strings(OperatorActions),
			"Resource": "*",
		}},
	}
}

// Identities is the phase-1b ClusterConfig (metadata + iam only), applied right after the
// cluster and before Cilium: the Cilium operator's Pod Identity association (or, with IRSA, its
// role-only service account) and the AWS Load Balancer Controller's Pod Identity association
// with its published policy. overrides.eksctlIdentities is merged in.
func Identities(env model.Environment) map[string]any {
	pias := []any{}
	iam := map[string]any{}
	switch env.Cluster.OperatorIdentity {
	case "irsa":
		iam["withOIDC"] = true
		iam["serviceAccounts"] = []any{map[string]any{
			"metadata":     map[string]any{"name": OperatorServiceAccount, "namespace": OperatorNamespace},
			"roleOnly":     true,
			"roleName":     roleName(env.Cluster.OperatorRoleARN),
			"attachPolicy": OperatorPolicy(),
		}}
	default:
		pias = append(pias, map[string]any{
			"namespace":          OperatorNamespace,
			"serviceAccountName": OperatorServiceAccount,
			"permissionPolicy":   OperatorPolicy(),
		})
	}
	pias = append(pias, map[string]any{
		"namespace":          LBCNamespace,
		"serviceAccountName": LBCServiceAccount,
		"permissionPolicy":   LBCPolicy(),
	})
	iam["podIdentityAssociations"] = pias
	cfg := map[string]any{
		"apiVersion": "eksctl.io/v1alpha5",
		"kind":       "ClusterConfig",
		"metadata":   metadata(env),
		"iam":        iam,
	}
	return manifest.Merge(cfg, env.Overrides.EksctlIdentities)
}

// NodeGroups is the phase-3 ClusterConfig: managed node groups with maxPodsPerNode from
// maxPods. The node role gets NodePolicies and no add-on policies: only the Cilium operator
// calls EC2 for pod addresses and the load balancer controller has its own identity.
// Overrides are merged in.
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
			// Listed, eksctl attaches exactly these: without the list it adds AmazonEKS_CNI_Policy,
			// which no node needs (only the Cilium operator calls EC2 for pod addresses).
			"iam": map[string]any{"attachPolicyARNs": strings(nodePolicyARNs(env.Cluster.Region))},
		}
		if len(ng.Tags) > 0 {
			g["tags"] = stringMap(ng.Tags)
		}
		groups = append(groups, g)
	}
	cfg := map[string]any{
		"apiVersion":        "eksctl.io/v1alpha5",
		"kind":              "ClusterConfig",
		"metadata":          metadata(env),
		"managedNodeGroups": groups,
	}
	return manifest.Merge(cfg, env.Overrides.EksctlNodeGroups)
}

// NodePolicies are the managed policies of the node role: what eksctl attaches by default
// (pkg/cfn/builder/iam_helper.go makeManagedPolicies, v0.230.0) minus AmazonEKS_CNI_Policy.
// AmazonEC2ContainerRegistryPullOnly is required by the managed node group API.
var NodePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"}

// nodePolicyARNs are NodePolicies as ARNs of the region's partition.
func nodePolicyARNs(region string) []string {
	partition := "aws"
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		partition = "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		partition = "aws-us-gov"
	}
	out := make([]string, len(NodePolicies))
	for i, p := range NodePolicies {
		out[i] = "arn:" + partition + ":iam::aws:policy/" + p
	}
	return out
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
