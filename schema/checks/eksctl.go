package checks

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/upstream"
	"github.com/enigate/enigate/schema/vpc"
)

// RequiredOperatorActions are the EC2 actions the Cilium operator cannot work without (since
// 1.18 the static limits table is gone, so DescribeInstanceTypes is mandatory).
var RequiredOperatorActions = []string{
	"ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface", "ec2:CreateNetworkInterface",
	"ec2:CreateTags", "ec2:DeleteNetworkInterface", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
	"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
	"ec2:DescribeTags", "ec2:DescribeVpcs", "ec2:ModifyNetworkInterfaceAttribute",
	"ec2:UnassignPrivateIpAddresses",
}

// bareClusterForbidden are the ClusterConfig fields eksctl refuses when default add-ons are
// disabled and no vpc-cni is listed (validateBareCluster).
var bareClusterForbidden = [][]string{
	{"nodeGroups"}, {"managedNodeGroups"}, {"fargateProfiles"}, {"karpenter"},
	{"iam", "serviceAccounts"}, {"iam", "podIdentityAssociations"},
}

// EksctlCluster checks the phase-1 ClusterConfig: eksctl's schema, a bare cluster without the
// VPC CNI and kube-proxy, nothing eksctl refuses in it, and the operator's identity prerequisites.
func EksctlCluster(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	r.Errors = append(r.Errors, vpc.Validate(env, nil)...)
	r.Errors = append(r.Errors, upstream.ValidateEksctl(doc, path)...)
	r.Errors = append(r.Errors, upstream.EksctlDeprecations(doc, path)...)
	if on, _ := lookupBool(doc, "addonsConfig", "disableDefaultAddons"); !on {
		msg := "is not true (without it EKS installs the VPC CNI and kube-proxy, which conflict with Cilium)"
		if _, ok := lookup(doc, "addonsConfig", "autoApplyPodIdentityAssociations"); ok {
			msg += "; autoApplyPodIdentityAssociations does not disable the VPC CNI"
		}
		r.errorf(pathOf(path, "addonsConfig", "disableDefaultAddons"), "%s", msg)
	}
	addons, _ := lookup(doc, "addons")
	list, _ := addons.([]any)
	hasCoreDNS := false
	for i, a := range list {
		name, _ := a.(map[string]any)["name"].(string)
		switch name {
		case "vpc-cni", "kube-proxy":
			r.errorf(pathOf(path, "addons").Index(i).Child("name"), "%q must not be installed (Cilium replaces the VPC CNI and kube-proxy)", name)
		case "coredns":
			hasCoreDNS = true
		}
	}
	if !hasCoreDNS {
		r.errorf(pathOf(path, "addons"), "lists no coredns (with default add-ons disabled, list addons: [{name: coredns}]; the EKS add-on, not a manifest URL)")
	}
	for _, keys := range bareClusterForbidden {
		if _, ok := lookup(doc, keys...); ok {
			r.errorf(pathOf(path, keys...), "is set (eksctl refuses it in a cluster created without default networking add-ons; enigate renders identities in eksctl/identities.yaml and node groups in eksctl/nodegroups.yaml)")
		}
	}
	if on, _ := lookupBool(doc, "autoModeConfig", "enabled"); on {
		r.errorf(pathOf(path, "autoModeConfig", "enabled"), "is true (EKS Auto Mode nodes use AWS-managed networking; Cilium ENI IPAM is not supported there)")
	}
	if env.Cluster.OperatorIdentity == "irsa" {
		if on, _ := lookupBool(doc, "iam", "withOIDC"); !on {
			r.errorf(pathOf(path, "iam", "withOIDC"), "is not true (IRSA for the Cilium operator needs the cluster's OIDC provider)")
		}
	}
	for i, f := range env.Overrides.EksctlFlags {
		if strings.HasPrefix(f, "--bootstrapSelfManagedAddons") || strings.HasPrefix(f, "--bootstrap-self-managed-addons") {
			r.errorf(field.NewPath("overrides", "eksctlFlags").Index(i), "%q is not an eksctl flag (it is an EKS API field eksctl sets itself; use addonsConfig.disableDefaultAddons: true)", f)
		}
	}
	return r
}

