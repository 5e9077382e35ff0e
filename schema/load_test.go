package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/release"
)

const minimal = `name: "t"
cluster: region: "eu-west-1", cilium: clusterID: 1
vpc: {cidr: "10.0.0.0/16", subnets: private: "eu-west-1a": cidr: "10.0.0.0/20"}
nodeGroups: general: {instanceType: "m7g.large", maxSize: 2}
teams: "team-a": hostnames: ["a.example.com"]
`

func TestLoadDefaults(t *testing.T) {
	env, err := Load([]byte(minimal), "overlays/t/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"cluster name defaults to env name", env.Cluster.Name, "t"},
		{"cilium chart pinned", env.Versions.Cilium, "1.20.2"},
		{"gateway api pinned", env.Versions.GatewayAPI, "v1.6.3"},
		{"team namespace defaults to team name", env.Teams[0].Namespaces[0], "team-a"},
		{"team group", env.Teams[0].Group, "team-a-developers"},
		{"node group zones default to private subnets", strings.Join(env.NodeGroups[0].AvailabilityZones, ","), "eu-west-1a"},
		{"desired defaults to min", env.NodeGroups[0].DesiredCapacity, 1},
		{"host network pods", env.Cilium.HostNetworkPods, 2},
		{"pre-allocate", env.Cilium.PreAllocate, 8},
		{"load balancer mode", env.Cilium.LoadBalancerMode, "snat"},
		{"webhook replicas", env.Enigate.WebhookReplicas, 2},
		{"enigate tag is the release", env.Versions.Enigate, release.Version},
		{"enigate image from the release repository", env.EnigateImage(), release.Repository + ":" + release.Version},
		{"source", env.Source, "overlays/t/environment.cue"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadEnigateImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name, add, want string
	}{
		{"release default", "", release.Repository + ":" + release.Version},
		{"mirror", `enigate: image: repository: "registry.internal:5000/mirror/enigate"`, "registry.internal:5000/mirror/enigate:" + release.Version},
		{"pinned by digest", `enigate: image: digest: "` + digest + `"`, release.Repository + ":" + release.Version + "@" + digest},
		{"other tag, mirror and digest", "versions: enigate: \"v0.2.0-rc.1\"\nenigate: image: {repository: \"mirror.example.com/enigate\", digest: \"" + digest + "\"}",
			"mirror.example.com/enigate:v0.2.0-rc.1@" + digest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Load([]byte(minimal+tt.add+"\n"), "e.cue")
			if err != nil {
				t.Fatal(err)
			}
			if got := env.EnigateImage(); got != tt.want {
				t.Errorf("image %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadAllowsHelpers(t *testing.T) {
	src := minimal + "#Team: {hostnames: [...string], ...}\n_domain: \"example.com\"\nlet dom = _domain\nteams: \"team-b\": #Team & {hostnames: [\"b.\" + dom]}\n"
	env, err := Load([]byte(src), "e.cue")
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Teams[1].Hostnames[0]; got != "b.example.com" {
		t.Errorf("hostname = %q", got)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		add  string
		want []string // every line must appear
	}{
		{
			name: "enum value folded into one line with the allowed values",
			add:  `cilium: acceleration: "xdp"`,
			want: []string{`overlays/t/environment.cue:6:23: cilium.acceleration: "xdp" is not allowed (allowed: "best-effort", "disabled", "native")`},
		},
		{
			name: "unknown top-level and nested fields, all at once",
			add:  "bogus: 1\nteams: \"team-a\": hostnmes: [\"x\"]\nvpc: nat: \"Whatever\"",
			want: []string{
				`overlays/t/environment.cue:6:1: bogus: unknown field (allowed: name, versions, cluster,`,
				`overlays/t/environment.cue:7:18: teams."team-a".hostnmes: unknown field (allowed: namespaces, hostnames, sharedHosts, group, backends)`,
				`overlays/t/environment.cue:8:11: vpc.nat: "Whatever" is not allowed (allowed: "Disable", "HighlyAvailable", "Single")`,
			},
		},
		{
			name: "bound",
			add:  `nodeGroups: general: volumeSize: 5`,
			want: []string{`overlays/t/environment.cue:6:34: nodeGroups.general.volumeSize: invalid value 5 (out of bound >=20)`},
		},
		{
			name: "image digest and repository shapes",
			add:  "enigate: image: {repository: \"ghcr.io/enigate/enigate:v1\", digest: \"sha256:abc\"}\nversions: enigate: \"latest\"",
			want: []string{
				`overlays/t/environment.cue:6:30: enigate.image.repository: invalid value "ghcr.io/enigate/enigate:v1" (out of bound =~`,
				`overlays/t/environment.cue:6:68: enigate.image.digest: invalid value "sha256:abc" (out of bound =~"^sha256:[0-9a-f]{64}$")`,
				`overlays/t/environment.cue:7:20: versions.enigate: invalid value "latest" (out of bound =~`,
			},
		},
		{
			name: "syntax error",
			add:  `teams: {`,
			want: []string{`overlays/t/environment.cue:6:`},
		},
		{
			name: "bad CIDR",
			add:  `vpc: subnets: public: "eu-west-1a": cidr: "10.0.300.0/24"`,
			want: []string{`vpc.subnets.public."eu-west-1a".cidr`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(minimal+tt.add+"\n"), "overlays/t/environment.cue")
			var p Problems
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want Problems", err)
			}
			got := strings.Join(p, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestPositionAndDisplay(t *testing.T) {
	d, err := LoadDeclaration([]byte(minimal), "e.cue")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ field, pos, display string }{
		{"teams[team-a].hostnames[0]", "e.cue:5:30", "teams.team-a.hostnames[0]"},
		{"nodeGroups[general].maxSize", "e.cue:4:50", "nodeGroups.general.maxSize"},
		{"nodeGroups[general].maxPodsPerNode", "e.cue:4:13", "nodeGroups.general.maxPodsPerNode"}, // not written: the nearest written parent
		{"gateways[web].annotations[a.b/c]", "", `gateways.web.annotations."a.b/c"`},
	}
	for _, tt := range tests {
		if got := d.Position(tt.field); got != tt.pos {
			t.Errorf("Position(%s) = %q, want %q", tt.field, got, tt.pos)
		}
		if got := DisplayPath(tt.field); got != tt.display {
			t.Errorf("DisplayPath(%s) = %q, want %q", tt.field, got, tt.display)
		}
	}
}

func TestLoadNumbersInFreeFormData(t *testing.T) {
	env, err := Load([]byte(minimal+"overrides: ciliumValues: bpf: {natMax: 1048576, mapDynamicSizeRatio: 0.0025}\n"), "e.cue")
	if err != nil {
		t.Fatal(err)
	}
	bpf := env.Overrides.CiliumValues["bpf"].(map[string]any)
	if n, ok := bpf["natMax"].(int64); !ok || n != 1048576 {
		t.Errorf("natMax = %#v, want int64 1048576", bpf["natMax"])
	}
	if f, ok := bpf["mapDynamicSizeRatio"].(float64); !ok || f != 0.0025 {
		t.Errorf("mapDynamicSizeRatio = %#v, want float64 0.0025", bpf["mapDynamicSizeRatio"])
	}
}
