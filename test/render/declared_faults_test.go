package render_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDeclaredFaults writes into the errata base environment each fault that only the real
// API server (the Gateway API CRDs' schemas and CEL rules) or AWS would otherwise reveal, and
// expects exactly one problem line for it (file:line:col, path, message), exit 2 and the
// overlay untouched.
func TestDeclaredFaults(t *testing.T) {
	tests := []struct {
		name    string
		add     string      // appended to base
		replace [][2]string // and: replace each [0] with [1] in base
		want    string      // regexp the one problem line must match
	}{
		{name: "unknown region", replace: [][2]string{{`region: "ap-northeast-2"`, `region: "ap-northeast-9"`}},
			want: `environment\.cue:2:\d+: cluster\.region: "ap-northeast-9" is not a known AWS region \(allowed: af-south-1, .*ap-northeast-2, .*\)`},
		{name: "zone of another region", replace: [][2]string{{`"ap-northeast-2b": {id: "subnet-00000000000000b01"`, `"eu-west-1b": {id: "subnet-00000000000000b01"`}},
			want: `environment\.cue:\d+:\d+: vpc\.subnets\.private\.eu-west-1b: "eu-west-1b" is not an Availability Zone of region ap-northeast-2 \(allowed: ap-northeast-2a, ap-northeast-2b, ap-northeast-2c, ap-northeast-2d\)`},
		{name: "Kubernetes 1.99", add: `versions: kubernetes: "1.99"`,
			want: `environment\.cue:\d+:\d+: versions\.kubernetes: "1\.99" is not a Kubernetes version EKS offers \(allowed on \d{4}-\d\d-\d\d: 1\.\d+(, 1\.\d+)*; source: the EKS release calendar\)`},
		{name: "Cilium 1.19 with the Gateway API v1.6 standard channel", add: "versions: cilium: \"1.19.7\"\nversions: gatewayAPI: \"v1.6.3\"",
			want: `environment\.cue:\d+:\d+: versions\.gatewayAPI: v1\.6\.3 \(standard channel\) with Cilium 1\.19\.7 is known to break: .*\(upstream: cilium/cilium#44920, cilium/cilium#45139, kubernetes-sigs/kubespray#13222; nearest working pin: gatewayAPI v1\.4\.1 with cilium 1\.19\.7, or cilium 1\.20\.2 with gatewayAPI v1\.6\.3\)`},
		{name: "route hostname no listener accepts",
			replace: [][2]string{{`"team-a": hostnames: ["team-a.example.com"]`, `"team-a": hostnames: ["team-a.example.com", "team-a.example.org"]`},
				{"hostnames: [\"team-a.example.com\"]\n\t\trules", "hostnames: [\"team-a.example.com\", \"team-a.example.org\"]\n\t\trules"}},
			want: `environment\.cue:\d+:\d+: routes\.team-a-route\.spec\.hostnames\[1\]: "team-a\.example\.org" matches no listener of the route's parents, so the route never serves it \(listeners: infra/shared https: \*\.example\.com\)`},
		{name: "HTTP and HTTPS on one port",
			add:  `gateways: shared: listeners: http: {protocol: "HTTP", port: 443, hostname: "team-a.example.com", teams: ["team-a"]}`,
			want: `environment\.cue:\d+:\d+: gateways\.shared\.listeners\.(http|https)\.protocol: HTTPS? on port 443 conflicts with listener (http|https) \(HTTPS? on the same port\): .*ProtocolConflict`},
		{name: "backendRef without port (CEL)", replace: [][2]string{{`backendRefs: [{name: "svc", port: 80}]`, `backendRefs: [{name: "svc"}]`}},
			want: `environment\.cue:\d+:\d+: routes\.team-a-route\.spec\.rules\[0\]\.backendRefs\[0\]: Invalid value: Must have port for Service reference`},
		{name: "PathPrefix without a leading slash (CEL)",
			replace: [][2]string{{`rules: [{backendRefs`, `rules: [{matches: [{path: {type: "PathPrefix", value: "api"}}], backendRefs`}},
			want:    `environment\.cue:\d+:\d+: routes\.team-a-route\.spec\.rules\[0\]\.matches\[0\]\.path: Invalid value: value must be an absolute path and start with '/' when type one of \['Exact', 'PathPrefix'\]`},
		{name: "backend port out of range (schema)", replace: [][2]string{{`port: 80}]`, `port: 70000}]`}},
			want: `environment\.cue:\d+:\d+: routes\.team-a-route\.spec\.rules\[0\]\.backendRefs\[0\]\.port: Invalid value: 70000: spec\.rules\[0\]\.backendRefs\[0\]\.port in body should be less than or equal to 65535`},
		{name: "redirect and rewrite together (CEL)",
			replace: [][2]string{{`rules: [{backendRefs: [{name: "svc", port: 80}]}]`, `rules: [{filters: [{type: "RequestRedirect", requestRedirect: scheme: "https"}, {type: "URLRewrite", urlRewrite: hostname: "x.example.com"}]}]`}},
			want:    `environment\.cue:\d+:\d+: routes\.team-a-route\.spec\.rules\[0\]\.filters: Invalid value: May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both`},
		{name: "eksctl addon not an object", add: `overrides: eksctlCluster: addons: [{name: "coredns"}, 7]`,
			want: `environment\.cue:\d+:\d+: overrides\.eksctlCluster\.addons: has a number where eksctl expects an object \(eksctl cannot decode it\)`},
		{name: "eksctl addons not a list", add: `overrides: eksctlCluster: addons: "x"`,
			want: `environment\.cue:\d+:\d+: overrides\.eksctlCluster\.addons: must be array \(got string\)`},
		{name: "eksctl disableDefaultAddons not a bool", add: `overrides: eksctlCluster: addonsConfig: disableDefaultAddons: "yes"`,
			want: `environment\.cue:\d+:\d+: overrides\.eksctlCluster\.addonsConfig\.disableDefaultAddons: must be boolean \(got string\)`},
		{name: "max pods leave no room for workload pods", add: `nodeGroups: general: maxPodsPerNode: 3`,
			want: `environment\.cue:\d+:\d+: nodeGroups\.general\.maxPodsPerNode: max pods 3 \(declared, m7g\.xlarge\) minus the 4 DaemonSet pods every node runs \(cilium \(agent\), cilium-envoy, eks-pod-identity-agent, enigate-node-verify\) leaves -1 for workload pods \(need at least 5 max pods\)`},
		{name: "pool max pods above a launchable type's bound",
			add:  `karpenter: {amiVersion: "v20251117", nodePools: general: {families: ["m7g"], sizes: ["large", "8xlarge"], architectures: ["arm64"], maxPodsPerNode: 200, limits: cpu: 64}}`,
			want: `environment\.cue:\d+:\d+: karpenter\.nodePools\.general\.maxPodsPerNode: max pods 200 exceeds the bound of m7g\.large \(bound 27\) the pool can launch; max pods 200 on m7g\.large exceeds the bound: bound 27 = .*; the pool's largest safe value is 27 \(allowed: 0 to derive it, or 1\.\.27\)`},
		{name: "pool that launches nothing",
			add:  `karpenter: {amiVersion: "v20251117", nodePools: general: {families: ["m7g"], architectures: ["amd64"], limits: cpu: 64}}`,
			want: `environment\.cue:\d+:\d+: karpenter\.nodePools\.general: the requirements allow no instance type of the limits table \(check families, categories, generation, sizes, architectures\)`},
	}
	problem := regexp.MustCompile(`^overlays/errata/environment\.cue:`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base
			for _, r := range tt.replace {
				if !strings.Contains(src, r[0]) {
					t.Fatalf("base lacks %q", r[0])
				}
				src = strings.Replace(src, r[0], r[1], 1)
			}
			src += tt.add + "\n"
			dir := t.TempDir()
			overlay := filepath.Join(dir, "overlays", "errata")
			if err := os.MkdirAll(overlay, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(overlay, "environment.cue"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, dir, "render", "overlays/errata")
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			var problems []string
			for _, l := range strings.Split(stderr, "\n") {
				if problem.MatchString(l) {
					problems = append(problems, l)
				}
			}
			if len(problems) != 1 || !regexp.MustCompile(tt.want).MatchString(problems[0]) {
				t.Errorf("want exactly one problem line matching %q, got %d:\n%s", tt.want, len(problems), strings.Join(problems, "\n"))
			}
			if files := readTree(t, overlay); len(files) != 1 {
				t.Errorf("wrote files on failure: %v", keys(files))
			}
		})
	}
}
