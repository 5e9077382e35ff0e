// Package eksctl_test loads every rendered eksctl phase file of every example overlay with
// eksctl's own code, the way `eksctl create cluster`, `create podidentityassociation` and
// `create nodegroup` do before their first AWS call (eksctl v0.230.0: pkg/ctl/create/*.go,
// pkg/ctl/cmdutils/configfile.go, pkg/ctl/cmdutils/cmd.go InitializeClusterConfig).
package eksctl_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/weaveworks/eksctl/pkg/accessentry"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"github.com/weaveworks/eksctl/pkg/ctl/cmdutils"
	"github.com/weaveworks/eksctl/pkg/ctl/cmdutils/filter"
	"github.com/weaveworks/eksctl/pkg/eks"
	"github.com/weaveworks/eksctl/pkg/vpc"
)

// repoRoot is the enigate checkout this module lives in (test/tools/eksctl).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// overlays lists every example overlay that has rendered eksctl files.
func overlays(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "overlays", "*", "eksctl"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no overlays/*/eksctl under %s (%v)", repoRoot(t), err)
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Base(filepath.Dir(d)))
	}
	return out
}

func newCmd(path string) *cmdutils.Cmd {
	return &cmdutils.Cmd{
		CobraCommand:      &cobra.Command{Use: "test"},
		ClusterConfigFile: path,
		ClusterConfig:     api.NewClusterConfig(),
		Validate:          true,
	}
}

// Subnet is one subnet eksctl will create, as the golden file records it.
type Subnet struct {
	Kind string `json:"kind"`
	AZ   string `json:"az"`
	CIDR string `json:"cidr"`
}

// loadCluster runs what `eksctl create cluster -f path` runs before it calls AWS: the create
// cluster loader (strict decode, validateBareCluster, ...), defaults and ValidateClusterConfig,
// doCreateCluster's own checks, and for a VPC eksctl creates, SetAvailabilityZones (declared
// zones: no EC2 call) and SetSubnets. It returns the subnets eksctl will create (none for an
// existing VPC).
func loadCluster(t *testing.T, path string) ([]Subnet, error) {
	cmd := newCmd(path)
	if err := cmdutils.NewCreateClusterLoader(cmd, filter.NewNodeGroupFilter(), api.NewNodeGroup(), &cmdutils.CreateClusterCmdParams{}).Load(); err != nil {
		return nil, err
	}
	if err := cmd.InitializeClusterConfig(); err != nil {
		return nil, err
	}
	cfg := cmd.ClusterConfig
	for _, check := range []func() error{cfg.ValidatePrivateCluster, cfg.ValidateClusterEndpointConfig, func() error { return accessentry.ValidateAPIServerAccess(cfg) }} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	if cfg.HasAnySubnets() {
		if cfg.VPC.ID == "" {
			t.Errorf("%s: subnets without vpc.id", path)
		}
		for _, m := range []api.AZSubnetMapping{cfg.VPC.Subnets.Private, cfg.VPC.Subnets.Public} {
			for k, s := range m {
				if s.ID == "" {
					t.Errorf("%s: subnet %s has no id (eksctl would look it up by CIDR)", path, k)
				}
			}
		}
		return nil, nil
	}
	if _, err := eks.SetAvailabilityZones(context.Background(), cfg, nil, nil, cfg.Metadata.Region); err != nil {
		return nil, err
	}
	if err := vpc.SetSubnets(cfg.VPC, cfg.AvailabilityZones, cfg.LocalZones); err != nil {
		return nil, err
	}
	var out []Subnet
	for _, az := range cfg.AvailabilityZones {
		out = append(out, Subnet{"private", az, cfg.VPC.Subnets.Private[az].CIDR.String()})
	}
	for _, az := range cfg.AvailabilityZones {
		out = append(out, Subnet{"public", az, cfg.VPC.Subnets.Public[az].CIDR.String()})
	}
	return out, nil
}

// loadIdentities runs what `eksctl create podidentityassociation -f path` (and, with IRSA,
// `eksctl create iamserviceaccount -f path`) runs before it calls AWS.
func loadIdentities(path string) (*api.ClusterConfig, error) {
	cmd := newCmd(path)
	if err := cmdutils.NewCreatePodIdentityAssociationLoader(cmd, &api.PodIdentityAssociation{}).Load(); err != nil {
		return nil, err
	}
	if err := cmd.InitializeClusterConfig(); err != nil {
		return nil, err
	}
	if len(cmd.ClusterConfig.IAM.ServiceAccounts) > 0 {
		sa := newCmd(path)
		if err := cmdutils.NewCreateIAMServiceAccountLoader(sa, filter.NewIAMServiceAccountFilter()).Load(); err != nil {
			return nil, err
		}
		if err := sa.InitializeClusterConfig(); err != nil {
			return nil, err
		}
	}
	return cmd.ClusterConfig, nil
}

// loadNodeGroups runs what `eksctl create nodegroup -f path` runs before it calls AWS.
func loadNodeGroups(path string) (*api.ClusterConfig, error) {
	cmd := newCmd(path)
	if err := cmdutils.NewCreateNodeGroupLoader(cmd, api.NewNodeGroup(), filter.NewNodeGroupFilter(), &cmdutils.NodeGroupOptions{}).Load(); err != nil {
		return nil, err
	}
	if err := cmd.InitializeClusterConfig(); err != nil {
		return nil, err
	}
	return cmd.ClusterConfig, nil
}

// TestPhaseFilesLoad loads, defaults and validates every phase file of every example with
// eksctl's code, and checks the subnets eksctl will carve against testdata/subnets.json, the
// file enigate's own model is compared with (schema/vpc tests).
func TestPhaseFilesLoad(t *testing.T) {
	golden := filepath.Join("testdata", "subnets.json")
	want := map[string][]Subnet{}
	if raw, err := os.ReadFile(golden); err == nil {
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]Subnet{}
	for _, env := range overlays(t) {
		dir := filepath.Join(repoRoot(t), "overlays", env, "eksctl")
		t.Run(env+"/cluster.yaml", func(t *testing.T) {
			subnets, err := loadCluster(t, filepath.Join(dir, "cluster.yaml"))
			if err != nil {
				t.Fatalf("eksctl create cluster would stop: %v", err)
			}
			if subnets != nil {
				got[env] = subnets
			}
			if os.Getenv("UPDATE_GOLDEN") == "" && !slices.Equal(subnets, want[env]) {
				t.Errorf("eksctl carves %v, testdata/subnets.json says %v", subnets, want[env])
			}
		})
		t.Run(env+"/identities.yaml", func(t *testing.T) {
			cfg, err := loadIdentities(filepath.Join(dir, "identities.yaml"))
			if err != nil {
				t.Fatalf("eksctl create podidentityassociation would stop: %v", err)
			}
			var sas []string
			for _, p := range cfg.IAM.PodIdentityAssociations {
				sas = append(sas, p.Namespace+"/"+p.ServiceAccountName)
			}
			if !slices.Contains(sas, "kube-system/aws-load-balancer-controller") {
				t.Errorf("associations %v lack the load balancer controller's", sas)
			}
			if !slices.Contains(sas, "kube-system/cilium-operator") && len(cfg.IAM.ServiceAccounts) == 0 {
				t.Errorf("no identity for the Cilium operator: %v", sas)
			}
		})
		t.Run(env+"/nodegroups.yaml", func(t *testing.T) {
			cfg, err := loadNodeGroups(filepath.Join(dir, "nodegroups.yaml"))
			if err != nil {
				t.Fatalf("eksctl create nodegroup would stop: %v", err)
			}
			if len(cfg.ManagedNodeGroups) == 0 {
				t.Error("no managed node groups")
			}
			for _, ng := range cfg.ManagedNodeGroups {
				if ng.IAM != nil && ng.IAM.WithAddonPolicies.AWSLoadBalancerController != nil && *ng.IAM.WithAddonPolicies.AWSLoadBalancerController {
					t.Errorf("node group %s: node role carries the load balancer controller policy", ng.Name)
				}
			}
		})
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		raw, _ := json.MarshalIndent(got, "", "\t")
		if err := os.WriteFile(golden, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefusals proves the harness can fail: eksctl's code refuses the shapes enigate refuses.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name, file, yaml, want string
	}{
		{
			name: "node groups in the bare cluster", file: "cluster.yaml",
			yaml: bareCluster + `addons: [{name: coredns}]
managedNodeGroups: [{name: ng, desiredCapacity: 2}]
`,
			want: "not supported during cluster creation in a cluster without VPC CNI",
		},
		{
			name: "pod identity associations in the bare cluster", file: "cluster.yaml",
			yaml: bareCluster + `addons: [{name: coredns}, {name: eks-pod-identity-agent}]
iam: {podIdentityAssociations: [{namespace: kube-system, serviceAccountName: cilium-operator, permissionPolicyARNs: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}]}
`,
			want: "not supported during cluster creation in a cluster without VPC CNI",
		},
		{
			// why generators/karpenter installs the chart itself (docs/capacity.md)
			name: "eksctl's karpenter section in the bare cluster", file: "cluster.yaml",
			yaml: bareCluster + `addons: [{name: coredns}, {name: eks-pod-identity-agent}]
iam: {withOIDC: true}
karpenter: {version: "1.14.3", withSpotInterruptionQueue: true}
`,
			want: "not supported during cluster creation in a cluster without VPC CNI",
		},
		{
			name: "availabilityZones beside subnets", file: "cluster.yaml",
			yaml: clusterHeader + twoZones + `vpc: {subnets: {private: {ap-northeast-2a: {id: subnet-0a00000000000001a}}}}
`,
			want: "vpc.subnets and availabilityZones cannot be set at the same time",
		},
		{
			name: "unknown field", file: "cluster.yaml",
			yaml: clusterHeader + `kubeProxy: {disable: true}
`,
			want: `unknown field "kubeProxy"`,
		},
		{
			name: "VPC CIDR too small for eksctl", file: "cluster.yaml",
			yaml: clusterHeader + twoZones + `vpc: {cidr: 10.0.0.0/25}
`,
			want: "VPC CIDR prefix must be between /16 and /24",
		},
		{
			name: "identities file without associations", file: "identities.yaml",
			yaml: `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: x, region: ap-northeast-2}
`,
			want: "no iam.podIdentityAssociations specified",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			switch tt.file {
			case "cluster.yaml":
				_, err = loadCluster(t, path)
			case "identities.yaml":
				_, err = loadIdentities(path)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBareClusterAcceptsOIDC: with IRSA enigate puts iam.withOIDC in the bare cluster (the
// OIDC provider is created with it, before `eksctl create iamserviceaccount --approve` needs it);
// validateBareCluster refuses only service accounts and associations there.
func TestBareClusterAcceptsOIDC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	cfg := bareCluster + `addons: [{name: coredns}, {name: eks-pod-identity-agent}]
iam: {withOIDC: true}
`
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCluster(t, path); err != nil {
		t.Fatalf("eksctl refuses iam.withOIDC in a bare cluster: %v", err)
	}
}

// TestVersionIsOneFact: the eksctl this module builds is the one the schema pins.
func TestVersionIsOneFact(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	cue, err := os.ReadFile(filepath.Join(repoRoot(t), "schema", "enigate.cue"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/weaveworks/eksctl v(\S+)`).FindSubmatch(mod)
	c := regexp.MustCompile(`\beksctl:\s*\*"([^"]+)"`).FindSubmatch(cue)
	if m == nil || c == nil {
		t.Fatalf("no eksctl version in go.mod (%v) or schema/enigate.cue (%v)", m != nil, c != nil)
	}
	if string(m[1]) != string(c[1]) {
		t.Errorf("go.mod builds eksctl %s, schema/enigate.cue pins versions.eksctl %s", m[1], c[1])
	}
}

// The heads of the hand-written ClusterConfigs above: a cluster in two zones, and the bare one
// (no default add-ons) enigate renders for phase 1.
const (
	clusterHeader = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: x, region: ap-northeast-2, version: \"1.33\"}\n"
	twoZones      = "availabilityZones: [ap-northeast-2a, ap-northeast-2b]\n"
	bareCluster   = clusterHeader + twoZones + "addonsConfig: {disableDefaultAddons: true}\n"
)
