// Package karpenter renders Karpenter for an environment with node pools: per pool an
// EC2NodeClass and a NodePool (karpenter.k8s.aws/v1, karpenter.sh/v1: the only versions the
// pinned CRDs serve), the chart's values, Karpenter's CloudFormation template (node role,
// controller policies, interruption queue and its EventBridge rules) and the CRDs.
//
// eksctl's own `karpenter` section is not used: eksctl v0.230.0 installs Karpenter only inside
// `eksctl create cluster` (pkg/ctl/create/cluster.go installKarpenter), which our bare phase-1
// cluster cannot carry (pkg/ctl/cmdutils/configfile.go validateBareCluster refuses the field),
// requires IRSA (validateKarpenterConfig: iam.withOIDC), and passes pre-v1 values
// (aws.defaultInstanceProfile, settings.interruptionQueueName; pkg/karpenter/karpenter.go) that
// the v1 chart no longer reads. The rollout instead follows Karpenter's getting-started guide
// (website/content/en/v1.14/getting-started/getting-started-with-karpenter): the CloudFormation
// stack, an EKS Pod Identity association for the controller, an access entry for the node role,
// then the chart.
package karpenter

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
)

// Files of the overlay.
const (
	ValuesFile         = "karpenter/values.yaml"
	NodePoolsFile      = "karpenter/nodepools.yaml"
	CloudFormationFile = "karpenter/cloudformation.yaml"
)

// The chart and where the controller runs.
const (
	Chart          = "oci://public.ecr.aws/karpenter/karpenter"
	Namespace      = "kube-system"
	ServiceAccount = "karpenter"
	// NodePoolLabel marks every node of a pool with the pool's name.
	NodePoolLabel = "enigate.dev/node-pool"
)

// StartupTaint is the taint Karpenter puts on every node it launches and expects the Cilium
// agent to remove (Karpenter waits for it before it counts the node initialised; without it,
// pods bound before the agent is ready push Karpenter into launching more nodes).
var StartupTaint = model.Taint{Key: "node.cilium.io/agent-not-ready", Value: "true", Effect: "NoExecute"}

//go:embed data
var data embed.FS

// Enabled reports whether the environment renders Karpenter.
func Enabled(env model.Environment) bool { return len(env.Karpenter.NodePools) > 0 }

// Version is the chart/CRD version without a leading v.
func Version(env model.Environment) string { return strings.TrimPrefix(env.Versions.Karpenter, "v") }

// Vendored reports whether the version's CRDs and template are vendored.
func Vendored(version string) bool {
	_, err := data.ReadDir(path.Join("data", strings.TrimPrefix(version, "v"), "crds"))
	return err == nil
}

// VendoredVersions are the versions whose CRDs and template are vendored.
func VendoredVersions() []string {
	entries, _ := data.ReadDir("data")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// CRDFile is one vendored CRD.
type CRDFile struct {
	Name string
	Data []byte
}

// CRDs are the version's CRDs as upstream ships them (pkg/apis/crds of the module).
func CRDs(version string) ([]CRDFile, error) {
	dir := path.Join("data", strings.TrimPrefix(version, "v"), "crds")
	entries, err := data.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("karpenter %s: crds not vendored (generators/karpenter/vendor.sh)", version)
	}
	var out []CRDFile
	for _, e := range entries {
		b, err := data.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, CRDFile{Name: e.Name(), Data: b})
	}
	return out, nil
}

// cniPolicyLine is the node role's AmazonEKS_CNI_Policy in Karpenter's template: no node needs
// it (only the Cilium operator calls EC2 for pod addresses), so it is removed.
const cniPolicyLine = "        - !Sub \"arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy\"\n"

// CloudFormation is Karpenter's getting-started template of the version
// (data/<version>/cloudformation.yaml: aws/karpenter-provider-aws commit 1d927085,
// website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml,
// sha256 7ffeb01f04b5da482ef43087830de00a476098416e3b4576c38239ef1b0bef4b) without the node
// role's AmazonEKS_CNI_Policy.
func CloudFormation(version string) ([]byte, error) {
	b, err := data.ReadFile(path.Join("data", strings.TrimPrefix(version, "v"), "cloudformation.yaml"))
	if err != nil {
		return nil, fmt.Errorf("karpenter %s: cloudformation template not vendored", version)
	}
	if !bytes.Contains(b, []byte(cniPolicyLine)) {
		return nil, fmt.Errorf("karpenter %s: cloudformation template: node role without the expected AmazonEKS_CNI_Policy line", version)
	}
	return bytes.Replace(b, []byte(cniPolicyLine), nil, 1), nil
}

