package eksctl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/test/tools/eksctl/awsstandin"
)

// eksctlBinary is the real eksctl built from this module (make eksctl): $EKSCTL, else
// bin/eksctl-<version of go.mod> of the checkout. Missing, the test skips, or fails when
// EKSCTL_REQUIRED (or CI) is set.
func eksctlBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("EKSCTL")
	if bin == "" {
		mod, err := os.ReadFile("go.mod")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/weaveworks/eksctl v(\S+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatal("go.mod requires no github.com/weaveworks/eksctl")
		}
		bin = filepath.Join(repoRoot(t), "bin", "eksctl-"+string(m[1]))
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("EKSCTL_REQUIRED") != "" || os.Getenv("CI") != "" {
			t.Fatalf("eksctl binary %s missing (make eksctl builds it)", bin)
		}
		t.Skipf("eksctl binary %s missing (make eksctl builds it)", bin)
	}
	return bin
}

// runEksctl runs the binary against the stand-in and returns its combined output and error.
func runEksctl(t *testing.T, s *awsstandin.Server, region string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, eksctlBinary(t), args...)
	home := t.TempDir()
	cmd.Env = []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=AKIAENIGATESTANDIN00",
		"AWS_SECRET_ACCESS_KEY=enigate-standin-secret",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"KUBECONFIG=" + filepath.Join(home, "kubeconfig"),
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// clusterFile is the part of a rendered ClusterConfig the stand-in's world is made from.
type clusterFile struct {
	Metadata struct {
		Name, Region, Version string
	}
	AvailabilityZones []string
	VPC               struct {
		ID, CIDR string
		Subnets  struct {
			Private, Public map[string]struct{ ID, AZ, CIDR string }
		}
	}
}

func readCluster(t *testing.T, path string) clusterFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c clusterFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// world is the AWS account an overlay expects: its region's zones, its existing VPC if any,
// and (for the later phases) the cluster phase 1 created.
func world(c clusterFile, clusterExists bool) awsstandin.World {
	w := awsstandin.World{
		Region:             c.Metadata.Region,
		KubernetesVersions: []string{c.Metadata.Version},
		VPCID:              c.VPC.ID,
		VPCCIDR:            c.VPC.CIDR,
	}
	for _, z := range []string{"a", "b", "c", "d"} {
		w.Zones = append(w.Zones, c.Metadata.Region+z)
	}
	for _, s := range c.VPC.Subnets.Private {
		w.Subnets = append(w.Subnets, awsstandin.Subnet{ID: s.ID, AZ: s.AZ, CIDR: s.CIDR})
	}
	for _, s := range c.VPC.Subnets.Public {
		w.Subnets = append(w.Subnets, awsstandin.Subnet{ID: s.ID, AZ: s.AZ, CIDR: s.CIDR, Public: true})
	}
	slices.SortFunc(w.Subnets, func(a, b awsstandin.Subnet) int { return strings.Compare(a.ID, b.ID) })
	if clusterExists {
		w.Cluster = c.Metadata.Name
		w.Addons = []string{"coredns", "eks-pod-identity-agent"}
	}
	return w
}

// createdWorld adds what phase 1 created in a VPC eksctl made: the VPC and the subnets
// eksctl carved (as testdata/subnets.json records them).
func createdWorld(t *testing.T, env string, c clusterFile, w awsstandin.World) awsstandin.World {
	t.Helper()
	if c.VPC.ID != "" {
		return w
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "subnets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var carved map[string][]Subnet
	if err := json.Unmarshal(raw, &carved); err != nil {
		t.Fatal(err)
	}
	w.VPCID, w.VPCCIDR = "vpc-0e000000000000001", c.VPC.CIDR
	for i, s := range carved[env] {
		w.Subnets = append(w.Subnets, awsstandin.Subnet{ID: fmt.Sprintf("subnet-0e0000000000000%02d", i), AZ: s.AZ, CIDR: s.CIDR, Public: s.Kind == "public"})
	}
	return w
}

// template decodes the CloudFormation template of a recorded CreateStack.
func template(t *testing.T, c *awsstandin.Call) map[string]any {
	t.Helper()
	body := c.Params.Get("TemplateBody")
	if body == "" {
		t.Fatalf("CreateStack without TemplateBody: %v", c.Params)
	}
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatalf("template: %v", err)
	}
	return tmpl
}

