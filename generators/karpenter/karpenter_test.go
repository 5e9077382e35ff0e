package karpenter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
)

// TestRequirementsLaunchTheComputedSet: the rendered NodePool requirements, read the way the
// admission rule reads them (as Karpenter does), allow exactly the instance set the capacity
// model computed the pool's max pods over.
func TestRequirementsLaunchTheComputedSet(t *testing.T) {
	tab, err := capacity.Default()
	if err != nil {
		t.Fatal(err)
	}
	metal := tab.MetalSizes()
	var families []string
	for _, it := range tab.Types {
		if !slices.Contains(families, it.Family()) {
			families = append(families, it.Family())
		}
	}
	sizes := []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "metal", "metal-24xl"}
	rng := rand.New(rand.NewPCG(1, 4))
	for i := range 200 {
		p := model.NodePool{Name: "p", Architectures: [][]string{{"amd64"}, {"arm64"}, {"amd64", "arm64"}}[rng.IntN(3)],
			CapacityTypes: []string{"on-demand"}, BareMetal: rng.IntN(3) == 0, NitroOnly: rng.IntN(4) == 0,
			MinGeneration: []int{0, 5, 7}[rng.IntN(3)], AvailabilityZones: []string{"eu-west-1a"}}
		for range 1 + rng.IntN(3) {
			p.Families = append(p.Families, families[rng.IntN(len(families))])
		}
		if i%3 == 0 {
			p.Families, p.Categories = nil, []string{"c", "m", "r"}[rng.IntN(3):][:1]
		}
		if rng.IntN(2) == 0 {
			for _, s := range sizes {
				if rng.IntN(3) == 0 && (p.BareMetal || !capacity.IsMetalSize(s)) {
					p.Sizes = append(p.Sizes, s)
				}
			}
		}
		var reqs []rules.NodeRequirement
		for _, r := range Requirements(p, metal) {
			m := r.(map[string]any)
			nr := rules.NodeRequirement{Key: m["key"].(string), Operator: m["operator"].(string)}
			for _, v := range m["values"].([]any) {
				nr.Values = append(nr.Values, v.(string))
			}
			reqs = append(reqs, nr)
		}
		got, err := rules.LaunchableTypes(reqs)
		if err != nil {
			t.Fatal(err)
		}
		want := tab.InstanceSet(capacity.RequirementsFor(p))
		name := func(it capacity.InstanceType) string { return it.Name }
		if g, w := mapNames(got, name), mapNames(want, name); !slices.Equal(g, w) {
			t.Fatalf("pool %+v: rendered requirements allow %d types, the capacity model computed %d\nrendered: %v\nmodel: %v", p, len(g), len(w), g, w)
		}
	}
}

func mapNames(in []capacity.InstanceType, f func(capacity.InstanceType) string) []string {
	out := make([]string, len(in))
	for i, it := range in {
		out[i] = f(it)
	}
	return out
}

func TestCloudFormationDropsTheCNIPolicy(t *testing.T) {
	b, err := CloudFormation("1.14.3")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("AmazonEKS_CNI_Policy")) {
		t.Error("node role keeps AmazonEKS_CNI_Policy")
	}
	for _, want := range append([]string{"KarpenterNodeRole-${ClusterName}", "AWS::SQS::Queue", "AmazonEKSWorkerNodePolicy"}, ControllerPolicies...) {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("template lacks %s", want)
		}
	}
	if _, err := CloudFormation("0.0.1"); err == nil {
		t.Error("an unvendored version renders")
	}
}

func TestValidate(t *testing.T) {
	env := model.Environment{
		VPC:       model.VPC{ID: "vpc-0123456789abcdef0", Subnets: []model.Subnet{{AZ: "eu-west-1a", Kind: "private", CIDR: "10.0.0.0/20"}}},
		Karpenter: model.Karpenter{NodePools: []model.NodePool{{Name: "p", Sizes: []string{"xlarge", "metal"}, AvailabilityZones: []string{"eu-west-1a"}}}},
	}
	errs := Validate(env, nil)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"vpc.subnets.private[eu-west-1a].id: Required value: node pool p selects the subnets of an existing VPC by id",
		`karpenter.nodePools[p].sizes[1]: Invalid value: "metal": a metal size with bareMetal false`} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	if len(errs) != 2 {
		t.Errorf("%d errors, want 2", len(errs))
	}
}

func TestNodeClassSelectors(t *testing.T) {
	pool := model.NodePool{Name: "p", Families: []string{"m7g"}, Architectures: []string{"arm64"}, CapacityTypes: []string{"on-demand"},
		AMIFamily: "Bottlerocket", VolumeSize: 50, AvailabilityZones: []string{"eu-west-1a"}, Limits: model.NodePoolLimits{CPU: 8}}
	created := model.Environment{Cluster: model.Cluster{Name: "dev"}, Karpenter: model.Karpenter{AMIVersion: "v1.26.2", NodePools: []model.NodePool{pool}}}
	existing := created
	existing.VPC = model.VPC{ID: "vpc-0123456789abcdef0", Subnets: []model.Subnet{
		{AZ: "eu-west-1a", Kind: "private", ID: "subnet-0a"}, {AZ: "eu-west-1b", Kind: "private", ID: "subnet-0b"}, {AZ: "eu-west-1a", Kind: "public", ID: "subnet-0c"}}}
	for _, tt := range []struct {
		name    string
		env     model.Environment
		subnets string
	}{
		{"eksctl's VPC by its tags", created, `[map[tags:map[alpha.eksctl.io/cluster-name:dev kubernetes.io/role/internal-elb:1]]]`},
		{"an existing VPC by the pool's private subnet ids", existing, `[map[id:subnet-0a]]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Objects(tt.env, func(model.NodePool) int { return 27 })
			if err != nil {
				t.Fatal(err)
			}
			spec := objs[0].(map[string]any)["spec"].(map[string]any)
			if got := fmt.Sprint(spec["subnetSelectorTerms"]); got != tt.subnets {
				t.Errorf("subnets %s, want %s", got, tt.subnets)
			}
			if got := fmt.Sprint(spec["amiSelectorTerms"], spec["securityGroupSelectorTerms"], spec["kubelet"], spec["blockDeviceMappings"]); got !=
				"[map[alias:bottlerocket@v1.26.2]] [map[tags:map[aws:eks:cluster-name:dev]]] map[maxPods:27] [map[deviceName:/dev/xvdb ebs:map[encrypted:true volumeSize:50Gi volumeType:gp3]]]" {
				t.Errorf("node class %s", got)
			}
			np := objs[1].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			if got := fmt.Sprint(np["startupTaints"]); got != "[map[effect:NoExecute key:node.cilium.io/agent-not-ready value:true]]" {
				t.Errorf("startup taints %s", got)
			}
		})
	}
}
