package upstream

import (
	"reflect"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/problem"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var eksctlPath = field.NewPath("eksctl", "cluster")

// minimalCluster is the smallest ClusterConfig the schema accepts, for
// building cases from.
const minimalCluster = `
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c, region: ap-northeast-2}
`

func TestValidateEksctlFiles(t *testing.T) {
	tests := []struct {
		name           string
		file           string
		want           []string
		wantDeprecated []string
	}{
		{
			name: "correct Cilium ENI cluster passes",
			file: "testdata/cluster-config.yaml",
		},
		{
			name: "the guide's cluster config",
			file: "testdata/guide-cluster-config.yaml",
			want: []string{
				"eksctl.cluster.kubeProxy: unknown field (kube-proxy is left out by addonsConfig.disableDefaultAddons: true and not listing it under addons; allowed: one of the 31 fields of ClusterConfig, see the eksctl v0.230.0 schema)",
			},
			wantDeprecated: []string{
				"eksctl.cluster.managedNodeGroups[0].iam.withAddonPolicies.albIngress: deprecated (and not needed: the AWS Load Balancer Controller gets its own Pod Identity association in eksctl/identities.yaml, so node roles carry no add-on policy)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readYAMLFile(t, tt.file)
			if got := problem.Lines(ValidateEksctl(doc, eksctlPath)); !equalLines(got, tt.want) {
				t.Errorf("ValidateEksctl: got %d lines:\n%s\nwant:\n%s", len(got), strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if got := problem.Lines(EksctlDeprecations(doc, eksctlPath)); !equalLines(got, tt.wantDeprecated) {
				t.Errorf("EksctlDeprecations: got %d lines:\n%s\nwant:\n%s", len(got), strings.Join(got, "\n"), strings.Join(tt.wantDeprecated, "\n"))
			}
		})
	}
}

func TestValidateEksctl(t *testing.T) {
	tests := []struct {
		name  string
		extra string // YAML merged into minimalCluster's top level
		doc   map[string]any
		want  []string
	}{
		{name: "minimal cluster", extra: ""},
		{
			name:  "kubeProxy.disable",
			extra: "kubeProxy: {disable: true}",
			want:  []string{"eksctl.cluster.kubeProxy: unknown field (kube-proxy is left out by addonsConfig.disableDefaultAddons: true and not listing it under addons; allowed: one of the 31 fields of ClusterConfig, see the eksctl v0.230.0 schema)"},
		},
		{
			name:  "unknown field in a small object lists the allowed fields",
			extra: "addonsConfig: {disableDefaultAddons: true, bootstrapSelfManagedAddons: false}",
			want:  []string{"eksctl.cluster.addonsConfig.bootstrapSelfManagedAddons: unknown field (eksctl sets the EKS bootstrapSelfManagedAddons field itself; use disableDefaultAddons: true; allowed: autoApplyPodIdentityAssociations, disableDefaultAddons)"},
		},
		{
			name:  "near miss inside a list item",
			extra: "managedNodeGroups: [{name: a}, {name: b, maxPodPerNode: 42}]",
			want:  []string{"eksctl.cluster.managedNodeGroups[1].maxPodPerNode: unknown field (did you mean maxPodsPerNode?; allowed: one of the 48 fields of ManagedNodeGroup, see the eksctl v0.230.0 schema)"},
		},
		{
			name:  "near miss by case",
			extra: "iam: {withOidc: true}",
			want:  []string{"eksctl.cluster.iam.withOidc: unknown field (did you mean withOIDC?; allowed: fargatePodExecutionRoleARN, fargatePodExecutionRolePermissionsBoundary, podIdentityAssociations, serviceAccounts, serviceRoleARN, serviceRolePermissionsBoundary, vpcResourceControllerPolicy, withOIDC)"},
		},
		{
			name:  "enum lists the allowed values",
			extra: "vpc: {nat: {gateway: HA}}",
			want:  []string{`eksctl.cluster.vpc.nat.gateway: must be one of "HighlyAvailable", "Single", "Disable" (got "HA")`},
		},
		{
			name:  "wrong type",
			extra: `managedNodeGroups: [{name: a, maxPodsPerNode: "42", taints: {key: x}}]`,
			want: []string{
				"eksctl.cluster.managedNodeGroups[0].maxPodsPerNode: must be integer (got string)",
				"eksctl.cluster.managedNodeGroups[0].taints: must be array (got object)",
			},
		},
		{
			name:  "albIngress is still accepted by the schema",
			extra: "managedNodeGroups: [{name: a, iam: {withAddonPolicies: {albIngress: true}}}]",
		},
		{
			name:  "every problem at once",
			extra: "kubeProxy: {disable: true}\naddonsConfig: {disableDefaultAddons: 'true'}\nvpc: {nat: {gateway: HA}}\nmanagedNodeGroups: [{name: a, instanceTypes: m7g.xlarge, volumeType: gp4}]",
			want: []string{
				"eksctl.cluster.addonsConfig.disableDefaultAddons: must be boolean (got string)",
				"eksctl.cluster.kubeProxy: unknown field (kube-proxy is left out by addonsConfig.disableDefaultAddons: true and not listing it under addons; allowed: one of the 31 fields of ClusterConfig, see the eksctl v0.230.0 schema)",
				"eksctl.cluster.managedNodeGroups[0].instanceTypes: must be array (got string)",
				`eksctl.cluster.managedNodeGroups[0].volumeType: must be one of "gp2", "gp3", "io1", "io2", "sc1", "st1" (got "gp4")`,
				`eksctl.cluster.vpc.nat.gateway: must be one of "HighlyAvailable", "Single", "Disable" (got "HA")`,
			},
		},
		{
			name: "empty document",
			doc:  map[string]any{},
			want: []string{
				"eksctl.cluster.apiVersion: required field missing",
				"eksctl.cluster.kind: required field missing",
				"eksctl.cluster.metadata: required field missing",
			},
		},
		{
			name: "nil document",
			doc:  nil,
			want: []string{
				"eksctl.cluster.apiVersion: required field missing",
				"eksctl.cluster.kind: required field missing",
				"eksctl.cluster.metadata: required field missing",
			},
		},
		{
			name: "wrong kind and apiVersion",
			doc:  map[string]any{"apiVersion": "eksctl.io/v1alpha4", "kind": "Cluster", "metadata": map[string]any{"name": "c", "region": "ap-northeast-2"}},
			want: []string{
				`eksctl.cluster.apiVersion: must be "eksctl.io/v1alpha5" (got "eksctl.io/v1alpha4")`,
				`eksctl.cluster.kind: must be "ClusterConfig" (got "Cluster")`,
			},
		},
		{
			name: "Go types and values without a JSON form",
			doc: map[string]any{
				"apiVersion":        "eksctl.io/v1alpha5",
				"kind":              "ClusterConfig",
				"metadata":          map[string]string{"name": "c", "region": "ap-northeast-2"},
				"availabilityZones": []string{"ap-northeast-2a", "ap-northeast-2b"},
				"managedNodeGroups": []map[string]any{{"name": "a", "maxPodsPerNode": 42, "labels": make(chan int)}},
			},
			want: []string{"eksctl.cluster.managedNodeGroups[0].labels: has no JSON form (got chan int)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if doc == nil && tt.name != "nil document" {
				doc = mustYAML(t, minimalCluster+tt.extra)
			}
			got := problem.Lines(ValidateEksctl(doc, eksctlPath))
			if !equalLines(got, tt.want) {
				t.Fatalf("got %d lines:\n%s\nwant %d lines:\n%s", len(got), strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func equalLines(got, want []string) bool {
	return len(got) == 0 && len(want) == 0 || reflect.DeepEqual(got, want)
}