// resources returns the template's resources of a CloudFormation type.
func resources(tmpl map[string]any, typ string) []map[string]any {
	res, _ := tmpl["Resources"].(map[string]any)
	var out []map[string]any
	for _, name := range sortedKeys(res) {
		r, _ := res[name].(map[string]any)
		if r["Type"] == typ {
			p, _ := r["Properties"].(map[string]any)
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func stopCheck(t *testing.T, s *awsstandin.Server, out string, err error) *awsstandin.Call {
	t.Helper()
	if u := s.Unknown(); len(u) > 0 {
		t.Fatalf("eksctl called what the stand-in cannot answer: %v\n%s", u, out)
	}
	m := s.Mutating()
	if m == nil {
		t.Fatalf("eksctl stopped before any mutating call (err %v):\n%s", err, out)
	}
	if err == nil {
		t.Errorf("eksctl succeeded although its first mutating call was refused:\n%s", out)
	}
	if !strings.Contains(out, awsstandin.StopMessage) {
		t.Errorf("eksctl did not stop on the stand-in's refusal:\n%s", out)
	}
	return m
}

// TestCreateCluster runs `eksctl create cluster -f overlays/<env>/eksctl/cluster.yaml` until its
// first mutating call: the cluster stack, whose template must create the subnets enigate
// modelled (VPC eksctl creates) or use the declared subnet ids (existing VPC).
func TestCreateCluster(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "subnets.json"))
	if err != nil {
		t.Fatal(err)
	}
	modelled := map[string][]Subnet{}
	if err := json.Unmarshal(raw, &modelled); err != nil {
		t.Fatal(err)
	}
	for _, env := range overlays(t) {
		t.Run(env, func(t *testing.T) {
			path := filepath.Join(repoRoot(t), "overlays", env, "eksctl", "cluster.yaml")
			c := readCluster(t, path)
			s := awsstandin.Start(world(c, false))
			defer s.Close()
			out, err := runEksctl(t, s, c.Metadata.Region, "create", "cluster", "-f", path)
			m := stopCheck(t, s, out, err)
			logCalls(t, s, out)
			if m.Service != "cloudformation" || m.Action != "CreateStack" || m.Params.Get("StackName") != "eksctl-"+c.Metadata.Name+"-cluster" {
				t.Fatalf("first mutating call %s %s %s, want cloudformation CreateStack eksctl-%s-cluster", m.Service, m.Action, m.Params.Get("StackName"), c.Metadata.Name)
			}
			tmpl := template(t, m)
			var got []Subnet
			for _, p := range resources(tmpl, "AWS::EC2::Subnet") {
				kind := "private"
				for _, tag := range asList(p["Tags"]) {
					tm, _ := tag.(map[string]any)
					if tm["Key"] == "kubernetes.io/role/elb" {
						kind = "public"
					}
				}
				cidr, _ := p["CidrBlock"].(string)
				az, _ := p["AvailabilityZone"].(string)
				got = append(got, Subnet{kind, az, cidr})
			}
			sortSubnets(got)
			want := slices.Clone(modelled[env])
			sortSubnets(want)
			if !slices.Equal(got, want) {
				t.Errorf("cluster stack creates subnets %v, enigate modelled %v", got, want)
			}
			vpcs := resources(tmpl, "AWS::EC2::VPC")
			if c.VPC.ID != "" {
				if len(vpcs) > 0 {
					t.Errorf("the stack creates a VPC although %s exists", c.VPC.ID)
				}
				ids := controlPlaneSubnets(tmpl)
				for _, sn := range world(c, false).Subnets {
					if !slices.Contains(ids, sn.ID) {
						t.Errorf("control plane subnets %v lack declared %s", ids, sn.ID)
					}
				}
				return
			}
			if len(vpcs) != 1 || vpcs[0]["CidrBlock"] != c.VPC.CIDR {
				t.Errorf("stack VPCs %v, want one with CIDR %s", vpcs, c.VPC.CIDR)
			}
		})
	}
}

// controlPlaneSubnets are the literal subnet ids of the EKS cluster resource.
func controlPlaneSubnets(tmpl map[string]any) []string {
	var ids []string
	for _, p := range resources(tmpl, "AWS::EKS::Cluster") {
		vc, _ := p["ResourcesVpcConfig"].(map[string]any)
		for _, id := range asList(vc["SubnetIds"]) {
			if s, ok := id.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	return ids
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortSubnets(s []Subnet) {
	slices.SortFunc(s, func(a, b Subnet) int { return strings.Compare(a.Kind+a.AZ, b.Kind+b.AZ) })
}

// TestOldShapeFails proves the stand-in catches the failure enigate used to render: subnets
// listed by CIDR without ids or vpc.id send eksctl down its existing-subnets path, where it
// stops before any mutating call.
func TestOldShapeFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	old := `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: old, region: ap-northeast-2, version: "1.33"}
addonsConfig: {disableDefaultAddons: true}
addons: [{name: coredns}]
vpc:
  cidr: 10.0.0.0/16
  nat: {gateway: HighlyAvailable}
  subnets:
    private:
      ap-northeast-2a: {az: ap-northeast-2a, cidr: 10.0.0.0/19}
      ap-northeast-2b: {az: ap-northeast-2b, cidr: 10.0.32.0/19}
`
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	s := awsstandin.Start(awsstandin.World{Region: "ap-northeast-2", Zones: []string{"ap-northeast-2a", "ap-northeast-2b"}, KubernetesVersions: []string{"1.33"}})
	defer s.Close()
	out, err := runEksctl(t, s, "ap-northeast-2", "create", "cluster", "-f", path)
	if err == nil {
		t.Fatalf("eksctl accepted the old shape:\n%s", out)
	}
	if !strings.Contains(out, "can't describe subnet by CIDR without VPC ID") {
		t.Errorf("eksctl failed otherwise:\n%s", out)
	}
	if m := s.Mutating(); m != nil {
		t.Errorf("eksctl reached a mutating call %s %s", m.Service, m.Action)
	}
}

// logCalls logs what eksctl asked the stand-in and printed (shown with -v or on failure).
func logCalls(t *testing.T, s *awsstandin.Server, out string) {
	t.Helper()
	for _, c := range s.Calls() {
		t.Logf("call %s %s", c.Service, c.Action)
	}
	t.Logf("eksctl output:\n%s", out)
}

// TestCreatePodIdentityAssociations runs `eksctl create podidentityassociation -f
// overlays/<env>/eksctl/identities.yaml` against the cluster phase 1 made, until its first
// mutating call: the IAM role stack of one of the associations, with that association's policy.
func TestCreatePodIdentityAssociations(t *testing.T) {
	for _, env := range overlays(t) {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join(repoRoot(t), "overlays", env, "eksctl")
			c := readCluster(t, filepath.Join(dir, "cluster.yaml"))
			s := awsstandin.Start(world(c, true))
			defer s.Close()
			out, err := runEksctl(t, s, c.Metadata.Region, "create", "podidentityassociation", "-f", filepath.Join(dir, "identities.yaml"))
			m := stopCheck(t, s, out, err)
			logCalls(t, s, out)
			if m.Service != "cloudformation" || m.Action != "CreateStack" {
				t.Fatalf("first mutating call %s %s, want cloudformation CreateStack", m.Service, m.Action)
			}
			want := map[string]string{ // stack name suffix -> an action only that policy grants
				"podidentityrole-kube-system-cilium-operator":              "ec2:AssignPrivateIpAddresses",
				"podidentityrole-kube-system-aws-load-balancer-controller": "elasticloadbalancing:CreateLoadBalancer",
			}
			// The two role stacks are created in parallel: both attempts are recorded (the
			// second is refused like the first).
			seen := map[string]bool{}
			for _, call := range s.Calls() {
				if call.Service != "cloudformation" || call.Action != "CreateStack" {
					continue
				}
				name := call.Params.Get("StackName")
				suffix := strings.TrimPrefix(name, "eksctl-"+c.Metadata.Name+"-")
				action, ok := want[suffix]
				if !ok {
					t.Errorf("stack %s is none of the associations' role stacks %v", name, sortedKeys(want))
					continue
				}
				seen[suffix] = true
				tmpl := template(t, &call)
				raw, _ := json.Marshal(tmpl)
				if len(resources(tmpl, "AWS::IAM::Role")) != 1 || !strings.Contains(string(raw), `"`+action+`"`) || !strings.Contains(string(raw), "pods.eks.amazonaws.com") {
					t.Errorf("stack %s lacks one role trusting pods.eks.amazonaws.com with %s: %s", name, action, raw)
				}
			}
			for suffix := range want {
				if !seen[suffix] {
					t.Errorf("no role stack %s", suffix)
				}
			}
		})
	}
}

// TestCreateNodeGroups runs `eksctl create nodegroup -f overlays/<env>/eksctl/nodegroups.yaml`
// against the cluster phase 1 made, until its first mutating call: a managed node group stack.
func TestCreateNodeGroups(t *testing.T) {
	for _, env := range overlays(t) {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join(repoRoot(t), "overlays", env, "eksctl")
			c := readCluster(t, filepath.Join(dir, "cluster.yaml"))
			s := awsstandin.Start(createdWorld(t, env, c, world(c, true)))
			defer s.Close()
			out, err := runEksctl(t, s, c.Metadata.Region, "create", "nodegroup", "-f", filepath.Join(dir, "nodegroups.yaml"))
			logCalls(t, s, out)
			m := stopCheck(t, s, out, err)
			if m.Service != "cloudformation" || m.Action != "CreateStack" || !strings.Contains(m.Params.Get("StackName"), "-nodegroup-") {
				t.Fatalf("first mutating call %s %s %s, want cloudformation CreateStack of a node group", m.Service, m.Action, m.Params.Get("StackName"))
			}
			w := createdWorld(t, env, c, world(c, true))
			var private []string
			for _, sn := range w.Subnets {
				if !sn.Public {
					private = append(private, sn.ID)
				}
			}
			tmpl := template(t, m)
			groups := resources(tmpl, "AWS::EKS::Nodegroup")
			if len(groups) != 1 {
				t.Fatalf("node group stack has %d node groups, want 1", len(groups))
			}
			subnets := asList(groups[0]["Subnets"])
			if len(subnets) == 0 {
				t.Error("node group without subnets")
			}
			for _, id := range subnets {
				if s, _ := id.(string); !slices.Contains(private, s) {
					t.Errorf("node group subnet %v is not one of the private subnets %v", id, private)
				}
			}
			raw, _ := json.Marshal(groups[0]["Taints"])
			if !strings.Contains(string(raw), "node.cilium.io/agent-not-ready") || !strings.Contains(string(raw), "NO_EXECUTE") {
				t.Errorf("node group taints %s lack node.cilium.io/agent-not-ready:NoExecute", raw)
			}
			if res, _ := tmpl["Resources"].(map[string]any); res["PolicyAWSLoadBalancerController"] != nil {
				t.Error("the node role carries the load balancer controller's policy")
			}
			roles, _ := json.Marshal(resources(tmpl, "AWS::IAM::Role"))
			if strings.Contains(string(roles), "AmazonEKS_CNI_Policy") || !strings.Contains(string(roles), "AmazonEKSWorkerNodePolicy") {
				t.Errorf("node role: want AmazonEKSWorkerNodePolicy and no AmazonEKS_CNI_Policy (only the Cilium operator calls EC2): %s", roles)
			}
		})
	}
}
