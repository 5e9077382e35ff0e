package vpc_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/vpc"
)

func TestEksctlSubnets(t *testing.T) {
	tests := []struct {
		name    string
		cidr    string
		azs     []string
		want    []string // kind/az=cidr, private first
		wantErr string
	}{
		{name: "two zones: eighths", cidr: "10.2.0.0/16", azs: []string{"a", "b"},
			want: []string{"private/a=10.2.64.0/19", "private/b=10.2.96.0/19", "public/a=10.2.0.0/19", "public/b=10.2.32.0/19"}},
		{name: "three zones keep declared order", cidr: "192.168.0.0/16", azs: []string{"c", "a", "b"},
			want: []string{"private/c=192.168.96.0/19", "private/a=192.168.128.0/19", "private/b=192.168.160.0/19", "public/c=192.168.0.0/19", "public/a=192.168.32.0/19", "public/b=192.168.64.0/19"}},
		{name: "five zones: sixteenths", cidr: "10.0.0.0/20", azs: []string{"a", "b", "c", "d", "e"},
			want: []string{"private/a=10.0.5.0/24", "private/b=10.0.6.0/24", "private/c=10.0.7.0/24", "private/d=10.0.8.0/24", "private/e=10.0.9.0/24",
				"public/a=10.0.0.0/24", "public/b=10.0.1.0/24", "public/c=10.0.2.0/24", "public/d=10.0.3.0/24", "public/e=10.0.4.0/24"}},
		{name: "smallest VPC", cidr: "10.0.0.0/24", azs: []string{"a", "b"},
			want: []string{"private/a=10.0.0.64/27", "private/b=10.0.0.96/27", "public/a=10.0.0.0/27", "public/b=10.0.0.32/27"}},
		{name: "nine zones", cidr: "10.0.0.0/16", azs: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, wantErr: "more than 16 subnets"},
		{name: "prefix too long", cidr: "10.0.0.0/25", azs: []string{"a", "b"}, wantErr: "between /16 and /24"},
		{name: "ipv6", cidr: "2600:1f18::/56", azs: []string{"a", "b"}, wantErr: "not an IPv4 CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vpc.EksctlSubnets(tt.cidr, tt.azs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, sn := range got {
				s = append(s, sn.Kind+"/"+sn.AZ+"="+sn.CIDR)
			}
			if !slices.Equal(s, tt.want) {
				t.Errorf("got  %v\nwant %v", s, tt.want)
			}
		})
	}
}

func created(cidr string, azs ...string) model.Environment {
	env := model.Environment{Cluster: model.Cluster{Region: "ap-northeast-2"}, VPC: model.VPC{CIDR: cidr, NAT: "Single", AvailabilityZones: azs, SubnetsModelled: true}}
	env.VPC.Subnets, _ = vpc.EksctlSubnets(cidr, azs)
	return env
}

func existing(subnets ...model.Subnet) model.Environment {
	return model.Environment{Cluster: model.Cluster{Region: "ap-northeast-2"}, VPC: model.VPC{ID: "vpc-0a1b2c3d4e5f60718", CIDR: "10.0.0.0/16", Subnets: subnets}}
}

func sn(kind, az, id, cidr string) model.Subnet {
	return model.Subnet{Kind: kind, AZ: "ap-northeast-2" + az, ID: id, CIDR: cidr}
}

