package capacity

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/test/golden"
)

// testEnv builds an environment with three private /20 subnets (and one public) and the given
// node groups; mutate the result for each case.
func testEnv(groups ...model.NodeGroup) model.Environment {
	return model.Environment{
		Name: "test",
		VPC: model.VPC{CIDR: "10.0.0.0/16", Subnets: []model.Subnet{
			{Name: "private-a", AZ: "eu-west-1a", CIDR: "10.0.0.0/20", Kind: "private"},
			{Name: "private-b", AZ: "eu-west-1b", CIDR: "10.0.16.0/20", Kind: "private"},
			{Name: "private-c", AZ: "eu-west-1c", CIDR: "10.0.32.0/20", Kind: "private"},
			{Name: "public-a", AZ: "eu-west-1a", CIDR: "10.0.128.0/24", Kind: "public"},
		}},
		NodeGroups: groups,
		Cilium:     model.Cilium{HostNetworkPods: 2, PreAllocate: 8},
	}
}

func group(name, typ string, maxSize, maxPods int, azs ...string) model.NodeGroup {
	return model.NodeGroup{Name: name, InstanceType: typ, MinSize: 1, MaxSize: maxSize, MaxPodsPerNode: maxPods, AvailabilityZones: azs}
}

func errorStrings(errs field.ErrorList) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func TestValidateNodeGroups(t *testing.T) {
	tests := []struct {
		name string
		env  model.Environment
		want []string // substrings, one error each; empty means valid
	}{
		{name: "derived and within bound", env: testEnv(group("general", "m7g.xlarge", 6, 0), group("edge", "m7g.xlarge", 3, 56))},
		{name: "declared above bound", env: testEnv(group("general", "m7g.xlarge", 6, 58)),
			want: []string{"nodeGroups[general].maxPodsPerNode: Invalid value: 58: max pods 58 on m7g.xlarge exceeds the bound: bound 56 = min((E-F)*(I-1) - 2 Cilium + H = 56, cap 110) with E=4 ENIs, I=15 IPv4/ENI, first interface index 0"}},
		{name: "unknown type", env: testEnv(group("general", "m7g.xlarg", 6, 0)),
			want: []string{`nodeGroups[general].instanceType: Invalid value: "m7g.xlarg": unknown instance type "m7g.xlarg" (nearest known: m7g.xlarge`}},
		{name: "prefix delegation on xen", env: func() model.Environment {
			e := testEnv(group("old", "c4.large", 2, 0), group("new", "m7g.xlarge", 2, 110))
			e.Cilium.PrefixDelegation = true
			return e
		}(), want: []string{"nodeGroups[old].instanceType", "nitro or bare-metal", "cilium.prefixDelegation is true"}},
		{name: "every problem at once", env: func() model.Environment {
			e := testEnv(group("a", "m7g.xlarg", 2, 0), group("b", "m5.large", 2, 30), group("c", "t3.nano", 2, -1))
			e.Cilium.FirstInterfaceIndex = 1
			return e
		}(), want: []string{"nodeGroups[a].instanceType", "nodeGroups[b].maxPodsPerNode: Invalid value: 30", "nodeGroups[c].maxPodsPerNode: Invalid value: -1", "nodeGroups[c].instanceType"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateNodeGroups(tt.env, nil)
			got := errorStrings(errs)
			if len(tt.want) == 0 && len(errs) != 0 {
				t.Fatalf("unexpected errors:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestMaxPodsFor(t *testing.T) {
	env := testEnv()
	tests := []struct {
		name    string
		ng      model.NodeGroup
		pd      bool
		want    int
		wantErr string
	}{
		{name: "derived", ng: group("g", "m7g.xlarge", 3, 0), want: 56},
		{name: "derived prefix delegation", ng: group("g", "m7g.xlarge", 3, 0), pd: true, want: 110},
		{name: "declared within", ng: group("g", "m7g.xlarge", 3, 40), want: 40},
		{name: "declared above", ng: group("g", "m7g.xlarge", 3, 60), wantErr: "node group g: max pods 60 on m7g.xlarge exceeds the bound"},
		{name: "unknown", ng: group("g", "zz.large", 3, 0), wantErr: "unknown instance type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Cilium.PrefixDelegation = tt.pd
			got, err := MaxPodsFor(env, tt.ng)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("MaxPodsFor = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestDemandPerNode(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		maxPods  int
		pre      int
		want     NodeDemand
		wantAddr int
	}{
		// 54 pods + 2 Cilium + 8 pre-allocate = 64, capped at the 56 the ENIs hold: all 4 ENIs.
		{"m7g.xlarge full", Input{InstanceType: "m7g.xlarge", HostNetworkPods: 2}, 56, 0,
			NodeDemand{PodAddressesWanted: 56, PodAddresses: 56, ENIs: 4, ENIPrimaries: 3}, 60},
		// 20 pods + 2 + 8 = 30 addresses on 3 ENIs of 14 (eth0 included at index 0).
		{"m7g.xlarge 22 pods", Input{InstanceType: "m7g.xlarge", HostNetworkPods: 2}, 22, 8,
			NodeDemand{PodAddressesWanted: 30, PodAddresses: 30, ENIs: 3, ENIPrimaries: 2}, 33},
		// Index 1: eth0 carries no pods, so every pod ENI has its own primary.
		{"m7g.xlarge index 1", Input{InstanceType: "m7g.xlarge", FirstInterfaceIndex: 1, HostNetworkPods: 2}, 42, 8,
			NodeDemand{PodAddressesWanted: 42, PodAddresses: 42, ENIs: 3, ENIPrimaries: 3}, 46},
		// 108 + 2 + 8 = 118 addresses = 8 /28 blocks on eth0.
		{"m7g.xlarge prefix delegation", Input{InstanceType: "m7g.xlarge", PrefixDelegation: true, HostNetworkPods: 2}, 110, 8,
			NodeDemand{PodAddressesWanted: 118, PrefixBlocks: 8, PodAddresses: 128, ENIs: 1, ENIPrimaries: 0}, 129},
		{"m7g.xlarge prefix delegation index 1", Input{InstanceType: "m7g.xlarge", PrefixDelegation: true, FirstInterfaceIndex: 1, HostNetworkPods: 2}, 110, 16,
			NodeDemand{PodAddressesWanted: 126, PrefixBlocks: 8, PodAddresses: 128, ENIs: 1, ENIPrimaries: 1}, 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compute(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := DemandPerNode(r, tt.maxPods, tt.pre)
			if got != tt.want || got.Addresses() != tt.wantAddr {
				t.Errorf("DemandPerNode = %+v (%d addresses), want %+v (%d)", got, got.Addresses(), tt.want, tt.wantAddr)
			}
		})
	}
}

func TestSubnetUsage(t *testing.T) {
	tests := []struct {
		name         string
		env          model.Environment
		wantStatus   map[string]string // AZ -> status
		wantDemand   map[string]int
		wantErrs     []string
		wantWarnings []string
	}{
		{
			// 10 nodes over 3 AZs: 4 per AZ, 60 addresses each = 240 of 4091.
			name:       "fits",
			env:        testEnv(group("general", "m7g.xlarge", 10, 0)),
			wantStatus: map[string]string{"eu-west-1a": "ok", "eu-west-1b": "ok", "eu-west-1c": "ok"},
			wantDemand: map[string]int{"eu-west-1a": 240},
		},
		{
			// One AZ only: 20 nodes x 60 = 1200 > 251 usable in a /24.
			name: "over in one AZ",
			env: func() model.Environment {
				e := testEnv(group("general", "m7g.xlarge", 20, 0, "eu-west-1b"))
				e.VPC.Subnets[1].CIDR = "10.0.16.0/24"
				return e
			}(),
			wantStatus: map[string]string{"eu-west-1a": "ok", "eu-west-1b": "over"},
			wantDemand: map[string]int{"eu-west-1b": 1200},
			wantErrs:   []string{"vpc.subnets[private][eu-west-1b]: Invalid value: \"10.0.16.0/24\": AZ eu-west-1b (10.0.16.0/24): node groups at max size need 20 nodes + 60 ENI primaries + 1120 pod addresses = 1200 addresses, more than the 251 usable (size 256 minus 5 AWS-reserved per subnet)"},
		},
		{
			// Prefix delegation, /23: 507 usable, 30 free aligned /28 blocks. 3 nodes x 8 blocks
			// (110 pods) + 1 node x 7 blocks (100 pods) = 31 blocks: 500 addresses fit, blocks not.
			name: "prefix delegation over in blocks",
			env: func() model.Environment {
				e := testEnv(group("general", "m7g.xlarge", 3, 0, "eu-west-1a"), group("extra", "m7g.xlarge", 1, 100, "eu-west-1a"))
				e.Cilium.PrefixDelegation = true
				e.VPC.Subnets[0].CIDR = "10.0.0.0/23"
				return e
			}(),
			wantStatus: map[string]string{"eu-west-1a": "over"},
			wantDemand: map[string]int{"eu-west-1a": 500},
			wantErrs:   []string{"vpc.subnets[private][eu-west-1a]", "AZ eu-west-1a (10.0.0.0/23)", "need 31 aligned /28 blocks plus 4 node/ENI primary addresses, more than the 30 free /28 blocks"},
		},
		{
			// 3 x 8 blocks + 1 x 3 blocks (40 pods) = 27 of 30 blocks, 436 of 507 addresses (86%).
			name: "prefix delegation close to full warns",
			env: func() model.Environment {
				e := testEnv(group("general", "m7g.xlarge", 3, 0, "eu-west-1a"), group("small", "m7g.xlarge", 1, 40, "eu-west-1a"))
				e.Cilium.PrefixDelegation = true
				e.VPC.Subnets[0].CIDR = "10.0.0.0/23"
				return e
			}(),
			wantStatus:   map[string]string{"eu-west-1a": "warning"},
			wantDemand:   map[string]int{"eu-west-1a": 436},
			wantWarnings: []string{"AZ eu-west-1a (10.0.0.0/23): prefix delegation needs 27 aligned free /28 blocks of 30 (85% of usable"},
		},
		{
			name: "AZ without private subnet and bad CIDR",
			env: func() model.Environment {
				e := testEnv(group("general", "m7g.xlarge", 3, 0, "eu-west-1a", "eu-west-1d"))
				e.VPC.Subnets[2].CIDR = "10.0.32.0/29"
				return e
			}(),
			wantErrs: []string{`nodeGroups[general].availabilityZones[1]: Not found: "eu-west-1d"`, `vpc.subnets[private][eu-west-1c].cidr: Invalid value: "10.0.32.0/29"`},
		},
		{
			name:         "uncomputable group is left out with a warning",
			env:          testEnv(group("general", "nope.large", 3, 0)),
			wantStatus:   map[string]string{"eu-west-1a": "ok"},
			wantWarnings: []string{"node group general left out of subnet sizing: unknown instance type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, errs, warnings := SubnetUsage(tt.env, nil)
			got := errorStrings(errs)
			if len(tt.wantErrs) == 0 && len(errs) > 0 {
				t.Errorf("unexpected errors:\n%s", got)
			}
			for _, w := range tt.wantErrs {
				if !strings.Contains(got, w) {
					t.Errorf("errors lack %q:\n%s", w, got)
				}
			}
			ws := strings.Join(warnings, "\n")
			if len(tt.wantWarnings) == 0 && len(warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", ws)
			}
			for _, w := range tt.wantWarnings {
				if !strings.Contains(ws, w) {
					t.Errorf("warnings lack %q:\n%s", w, ws)
				}
			}
			byAZ := map[string]SubnetRow{}
			for _, r := range rows {
				byAZ[r.AZ] = r
			}
			for az, st := range tt.wantStatus {
				if byAZ[az].Status != st {
					t.Errorf("%s status %q, want %q (%+v)", az, byAZ[az].Status, st, byAZ[az])
				}
			}
			for az, d := range tt.wantDemand {
				if byAZ[az].Demand != d {
					t.Errorf("%s demand %d, want %d (%+v)", az, byAZ[az].Demand, d, byAZ[az])
				}
			}
		})
	}
}

func TestFormatTableGolden(t *testing.T) {
	env := testEnv(group("general", "m7g.xlarge", 10, 0), group("edge", "c7gn.4xlarge", 3, 100, "eu-west-1a"), group("broken", "m7g.xlarg", 2, 0))
	rows, _, _ := SubnetUsage(env, nil)
	var buf bytes.Buffer
	if err := FormatTable(&buf, NodeGroupUsage(env), rows); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "summary.golden"), buf.Bytes())
}

func TestValidatePods(t *testing.T) {
	p := model.CapacityPolicy{Enforcement: "deny", FirstInterfaceIndex: 1, HostNetworkPods: 2}
	path := field.NewPath("status", "capacity", "pods")
	if errs := ValidatePods("m7g.xlarge", p, 42, path); len(errs) != 0 {
		t.Errorf("42 pods at index 1: %v", errs)
	}
	errs := ValidatePods("m7g.xlarge", p, 58, path)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "status.capacity.pods: Invalid value: 58: max pods 58 on m7g.xlarge exceeds the bound: bound 42") {
		t.Errorf("58 pods at index 1: %v", errs)
	}
	if errs := ValidatePods("zz", p, 1, path); len(errs) != 1 || !strings.Contains(errs[0].Error(), "unknown instance type") {
		t.Errorf("unknown type: %v", errs)
	}
}