// Names the CloudFormation template gives (its ClusterName parameter is the cluster name).
func StackName(env model.Environment) string    { return "Karpenter-" + env.Cluster.Name }
func NodeRoleName(env model.Environment) string { return "KarpenterNodeRole-" + env.Cluster.Name }

// ControllerRoleName is the role eksctl creates for the controller's Pod Identity association.
func ControllerRoleName(env model.Environment) string { return env.Cluster.Name + "-karpenter" }

// ControllerPolicies are the managed policies of the template the controller's role gets
// (each suffixed with -<cluster>), as the getting-started guide's step02 lists them.
var ControllerPolicies = []string{
	"KarpenterControllerNodeLifecyclePolicy",
	"KarpenterControllerIAMIntegrationPolicy",
	"KarpenterControllerEKSIntegrationPolicy",
	"KarpenterControllerInterruptionPolicy",
	"KarpenterControllerResourceDiscoveryPolicy",
	"KarpenterControllerZonalShiftPolicy",
}

// Values are the chart's values: the cluster, the interruption queue the template creates
// (named after the cluster), the ENIs below Cilium's first interface index reserved, and the
// controller on the system node group.
func Values(env model.Environment) map[string]any {
	return map[string]any{
		"settings": map[string]any{
			"clusterName":       env.Cluster.Name,
			"interruptionQueue": env.Cluster.Name,
			"reservedENIs":      strconv.Itoa(env.Cilium.FirstInterfaceIndex),
		},
		"serviceAccount": map[string]any{"name": ServiceAccount},
		"nodeSelector": map[string]any{
			"kubernetes.io/os":       "linux",
			"enigate.dev/node-group": model.SystemNodeGroupName,
		},
		"controller": map[string]any{"resources": map[string]any{
			"requests": map[string]any{"cpu": "1", "memory": "1Gi"},
			"limits":   map[string]any{"cpu": "1", "memory": "1Gi"},
		}},
	}
}

// Validate checks what the objects need from the environment: private subnet ids in an
// existing VPC, declared sizes that the bare-metal setting allows.
func Validate(env model.Environment, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, p := range env.Karpenter.NodePools {
		pp := path.Child("karpenter", "nodePools").Key(p.Name)
		if env.VPC.ID != "" {
			for _, s := range env.VPC.Subnets {
				if s.Kind == "private" && s.ID == "" && slices.Contains(p.AvailabilityZones, s.AZ) {
					errs = append(errs, field.Required(path.Child("vpc", "subnets", "private").Key(s.AZ).Child("id"), "node pool "+p.Name+" selects the subnets of an existing VPC by id"))
				}
			}
		}
		for i, s := range p.Sizes {
			if !p.BareMetal && capacity.IsMetalSize(s) {
				errs = append(errs, field.Invalid(pp.Child("sizes").Index(i), s, "a metal size with bareMetal false (set bareMetal: true)"))
			}
		}
	}
	return errs
}

// Objects are each pool's EC2NodeClass and NodePool, in pool order; maxPods gives each pool's
// kubelet maxPods (the capacity model's).
func Objects(env model.Environment, maxPods func(model.NodePool) int) ([]any, error) {
	tab, err := capacity.Default()
	if err != nil {
		return nil, err
	}
	metal := tab.MetalSizes()
	var out []any
	for _, p := range env.Karpenter.NodePools {
		out = append(out, nodeClass(env, p, maxPods(p)), nodePool(env, p, metal))
	}
	return out, nil
}

func amiAlias(env model.Environment, p model.NodePool) string {
	family := "al2023"
	if p.AMIFamily == "Bottlerocket" {
		family = "bottlerocket"
	}
	return family + "@" + env.Karpenter.AMIVersion
}

