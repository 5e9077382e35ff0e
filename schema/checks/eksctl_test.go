package checks_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/eksctl"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/problem"
)

func devEnv(t *testing.T) model.Environment {
	t.Helper()
	d, err := schema.LoadFile("../../overlays/dev/environment.cue", "overlays/dev/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	return d.Env
}

func overrides(t *testing.T, src string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEksctlChecks runs the three ClusterConfig checks over the rendered configs with
// overrides merged in, and compares every problem line: wrong-typed fields are reported once,
// by eksctl's schema, and never panic.
func TestEksctlChecks(t *testing.T) {
	tests := []struct {
		name       string
		irsa       bool
		cluster    string // YAML overrides.eksctlCluster
		nodeGroups string // YAML overrides.eksctlNodeGroups
		identities string // YAML overrides.eksctlIdentities
		want       []string
	}{
		{name: "rendered configs pass"},
		{name: "rendered configs pass with IRSA", irsa: true},
		{name: "default add-ons on, auto-apply set", cluster: "addonsConfig: {disableDefaultAddons: false, autoApplyPodIdentityAssociations: true}",
			want: []string{"eksctl.cluster.addonsConfig.disableDefaultAddons: is not true (without it EKS installs the VPC CNI and kube-proxy, which conflict with Cilium); autoApplyPodIdentityAssociations does not disable the VPC CNI"}},
		{name: "vpc-cni and kube-proxy listed, no coredns", cluster: "addons: [{name: vpc-cni}, {name: kube-proxy}]",
			want: []string{
				`eksctl.cluster.addons[0].name: "vpc-cni" must not be installed (Cilium replaces the VPC CNI and kube-proxy)`,
				`eksctl.cluster.addons[1].name: "kube-proxy" must not be installed (Cilium replaces the VPC CNI and kube-proxy)`,
				"eksctl.cluster.addons: lists no coredns (with default add-ons disabled, list addons: [{name: coredns}]; the EKS add-on, not a manifest URL)",
			}},
		{name: "forbidden fields in a bare cluster", cluster: "fargateProfiles: []\niam: {podIdentityAssociations: []}\nautoModeConfig: {enabled: true}",
			want: []string{
				"eksctl.cluster.fargateProfiles: is set (eksctl refuses it in a cluster created without default networking add-ons; enigate renders identities in eksctl/identities.yaml and node groups in eksctl/nodegroups.yaml)",
				"eksctl.cluster.iam.podIdentityAssociations: is set (eksctl refuses it in a cluster created without default networking add-ons; enigate renders identities in eksctl/identities.yaml and node groups in eksctl/nodegroups.yaml)",
				"eksctl.cluster.autoModeConfig.enabled: is true (EKS Auto Mode nodes use AWS-managed networking; Cilium ENI IPAM is not supported there)",
			}},
		{name: "IRSA without OIDC", irsa: true, cluster: "iam: {withOIDC: false}",
			want: []string{"eksctl.cluster.iam.withOIDC: is not true (IRSA for the Cilium operator needs the cluster's OIDC provider)"}},
		{name: "addons not a list", cluster: `addons: "x"`,
			want: []string{"eksctl.cluster.addons: must be array (got string)"}},
		{name: "disableDefaultAddons not a bool", cluster: `addonsConfig: {disableDefaultAddons: "yes"}`,
			want: []string{"eksctl.cluster.addonsConfig.disableDefaultAddons: must be boolean (got string)"}},
		{name: "addon not an object", cluster: `addons: [{name: coredns}, 7]`,
			want: []string{"eksctl.cluster.addons: has a number where eksctl expects an object (eksctl cannot decode it)"}},
		{name: "addonsConfig not an object", cluster: `addonsConfig: "x"`,
			want: []string{"eksctl.cluster.addonsConfig: has a string where eksctl expects an object (eksctl cannot decode it)"}},
		{name: "taint not an object", nodeGroups: `managedNodeGroups: [{name: ng-1, taints: [true]}]`,
			want: []string{"eksctl.nodegroups.managedNodeGroups.taints: has a boolean where eksctl expects an object (eksctl cannot decode it)"}},
		{name: "attachPolicy not an object", irsa: true, identities: `iam: {serviceAccounts: [{metadata: {name: cilium-operator}, roleOnly: true, attachPolicy: "arn"}]}`,
			want: []string{"eksctl.identities.iam.serviceAccounts[0].attachPolicy: must be object (got string)"}},
		{name: "node group without the taint", nodeGroups: "managedNodeGroups: [{name: ng-1, taints: [{key: other, value: x, effect: NoSchedule}]}]",
			want: []string{"eksctl.nodegroups.managedNodeGroups[0].taints: has no node.cilium.io/agent-not-ready=true:NoExecute taint (pods would start before the Cilium agent and get no ENI address)"}},
		{name: "taints not a list", nodeGroups: `managedNodeGroups: [{name: ng-1, taints: "x"}]`,
			want: []string{"eksctl.nodegroups.managedNodeGroups[0].taints: must be array (got string)"}},
		{name: "identities in the node group config", nodeGroups: "iam: {serviceAccounts: []}",
			want: []string{"eksctl.nodegroups.iam.serviceAccounts: is set (eksctl create nodegroup creates no identities, and they must exist before Cilium starts: enigate renders them in eksctl/identities.yaml, overrides.eksctlIdentities)"}},
		{name: "IRSA service account not role-only, no OIDC", irsa: true, identities: "iam: {withOIDC: false, serviceAccounts: [{metadata: {name: cilium-operator, namespace: kube-system}, roleOnly: false, attachPolicy: {Statement: [{Effect: Allow, Action: 'ec2:*', Resource: '*'}]}}]}",
			want: []string{
				"eksctl.identities.iam.serviceAccounts[0].roleOnly: is not true (the Cilium chart creates the cilium-operator ServiceAccount; eksctl must create only the role, wired through eni.iamRole)",
				"eksctl.identities.iam.withOIDC: is not true (IRSA service accounts need the cluster's OIDC provider)",
			}},
		{name: "operator policy lacks actions", identities: "iam: {podIdentityAssociations: [{namespace: kube-system, serviceAccountName: cilium-operator, permissionPolicy: {Statement: [{Effect: Allow, Action: ec2:DescribeSubnets, Resource: '*'}, {Effect: Deny, Action: ['*'], Resource: '*'}]}}]}",
			want: []string{"eksctl.identities.iam.podIdentityAssociations[0].permissionPolicy.Statement: lacks ec2:AssignPrivateIpAddresses, ec2:AttachNetworkInterface, ec2:CreateNetworkInterface, ec2:CreateTags, ec2:DeleteNetworkInterface, ec2:DescribeInstanceTypes, ec2:DescribeInstances, ec2:DescribeNetworkInterfaces, ec2:DescribeSecurityGroups, ec2:DescribeTags, ec2:DescribeVpcs, ec2:ModifyNetworkInterfaceAttribute, ec2:UnassignPrivateIpAddresses (the Cilium operator needs them in ENI mode; DescribeInstanceTypes is mandatory since 1.18)"}},
		{name: "service accounts not a list", identities: `iam: {serviceAccounts: {name: x}}`,
			want: []string{"eksctl.identities.iam.serviceAccounts: must be array (got object)"}},
		{name: "more than metadata and iam", identities: "vpc: {cidr: 10.0.0.0/16}",
			want: []string{"eksctl.identities.vpc: is set (eksctl create podidentityassociation / iamserviceaccount read only metadata and iam from this file)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := devEnv(t)
			if tt.irsa {
				env.Cluster.OperatorIdentity = "irsa"
				env.Cluster.OperatorRoleARN = "arn:aws:iam::123456789012:role/CiliumOperatorRole"
			}
			env.Overrides.EksctlCluster = overrides(t, tt.cluster)
			env.Overrides.EksctlNodeGroups = overrides(t, tt.nodeGroups)
			env.Overrides.EksctlIdentities = overrides(t, tt.identities)
			var r checks.Report
			r.Add(checks.EksctlCluster(env, eksctl.Cluster(env), field.NewPath("eksctl", "cluster")))
			r.Add(checks.EksctlNodeGroups(env, eksctl.NodeGroups(env, func(model.NodeGroup) int { return 58 }), field.NewPath("eksctl", "nodegroups")))
			r.Add(checks.EksctlIdentities(env, eksctl.Identities(env), field.NewPath("eksctl", "identities")))
			got := strings.Join(problem.Lines(r.Errors), "\n")
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