var twoPrivate = []model.Subnet{sn("private", "a", "subnet-0a", "10.0.0.0/19"), sn("private", "b", "subnet-0b", "10.0.32.0/19")}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		env  model.Environment
		want []string // each must appear; none: no errors
	}{
		{name: "created ok", env: created("10.2.0.0/16", "ap-northeast-2a", "ap-northeast-2b")},
		{name: "existing ok", env: existing(append(twoPrivate, sn("public", "a", "subnet-1a", "10.0.96.0/22"), sn("public", "b", "subnet-1b", "10.0.100.0/22"))...)},
		{name: "ipv6 VPC", env: created("2600:1f18::/56", "ap-northeast-2a", "ap-northeast-2b"), want: []string{"vpc.cidr: Invalid value: \"2600:1f18::/56\": is an IPv6 CIDR"}},
		{name: "host bits", env: created("10.2.1.0/16", "ap-northeast-2a", "ap-northeast-2b"), want: []string{"has host bits set (write the network address 10.2.0.0/16)"}},
		{name: "one zone", env: created("10.2.0.0/16", "ap-northeast-2a"), want: []string{"vpc.availabilityZones: Invalid value", "lists 1 availability zones (eksctl creates a VPC across at least 2)"}},
		{name: "nine zones", env: created("10.2.0.0/16", "ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d", "ap-northeast-2e", "ap-northeast-2f", "ap-northeast-2g", "ap-northeast-2h", "ap-northeast-2i"),
			want: []string{"lists 9 availability zones", "at most 8"}},
		{name: "prefix outside eksctl's range", env: created("10.2.0.0/25", "ap-northeast-2a", "ap-northeast-2b"), want: []string{"vpc.cidr: Invalid value: \"10.2.0.0/25\": is a /25 (eksctl creates a VPC from a /16 to a /24)"}},
		{name: "duplicate zone", env: created("10.2.0.0/16", "ap-northeast-2a", "ap-northeast-2a"), want: []string{"vpc.availabilityZones[1]: Duplicate value"}},
		{name: "subnets without vpc id", env: func() model.Environment {
			e := existing(twoPrivate...)
			e.VPC.ID = ""
			return e
		}(), want: []string{"vpc.subnets: Invalid value: \"\": is set without vpc.id"}},
		{name: "subnet outside the VPC", env: existing(append(twoPrivate, sn("private", "c", "subnet-0c", "10.1.0.0/19"))...),
			want: []string{"vpc.subnets.private[ap-northeast-2c].cidr: Invalid value: \"10.1.0.0/19\": is not inside the VPC CIDR 10.0.0.0/16"}},
		{name: "overlapping subnets", env: existing(append(twoPrivate, sn("public", "a", "subnet-1a", "10.0.16.0/22"), sn("public", "b", "subnet-1b", "10.0.100.0/22"))...),
			want: []string{"vpc.subnets.public[ap-northeast-2a].cidr: Invalid value: \"10.0.16.0/22\": overlaps vpc.subnets.private.ap-northeast-2a (10.0.0.0/19)"}},
		{name: "subnet without id", env: existing(sn("private", "a", "", "10.0.0.0/19"), sn("private", "b", "subnet-0b", "10.0.32.0/19")),
			want: []string{"vpc.subnets.private[ap-northeast-2a].id: Invalid value: \"\": is missing"}},
		{name: "nat with an existing VPC", env: func() model.Environment {
			e := existing(twoPrivate...)
			e.VPC.NAT = "HighlyAvailable"
			return e
		}(), want: []string{"vpc.nat: Invalid value: \"HighlyAvailable\": is set with vpc.id (eksctl creates no NAT gateway in an existing VPC"}},
		{name: "zones with an existing VPC", env: func() model.Environment {
			e := existing(twoPrivate...)
			e.VPC.AvailabilityZones = []string{"ap-northeast-2a"}
			return e
		}(), want: []string{"vpc.availabilityZones: Invalid value", "is set with vpc.id"}},
		{name: "one private subnet, one public", env: existing(sn("private", "a", "subnet-0a", "10.0.0.0/19"), sn("public", "a", "subnet-1a", "10.0.96.0/22")),
			want: []string{"vpc.subnets.private: Invalid value: 1: has 1 subnets", "vpc.subnets.public: Invalid value: 1: has 1 subnet (eksctl needs none or at least 2 public subnets)"}},
		{name: "ipv6 subnet", env: existing(append(twoPrivate, sn("public", "a", "subnet-1a", "2600:1f18::/64"), sn("public", "b", "subnet-1b", "10.0.100.0/22"))...),
			want: []string{"vpc.subnets.public[ap-northeast-2a].cidr: Invalid value: \"2600:1f18::/64\": not an IPv4 CIDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := vpc.Validate(tt.env, nil)
			var lines []string
			for _, e := range errs {
				lines = append(lines, e.Error())
			}
			got := strings.Join(lines, "\n")
			if len(tt.want) == 0 && len(errs) > 0 {
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

// TestExamplesMatchEksctl compares enigate's model of the subnets eksctl will create for each
// example with the split eksctl's own SetSubnets made of the rendered cluster.yaml, recorded
// by test/tools/eksctl (TestPhaseFilesLoad, UPDATE_GOLDEN=1) in its testdata/subnets.json.
func TestExamplesMatchEksctl(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "test", "tools", "eksctl", "testdata", "subnets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]struct{ Kind, AZ, CIDR string }
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	decls, _ := filepath.Glob(filepath.Join("..", "..", "overlays", "*", "environment.cue"))
	modelled := 0
	for _, path := range decls {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			d, err := schema.LoadFile(path, path)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Env.VPC.SubnetsModelled {
				if _, ok := want[name]; ok {
					t.Errorf("eksctl carves subnets for %s but enigate models none", name)
				}
				return
			}
			modelled++
			var got []string
			for _, s := range d.Env.VPC.Subnets {
				got = append(got, s.Kind+"/"+s.AZ+"="+s.CIDR)
			}
			var exp []string
			for _, s := range want[name] {
				exp = append(exp, s.Kind+"/"+s.AZ+"="+s.CIDR)
			}
			if !slices.Equal(got, exp) {
				t.Errorf("enigate models %v\neksctl carves  %v", got, exp)
			}
		})
	}
	if modelled == 0 {
		t.Error("no example lets eksctl create its VPC")
	}
}