func nodeClass(env model.Environment, p model.NodePool, maxPods int) map[string]any {
	var subnets []any
	if env.VPC.ID != "" {
		for _, s := range env.VPC.Subnets {
			if s.Kind == "private" && slices.Contains(p.AvailabilityZones, s.AZ) {
				subnets = append(subnets, map[string]any{"id": s.ID})
			}
		}
	} else {
		// eksctl tags every resource of its stacks with the cluster name (v0.230.0
		// pkg/cfn/manager/api.go NewStackCollection, ClusterNameTag) and its private subnets
		// with kubernetes.io/role/internal-elb=1 (pkg/cfn/builder/vpc_ipv4.go).
		subnets = []any{map[string]any{"tags": map[string]any{
			"alpha.eksctl.io/cluster-name":    env.Cluster.Name,
			"kubernetes.io/role/internal-elb": "1",
		}}}
	}
	device := "/dev/xvda"
	if p.AMIFamily == "Bottlerocket" {
		device = "/dev/xvdb" // Bottlerocket's data volume; /dev/xvda is its OS volume
	}
	tags := map[string]any{NodePoolLabel: p.Name}
	for k, v := range env.Cluster.Tags {
		tags[k] = v
	}
	return map[string]any{
		"apiVersion": "karpenter.k8s.aws/v1",
		"kind":       "EC2NodeClass",
		"metadata":   map[string]any{"name": p.Name},
		"spec": map[string]any{
			"role":                NodeRoleName(env),
			"amiSelectorTerms":    []any{map[string]any{"alias": amiAlias(env, p)}},
			"subnetSelectorTerms": subnets,
			// The EKS cluster security group, which EKS tags with the cluster's name (the one
			// managed node groups use).
			"securityGroupSelectorTerms": []any{map[string]any{"tags": map[string]any{"aws:eks:cluster-name": env.Cluster.Name}}},
			"kubelet":                    map[string]any{"maxPods": maxPods},
			"blockDeviceMappings": []any{map[string]any{
				"deviceName": device,
				"ebs":        map[string]any{"volumeSize": strconv.Itoa(p.VolumeSize) + "Gi", "volumeType": "gp3", "encrypted": true},
			}},
			"tags": tags,
		},
	}
}

func req(key, op string, values ...string) map[string]any {
	r := map[string]any{"key": key, "operator": op}
	if len(values) > 0 {
		vs := make([]any, len(values))
		for i, v := range values {
			vs[i] = v
		}
		r["values"] = vs
	}
	return r
}

// Requirements are a pool's NodePool requirements: exactly the filters capacity.Requirements
// applies, so the rendered pool launches the instance set the capacity model computed.
func Requirements(p model.NodePool, metalSizes []string) []any {
	out := []any{
		req("kubernetes.io/os", "In", "linux"),
		req("kubernetes.io/arch", "In", p.Architectures...),
		req("karpenter.sh/capacity-type", "In", p.CapacityTypes...),
	}
	if len(p.Families) > 0 {
		out = append(out, req("karpenter.k8s.aws/instance-family", "In", p.Families...))
	}
	if len(p.Categories) > 0 {
		out = append(out, req("karpenter.k8s.aws/instance-category", "In", p.Categories...))
	}
	if p.MinGeneration > 0 {
		out = append(out, req("karpenter.k8s.aws/instance-generation", "Gt", strconv.Itoa(p.MinGeneration-1)))
	}
	switch {
	case len(p.Sizes) > 0:
		out = append(out, req("karpenter.k8s.aws/instance-size", "In", p.Sizes...))
	case !p.BareMetal:
		out = append(out, req("karpenter.k8s.aws/instance-size", "NotIn", metalSizes...))
	}
	if p.NitroOnly {
		out = append(out, req("karpenter.k8s.aws/instance-hypervisor", "In", "nitro"))
	}
	if len(p.AvailabilityZones) > 0 {
		out = append(out, req("topology.kubernetes.io/zone", "In", p.AvailabilityZones...))
	}
	return out
}

func taint(t model.Taint) map[string]any {
	m := map[string]any{"key": t.Key, "effect": t.Effect}
	if t.Value != "" {
		m["value"] = t.Value
	}
	return m
}

func nodePool(env model.Environment, p model.NodePool, metalSizes []string) map[string]any {
	labels := map[string]any{NodePoolLabel: p.Name}
	for k, v := range p.Labels {
		labels[k] = v
	}
	spec := map[string]any{
		"nodeClassRef":  map[string]any{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": p.Name},
		"requirements":  Requirements(p, metalSizes),
		"startupTaints": []any{taint(StartupTaint)},
		"expireAfter":   p.ExpireAfter,
	}
	if len(p.Taints) > 0 {
		ts := make([]any, len(p.Taints))
		for i, t := range p.Taints {
			ts[i] = taint(t)
		}
		spec["taints"] = ts
	}
	return map[string]any{
		"apiVersion": "karpenter.sh/v1",
		"kind":       "NodePool",
		"metadata":   map[string]any{"name": p.Name},
		"spec": map[string]any{
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": spec},
			"disruption": map[string]any{
				"consolidationPolicy": p.Disruption.ConsolidationPolicy,
				"consolidateAfter":    p.Disruption.ConsolidateAfter,
				"budgets":             []any{map[string]any{"nodes": p.Disruption.BudgetNodes}},
			},
			"limits": map[string]any{"cpu": strconv.Itoa(p.Limits.CPU)},
		},
	}
}
