package checks

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/eksdata"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/problem"
)

func TestKubernetesVersion(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, minor       string
		wantErr, wantWarn string
	}{
		{name: "standard support", minor: "1.35"},
		{name: "extended support warns", minor: "1.33", wantWarn: "1.33 is in EKS extended support (extra cost per cluster hour) since 2026-07-29, until 2027-07-29"},
		{name: "unknown", minor: "1.99", wantErr: `versions.kubernetes: "1.99" is not a Kubernetes version EKS offers (allowed on 2026-11-30: 1.32, 1.33, 1.34, 1.35, 1.36;`},
		{name: "past extended support", minor: "1.31", wantErr: "versions.kubernetes: 1.31 reached the end of EKS extended support on 2026-11-26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := KubernetesVersion(tt.minor, day, field.NewPath("versions", "kubernetes"))
			assertOne(t, problem.Lines(r.Errors), tt.wantErr)
			assertOne(t, r.Warnings, tt.wantWarn)
		})
	}
}

func TestRegionAndZones(t *testing.T) {
	regions, err := eksdata.DefaultRegions()
	if err != nil {
		t.Fatal(err)
	}
	env := func(region string, azs ...string) model.Environment {
		e := model.Environment{Cluster: model.Cluster{Region: region}}
		for _, az := range azs {
			e.VPC.Subnets = append(e.VPC.Subnets, model.Subnet{AZ: az, Kind: "private"})
		}
		e.NodeGroups = []model.NodeGroup{{Name: "ng", AvailabilityZones: azs}}
		return e
	}
	withGroupZone := env("eu-west-1", "eu-west-1b")
	withGroupZone.NodeGroups[0].AvailabilityZones = []string{"eu-west-1b", "eu-west-2a"}
	tests := []struct {
		name string
		env  model.Environment
		want []string
	}{
		{name: "zones of the region", env: env("eu-west-1", "eu-west-1a", "eu-west-1b")},
		{name: "zone of another region", env: env("eu-west-1", "eu-west-1a", "us-east-1a"),
			want: []string{`vpc.subnets[private][us-east-1a]: "us-east-1a" is not an Availability Zone of region eu-west-1 (allowed: eu-west-1a, eu-west-1b, eu-west-1c)`}},
		{name: "node group zone of another region", env: withGroupZone,
			want: []string{`nodeGroups[ng].availabilityZones[1]: "eu-west-2a" is not an Availability Zone of region eu-west-1`}},
		{name: "unknown region", env: env("eu-wast-1", "eu-wast-1a"),
			want: []string{`cluster.region: "eu-wast-1" is not a known AWS region (allowed: af-south-1,`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := append(Region(regions, tt.env.Cluster.Region, field.NewPath("cluster", "region")),
				AvailabilityZones(regions, tt.env.Cluster.Region, ModelZones(tt.env))...)
			got := problem.Lines(errs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("got %q, want %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestListenerPorts(t *testing.T) {
	gw := func(ls ...model.Listener) model.Environment {
		return model.Environment{Gateways: []model.Gateway{{Name: "web", Namespace: "infra", Listeners: ls}}}
	}
	tests := []struct {
		name string
		env  model.Environment
		want string
	}{
		{name: "HTTP and HTTPS on their ports", env: gw(model.Listener{Name: "http", Protocol: "HTTP", Port: 80}, model.Listener{Name: "https", Protocol: "HTTPS", Port: 443})},
		{name: "two HTTPS hostnames on one port", env: gw(model.Listener{Name: "a", Protocol: "HTTPS", Port: 443, Hostname: "a.example.com"}, model.Listener{Name: "b", Protocol: "HTTPS", Port: 443, Hostname: "b.example.com"})},
		{name: "HTTP and HTTPS on one port", env: gw(model.Listener{Name: "http", Protocol: "HTTP", Port: 8443}, model.Listener{Name: "https", Protocol: "HTTPS", Port: 8443}),
			want: "gateways[web].listeners[https].protocol: HTTPS on port 8443 conflicts with listener http (HTTP on the same port)"},
		{name: "TCP beside TLS", env: gw(model.Listener{Name: "tls", Protocol: "TLS", Port: 443}, model.Listener{Name: "tcp", Protocol: "TCP", Port: 443}),
			want: "gateways[web].listeners[tcp].protocol: TCP on port 443 conflicts with listener tls (TLS on the same port)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertOne(t, problem.Lines(ListenerPorts(tt.env)), tt.want) })
	}
}

func TestRouteHostnames(t *testing.T) {
	env := model.Environment{Gateways: []model.Gateway{{Name: "shared", Namespace: "infra", Listeners: []model.Listener{
		{Name: "https", Protocol: "HTTPS", Port: 443, Hostname: "*.example.com"},
		{Name: "api", Protocol: "HTTPS", Port: 443, Hostname: "api.example.org"},
		{Name: "tls", Protocol: "TLS", Port: 8443},
	}}}}
	route := func(section string, hosts ...string) *gwv1.HTTPRoute {
		ns := gwv1.Namespace("infra")
		pr := gwv1.ParentReference{Name: "shared", Namespace: &ns}
		if section != "" {
			s := gwv1.SectionName(section)
			pr.SectionName = &s
		}
		r := &gwv1.HTTPRoute{}
		r.Name, r.Namespace = "r", "team-a"
		r.Spec.ParentRefs = []gwv1.ParentReference{pr}
		for _, h := range hosts {
			r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
		}
		return r
	}
	tests := []struct {
		name  string
		route *gwv1.HTTPRoute
		want  string
	}{
		{name: "under the wildcard", route: route("https", "a.b.example.com")},
		{name: "wildcard route under wildcard listener", route: route("https", "*.team.example.com")},
		{name: "wider wildcard intersects", route: route("", "*.org")},
		{name: "no hostnames inherits", route: route("https")},
		{name: "another domain", route: route("https", "a.example.com", "team-a.example.net"),
			want: `routes[r].spec.hostnames[1]: "team-a.example.net" matches no listener of the route's parents, so the route never serves it (listeners: infra/shared https: *.example.com)`},
		{name: "apex is not under its wildcard", route: route("https", "example.com"),
			want: `routes[r].spec.hostnames[0]: "example.com" matches no listener`},
		{name: "TLS listener takes no HTTPRoute", route: route("tls", "x.example.net")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertOne(t, problem.Lines(RouteHostnames(env, []*gwv1.HTTPRoute{tt.route})), tt.want)
		})
	}
}

func TestNodeGroupRoom(t *testing.T) {
	env := func(maxPods int, nodeVerify bool) model.Environment {
		return model.Environment{
			Cluster:    model.Cluster{OperatorIdentity: "podIdentity"},
			Cilium:     model.Cilium{HostNetworkPods: 2},
			Enigate:    model.Enigate{NodeVerify: nodeVerify},
			NodeGroups: []model.NodeGroup{{Name: "tiny", InstanceType: "m7g.large", MaxPodsPerNode: maxPods}},
		}
	}
	tests := []struct {
		name string
		env  model.Environment
		want string
	}{
		{name: "derived bound leaves room", env: env(0, true)},
		{name: "one workload pod", env: env(5, true)},
		{name: "only DaemonSets fit", env: env(4, true),
			want: "nodeGroups[tiny].maxPodsPerNode: max pods 4 (declared, m7g.large) minus the 4 DaemonSet pods every node runs (cilium (agent), cilium-envoy, eks-pod-identity-agent, enigate-node-verify) leaves 0 for workload pods (need at least 5 max pods)"},
		{name: "without node verify", env: env(4, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertOne(t, problem.Lines(NodeGroupRoom(tt.env)), tt.want) })
	}
}

// assertOne expects exactly one line containing want, or none when want is "".
func assertOne(t *testing.T, got []string, want string) {
	t.Helper()
	if want == "" {
		if len(got) > 0 {
			t.Errorf("got %q, want none", got)
		}
		return
	}
	if len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("got %q, want one line containing %q", got, want)
	}
}