// EksctlNodeGroups checks the phase-3 ClusterConfig: eksctl's schema, the agent-not-ready taint
// on every managed node group, and no identities (`eksctl create nodegroup` does not create them).
func EksctlNodeGroups(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	r.Errors = append(r.Errors, upstream.ValidateEksctl(doc, path)...)
	r.Errors = append(r.Errors, upstream.EksctlDeprecations(doc, path)...)
	groups, _ := lookup(doc, "managedNodeGroups")
	list, _ := groups.([]any)
	for i, g := range list {
		gm, _ := g.(map[string]any)
		taints, _ := gm["taints"].([]any)
		if !slices.ContainsFunc(taints, func(t any) bool {
			tm, _ := t.(map[string]any)
			return tm["key"] == "node.cilium.io/agent-not-ready" && tm["effect"] == "NoExecute"
		}) {
			r.errorf(pathOf(path, "managedNodeGroups").Index(i).Child("taints"), "has no node.cilium.io/agent-not-ready=true:NoExecute taint (pods would start before the Cilium agent and get no ENI address)")
		}
	}
	for _, keys := range [][]string{{"iam", "serviceAccounts"}, {"iam", "podIdentityAssociations"}} {
		if _, ok := lookup(doc, keys...); ok {
			r.errorf(pathOf(path, keys...), "is set (eksctl create nodegroup creates no identities, and they must exist before Cilium starts: enigate renders them in eksctl/identities.yaml, overrides.eksctlIdentities)")
		}
	}
	return r
}

// EksctlIdentities checks the identities ClusterConfig: eksctl's schema, only metadata and iam,
// and the Cilium operator's identity and permissions.
func EksctlIdentities(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	r.Errors = append(r.Errors, upstream.ValidateEksctl(doc, path)...)
	for _, k := range sortedKeys(doc) {
		switch k {
		case "apiVersion", "kind", "metadata", "iam":
		default:
			r.errorf(pathOf(path, k), "is set (eksctl create podidentityassociation / iamserviceaccount read only metadata and iam from this file)")
		}
	}
	sas, _ := lookup(doc, "iam", "serviceAccounts")
	for i, sa := range asList(sas) {
		sm, _ := sa.(map[string]any)
		name := lookupString(sm, "metadata", "name")
		if name != "cilium-operator" {
			continue
		}
		p := pathOf(path, "iam", "serviceAccounts").Index(i)
		if on, _ := sm["roleOnly"].(bool); !on {
			r.errorf(p.Child("roleOnly"), "is not true (the Cilium chart creates the cilium-operator ServiceAccount; eksctl must create only the role, wired through eni.iamRole)")
		}
		r.Add(operatorPolicy(sm["attachPolicy"], p.Child("attachPolicy")))
	}
	if len(asList(sas)) > 0 {
		if on, _ := lookupBool(doc, "iam", "withOIDC"); !on {
			r.errorf(pathOf(path, "iam", "withOIDC"), "is not true (IRSA service accounts need the cluster's OIDC provider)")
		}
	}
	pias, _ := lookup(doc, "iam", "podIdentityAssociations")
	for i, pia := range asList(pias) {
		pm, _ := pia.(map[string]any)
		if pm["serviceAccountName"] != "cilium-operator" {
			continue
		}
		p := pathOf(path, "iam", "podIdentityAssociations").Index(i)
		r.Add(operatorPolicy(pm["permissionPolicy"], p.Child("permissionPolicy")))
	}
	return r
}

// operatorPolicy checks an inline IAM policy for the actions the Cilium operator needs.
func operatorPolicy(policy any, path *field.Path) Report {
	var r Report
	pm, ok := policy.(map[string]any)
	if !ok {
		return r // a managed policy ARN or none: nothing to read
	}
	granted := map[string]bool{}
	for _, st := range asList(pm["Statement"]) {
		sm, _ := st.(map[string]any)
		if sm["Effect"] != "Allow" {
			continue
		}
		switch a := sm["Action"].(type) {
		case string:
			granted[a] = true
		case []any:
			for _, x := range a {
				if s, ok := x.(string); ok {
					granted[s] = true
				}
			}
		}
	}
	if granted["ec2:*"] || granted["*"] {
		return r
	}
	var missing []string
	for _, a := range RequiredOperatorActions {
		if !granted[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		r.errorf(path.Child("Statement"), "lacks %s (the Cilium operator needs them in ENI mode; DescribeInstanceTypes is mandatory since 1.18)", strings.Join(missing, ", "))
	}
	return r
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
