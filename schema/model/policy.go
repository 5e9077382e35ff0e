package model

// Policy is the route-ownership and capacity policy the renderer writes (ConfigMap
// enigate-system/enigate-policy, key policy.yaml) and the webhook enforces. It is derived from
// an Environment by PolicyFor; its YAML form is a contract between the two.
type Policy struct {
	Environment string `json:"environment"`
	// PlatformNamespaces may hold Gateways and platform objects; tenants own none of them.
	PlatformNamespaces []string        `json:"platformNamespaces"`
	Gateways           []GatewayPolicy `json:"gateways"`
	Teams              []TeamPolicy    `json:"teams"`
	Capacity           CapacityPolicy  `json:"capacity"`
}

// GatewayPolicy lists a Gateway's listeners and who may attach to each.
type GatewayPolicy struct {
	Namespace string           `json:"namespace"`
	Name      string           `json:"name"`
	Listeners []ListenerPolicy `json:"listeners"`
}

// ListenerPolicy is one listener; Shared when more than one team may attach.
type ListenerPolicy struct {
	Name     string   `json:"name"`
	Hostname string   `json:"hostname,omitempty"`
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"`
	Teams    []string `json:"teams"`
	Shared   bool     `json:"shared"`
}

// TeamPolicy is what one team owns.
type TeamPolicy struct {
	Name        string          `json:"name"`
	Namespaces  []string        `json:"namespaces"`
	Hostnames   []string        `json:"hostnames"`
	SharedHosts []SharedHost    `json:"sharedHosts,omitempty"`
	Backends    []BackendTarget `json:"backends,omitempty"`
}

// CapacityPolicy configures the ENI/IP admission rules.
type CapacityPolicy struct {
	// Enforcement is "deny" or "warn".
	Enforcement         string `json:"enforcement"`
	PrefixDelegation    bool   `json:"prefixDelegation"`
	FirstInterfaceIndex int    `json:"firstInterfaceIndex"`
	HostNetworkPods     int    `json:"hostNetworkPods"`
}

// PolicyFor derives the policy from an environment. Deterministic: same input, same output.
func PolicyFor(env Environment) Policy {
	p := Policy{
		Environment:        env.Name,
		PlatformNamespaces: platformNamespaces(env),
		Capacity: CapacityPolicy{
			Enforcement:         env.Enigate.CapacityEnforcement,
			PrefixDelegation:    env.Cilium.PrefixDelegation,
			FirstInterfaceIndex: env.Cilium.FirstInterfaceIndex,
			HostNetworkPods:     env.Cilium.HostNetworkPods,
		},
	}
	for _, g := range env.Gateways {
		gp := GatewayPolicy{Namespace: g.Namespace, Name: g.Name}
		for _, l := range g.Listeners {
			gp.Listeners = append(gp.Listeners, ListenerPolicy{
				Name: l.Name, Hostname: l.Hostname, Port: l.Port, Protocol: l.Protocol,
				Teams: append([]string(nil), l.Teams...), Shared: len(l.Teams) > 1,
			})
		}
		p.Gateways = append(p.Gateways, gp)
	}
	for _, t := range env.Teams {
		p.Teams = append(p.Teams, TeamPolicy{
			Name: t.Name, Namespaces: t.Namespaces, Hostnames: t.Hostnames,
			SharedHosts: t.SharedHosts, Backends: t.Backends,
		})
	}
	return p
}

// platformNamespaces are the platform namespace, every Gateway's namespace and enigate's own.
func platformNamespaces(env Environment) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ns string) {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	add(env.PlatformNamespace)
	for _, g := range env.Gateways {
		add(g.Namespace)
	}
	add(env.Enigate.Namespace)
	return out
}
