// Package policyfixture builds the large policies the webhook and audit benchmarks share.
package policyfixture

import (
	"fmt"

	"github.com/enigate/enigate/schema/model"
)

// Team is the name of team i ("team-0042").
func Team(i int) string { return fmt.Sprintf("team-%04d", i) }

// Teams is a policy of n teams, each with its own namespace, a wildcard delegation
// (*.team-NNNN.example.com) and a path prefix (/team-NNNN) on the shared host
// shared.example.com; one Gateway gateways/public whose shared HTTP listener "http" is open to
// all of them.
func Teams(n int) model.Policy {
	p := model.Policy{Environment: "bench", PlatformNamespaces: []string{"gateways", "enigate-system"},
		Capacity: model.CapacityPolicy{Enforcement: "deny", HostNetworkPods: 2}}
	l := model.ListenerPolicy{Name: "http", Port: 80, Protocol: "HTTP", Shared: true}
	for i := range n {
		name := Team(i)
		l.Teams = append(l.Teams, name)
		p.Teams = append(p.Teams, model.TeamPolicy{Name: name, Namespaces: []string{name},
			Hostnames:   []string{"*." + name + ".example.com"},
			SharedHosts: []model.SharedHost{{Hostname: "shared.example.com", PathPrefixes: []string{"/" + name}}}})
	}
	p.Gateways = []model.GatewayPolicy{{Namespace: "gateways", Name: "public", Listeners: []model.ListenerPolicy{l}}}
	return p
}
