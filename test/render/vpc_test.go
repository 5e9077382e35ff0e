package render_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// vpcBase is a valid environment whose VPC eksctl creates; each case replaces its vpc block.
const vpcBase = `name: "vpc"
cluster: region: "ap-northeast-2"
vpc: {
	cidr: "10.9.0.0/16"
	availabilityZones: ["ap-northeast-2a", "ap-northeast-2b"]
}
nodeGroups: general: {instanceType: "m7g.xlarge", minSize: 1, maxSize: 3}
cilium: {clusterID: 1, maglev: hashSeed: "Yie+5slhri/40zfx"}
teams: "team-a": hostnames: ["team-a.example.com"]
`

// existingVPC declares an existing VPC; cases edit it.
const existingVPC = `vpc: {
	id:   "vpc-0123456789abcdef0"
	cidr: "10.9.0.0/16"
	subnets: {
		private: {
			"ap-northeast-2a": {id: "subnet-00000000000000a01", cidr: "10.9.0.0/20"}
			"ap-northeast-2b": {id: "subnet-00000000000000b01", cidr: "10.9.16.0/20"}
		}
		public: {
			"ap-northeast-2a": {id: "subnet-00000000000000a02", cidr: "10.9.32.0/24"}
			"ap-northeast-2b": {id: "subnet-00000000000000b02", cidr: "10.9.33.0/24"}
		}
	}
}`

