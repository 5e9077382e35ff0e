package schema

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/model"
)

// TestDerivedDefaults covers the defaults the schema derives from other fields: a field left
// out takes the default, a field set keeps its value.
func TestDerivedDefaults(t *testing.T) {
	const created = `name: "t"
cluster: region: "eu-west-1", cilium: clusterID: 1
vpc: {cidr: "10.0.0.0/16", availabilityZones: ["eu-west-1b", "eu-west-1a"]}
`
	const existing = `name: "t"
cluster: region: "eu-west-1", cilium: clusterID: 1
vpc: {id: "vpc-0123456789abcdef0", cidr: "10.0.0.0/16", subnets: private: {
	"eu-west-1c": {id: "subnet-0123456789abcdef0", cidr: "10.0.32.0/20"}
	"eu-west-1a": {id: "subnet-0123456789abcdef1", cidr: "10.0.0.0/20"}
}}
`
	const pool = `karpenter: {amiVersion: "v20260101", nodePools: p: limits: cpu: 100}
`
	const gateways = `gateways: web: {namespace: "edge", listeners: {
	https: {protocol: "HTTPS", port: 443, tls: secretName: "web-tls"}
	other: {protocol: "HTTPS", port: 8443, tls: {secretName: "other-tls", secretNamespace: "certs"}}
}}
`
	const routes = `teams: {a: namespaces: ["a-apps", "a-jobs"], b: {}, c: namespaces: []}
routes: {
	"from-team": {team: "a", spec: {}}
	"default-namespace": {team: "b", spec: {}}
	set: {team: "a", namespace: "a-jobs", spec: {}}
	"no-namespace": {team: "c", spec: {}}
	"unknown-team": {team: "z", spec: {}}
}
`
	tests := []struct {
		name string
		src  string
		got  func(e model.Environment) any
		want any
	}{
		{"node group zones: created VPC's zones, in order", created + `nodeGroups: g: {instanceType: "m7g.large", maxSize: 2}`,
			func(e model.Environment) any { return named(e.NodeGroups, "g").AvailabilityZones }, []string{"eu-west-1b", "eu-west-1a"}},
		{"node group zones: existing VPC's private subnets, sorted", existing + `nodeGroups: g: {instanceType: "m7g.large", maxSize: 2}`,
			func(e model.Environment) any { return named(e.NodeGroups, "g").AvailabilityZones }, []string{"eu-west-1a", "eu-west-1c"}},
		{"node group zones: set", existing + `nodeGroups: g: {instanceType: "m7g.large", maxSize: 2, availabilityZones: ["eu-west-1c"]}`,
			func(e model.Environment) any { return named(e.NodeGroups, "g").AvailabilityZones }, []string{"eu-west-1c"}},
		{"node group zones: an empty list is refused", existing + `nodeGroups: g: {instanceType: "m7g.large", maxSize: 2, availabilityZones: []}`, nil, nil},
		{"node group zones: a zone listed twice is listed once", `name: "t"
cluster: region: "eu-west-1", cilium: clusterID: 1
vpc: {cidr: "10.0.0.0/16", availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1a"]}
nodeGroups: g: {instanceType: "m7g.large", maxSize: 2}`,
			func(e model.Environment) any { return named(e.NodeGroups, "g").AvailabilityZones }, []string{"eu-west-1a", "eu-west-1b"}},
		{"karpenter system node group zones", existing + pool,
			func(e model.Environment) any { return named(e.NodeGroups, "system").AvailabilityZones }, []string{"eu-west-1a", "eu-west-1c"}},
		{"node pool zones: default", existing + pool,
			func(e model.Environment) any { return named(e.Karpenter.NodePools, "p").AvailabilityZones }, []string{"eu-west-1a", "eu-west-1c"}},
		{"node pool zones: set", existing + pool + `karpenter: nodePools: p: availabilityZones: ["eu-west-1a"]`,
			func(e model.Environment) any { return named(e.Karpenter.NodePools, "p").AvailabilityZones }, []string{"eu-west-1a"}},
		{"listener secret namespace: the Gateway's", existing + gateways,
			func(e model.Environment) any {
				return named(named(e.Gateways, "web").Listeners, "https").TLS.SecretNamespace
			}, "edge"},
		{"listener secret namespace: the platform namespace when the Gateway's is", existing + "platformNamespace: \"plat\"\n" + `gateways: web: listeners: https: {protocol: "HTTPS", port: 443, tls: secretName: "web-tls"}`,
			func(e model.Environment) any {
				return named(named(e.Gateways, "web").Listeners, "https").TLS.SecretNamespace
			}, "plat"},
		{"listener secret namespace: set", existing + gateways,
			func(e model.Environment) any {
				return named(named(e.Gateways, "web").Listeners, "other").TLS.SecretNamespace
			}, "certs"},
		{"listener without tls has none", existing + `gateways: web: listeners: http: {protocol: "HTTP", port: 80}`,
			func(e model.Environment) any { return named(named(e.Gateways, "web").Listeners, "http").TLS == nil }, true},
		{"route namespace: the team's first", existing + routes,
			func(e model.Environment) any { return named(e.Routes, "from-team").Namespace }, "a-apps"},
		{"route namespace: the team's default namespace", existing + routes,
			func(e model.Environment) any { return named(e.Routes, "default-namespace").Namespace }, "b"},
		{"route namespace: set", existing + routes,
			func(e model.Environment) any { return named(e.Routes, "set").Namespace }, "a-jobs"},
		{"route namespace: none for a team without namespaces", existing + routes,
			func(e model.Environment) any { return named(e.Routes, "no-namespace").Namespace }, ""},
		{"route namespace: none for an unknown team", existing + routes,
			func(e model.Environment) any { return named(e.Routes, "unknown-team").Namespace }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Load([]byte(tt.src), "e.cue")
			if tt.got == nil {
				if err == nil || !strings.Contains(err.Error(), "availabilityZones: invalid value []") {
					t.Fatalf("err = %v, want availabilityZones refused", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tt.got(env)
			if gs, ok := got.([]string); ok {
				if !slices.Equal(gs, tt.want.([]string)) {
					t.Errorf("got %q, want %q", gs, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// named returns the element of a model slice with that Name (zero if none).
func named[T any](items []T, name string) T {
	for _, it := range items {
		if reflect.ValueOf(it).FieldByName("Name").String() == name {
			return it
		}
	}
	var zero T
	return zero
}