// TestVPCDeclarations: a VPC eksctl would refuse, or subnets that cannot hold what the
// capacity checks assume, stop the render with one line per problem, exit 2, nothing written.
func TestVPCDeclarations(t *testing.T) {
	createdVPC := "vpc: {\n\tcidr: \"10.9.0.0/16\"\n\tavailabilityZones: [\"ap-northeast-2a\", \"ap-northeast-2b\"]\n}"
	tests := []struct {
		name string
		vpc  string   // replaces the vpc block of vpcBase
		want []string // regexps, each matching its own line
	}{
		{name: "created VPC renders", vpc: createdVPC},
		{name: "existing VPC renders", vpc: existingVPC},
		{name: "old shape: subnets by CIDR without ids",
			vpc:  "vpc: {\n\tcidr: \"10.9.0.0/16\"\n\tsubnets: private: {\n\t\t\"ap-northeast-2a\": cidr: \"10.9.0.0/20\"\n\t\t\"ap-northeast-2b\": cidr: \"10.9.16.0/20\"\n\t}\n}",
			want: []string{`environment.cue:\d+:\d+: vpc\.subnets: is set without vpc\.id \(eksctl takes listed subnets as existing ones`}},
		{name: "subnet ids without vpc.id",
			vpc:  strings.Replace(existingVPC, "\tid:   \"vpc-0123456789abcdef0\"\n", "", 1),
			want: []string{`vpc\.subnets: is set without vpc\.id`}},
		{name: "subnet outside the VPC CIDR",
			vpc:  strings.Replace(existingVPC, `cidr: "10.9.16.0/20"`, `cidr: "10.8.16.0/20"`, 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.subnets\.private\.ap-northeast-2b\.cidr: "10\.8\.16\.0/20" is not inside the VPC CIDR 10\.9\.0\.0/16|vpc\.subnets\.private\.ap-northeast-2b\.cidr: .*is not inside the VPC CIDR 10\.9\.0\.0/16`}},
		{name: "overlapping subnets",
			vpc:  strings.Replace(existingVPC, `cidr: "10.9.32.0/24"`, `cidr: "10.9.15.0/24"`, 1),
			want: []string{`vpc\.subnets\.public\.ap-northeast-2a\.cidr: .*overlaps vpc\.subnets\.private\.ap-northeast-2a \(10\.9\.0\.0/20\)`}},
		{name: "subnet without id",
			vpc:  strings.Replace(existingVPC, `{id: "subnet-00000000000000a01", cidr`, `{cidr`, 1),
			want: []string{`vpc\.subnets\.private\.ap-northeast-2a\.id: is missing \(eksctl finds an existing subnet by its id`}},
		{name: "nat with an existing VPC",
			vpc:  strings.Replace(existingVPC, "\tcidr: \"10.9.0.0/16\"\n", "\tcidr: \"10.9.0.0/16\"\n\tnat: \"Single\"\n", 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.nat: .*eksctl creates no NAT gateway in an existing VPC`}},
		{name: "IPv6 VPC CIDR",
			vpc:  strings.Replace(createdVPC, `"10.9.0.0/16"`, `"2600:1f18:aaaa::/56"`, 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.cidr: .*is an IPv6 CIDR \(Cilium ENI IPAM hands pods IPv4 addresses`}},
		{name: "zone of another region for eksctl",
			vpc:  strings.Replace(createdVPC, `["ap-northeast-2a", "ap-northeast-2b"]`, `["ap-northeast-2a", "eu-west-1b"]`, 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.availabilityZones\[1\]: "eu-west-1b" is not an Availability Zone of region ap-northeast-2 \(allowed: ap-northeast-2a, `}},
		{name: "one AZ for eksctl",
			vpc:  strings.Replace(createdVPC, `["ap-northeast-2a", "ap-northeast-2b"]`, `["ap-northeast-2a"]`, 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.availabilityZones: .*lists 1 availability zones \(eksctl creates a VPC across at least 2\)`}},
		{name: "nine AZs for eksctl",
			vpc:  strings.Replace(createdVPC, `["ap-northeast-2a", "ap-northeast-2b"]`, `["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d", "ap-northeast-2e", "ap-northeast-2f", "ap-northeast-2g", "ap-northeast-2h", "ap-northeast-2i"]`, 1),
			want: []string{`vpc\.availabilityZones: .*lists 9 availability zones .*at most 8`}},
		{name: "prefix too long for eksctl",
			vpc:  strings.Replace(createdVPC, `"10.9.0.0/16"`, `"10.9.0.0/25"`, 1),
			want: []string{`environment.cue:\d+:\d+: vpc\.cidr: .*is a /25 \(eksctl creates a VPC from a /16 to a /24\)`}},
		{name: "modelled subnets too small for the node groups",
			vpc:  strings.Replace(createdVPC, `"10.9.0.0/16"`, `"10.9.0.0/24"`, 1),
			want: []string{`vpc\.cidr: .*AZ ap-northeast-2a \(10\.9\.0\.64/27\): node groups at max size need`}},
		{name: "every problem at once",
			vpc: strings.NewReplacer(`cidr: "10.9.16.0/20"`, `cidr: "10.8.16.0/20"`, `cidr: "10.9.32.0/24"`, `cidr: "10.9.15.0/24"`,
				"\tcidr: \"10.9.0.0/16\"\n", "\tcidr: \"10.9.0.0/16\"\n\tnat: \"Single\"\n").Replace(existingVPC),
			want: []string{`vpc\.nat: `, `vpc\.subnets\.private\.ap-northeast-2b\.cidr: .*not inside`, `vpc\.subnets\.public\.ap-northeast-2a\.cidr: .*overlaps`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := strings.Index(vpcBase, "vpc: {")
			end := start + strings.Index(vpcBase[start:], "\n}\n") + 2
			src := vpcBase[:start] + tt.vpc + vpcBase[end:]
			dir := t.TempDir()
			overlay := filepath.Join(dir, "overlays", "vpc")
			if err := os.MkdirAll(overlay, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(overlay, "environment.cue"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, dir, "render", "--quiet", "overlays/vpc")
			if len(tt.want) == 0 {
				if code != 0 {
					t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
				}
				return
			}
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			for _, w := range tt.want {
				re := regexp.MustCompile(w)
				n := 0
				for _, l := range lines {
					if re.MatchString(l) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d lines match %q, want 1\nstderr:\n%s", n, w, stderr)
				}
			}
			if files := readTree(t, overlay); len(files) != 1 {
				t.Errorf("wrote files on failure: %v", keys(files))
			}
		})
	}
}
