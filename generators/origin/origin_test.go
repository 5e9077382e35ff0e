package origin

import "testing"

func TestOf(t *testing.T) {
	// As a generator records them: values rendered from the declaration, then the override's.
	from := Map{}
	values := from.Record("", map[string]any{
		"maglev":      map[string]any{"hashSeed": From("cilium.maglev.hashSeed", "x")},
		"bpf":         From("cilium.bpf", map[string]any{"natMax": 1, "lbMapMax": 2}),
		"metrics":     From("cilium.hubble.metrics", []any{"dns"}),
		"eni":         map[string]any{"enabled": true, "awsEnablePrefixDelegation": From("cilium.prefixDelegation", false)},
		"routingMode": "native",
	})
	from.Override("", "overrides.ciliumValues", map[string]any{
		"bpf":     map[string]any{"lbMapMax": 3},
		"eni":     map[string]any{"minAllocate": 10},
		"metrics": []any{"drop"},
		"extra":   map[string]any{"a": map[string]any{"b": 1}},
	})
	tests := []struct{ name, path, want string }{
		{"rendered from a field", "maglev.hashSeed", "cilium.maglev.hashSeed"},
		{"inside a map rendered from a field", "bpf.natMax", "cilium.bpf.natMax"},
		{"override of a key inside such a map", "bpf.lbMapMax", "overrides.ciliumValues.bpf.lbMapMax"},
		{"override beside a key rendered from a field", "eni.minAllocate", "overrides.ciliumValues.eni.minAllocate"},
		{"rendered key beside an override keeps its field", "eni.awsEnablePrefixDelegation", "cilium.prefixDelegation"},
		{"list replaced by an override, an item", "metrics[0]", "overrides.ciliumValues.metrics[0]"},
		{"map only the override sets", "extra.a.b", "overrides.ciliumValues.extra.a.b"},
		{"map only the override sets, below its leaves", "extra.a.b.c", "overrides.ciliumValues.extra.a.b.c"},
		{"constant under a map the override adds to", "eni.enabled", "overrides.ciliumValues.eni.enabled"},
		{"pass-through", "routingMode", "routingMode"},
		{"pass-through, unknown", "k8sServicePort", "k8sServicePort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := from.Of(tt.path); got != tt.want {
				t.Errorf("Of(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	t.Run("values unwrapped", func(t *testing.T) {
		if _, ok := values["bpf"].(map[string]any); !ok {
			t.Errorf("bpf = %#v, want the map", values["bpf"])
		}
		if got := values["maglev"].(map[string]any)["hashSeed"]; got != "x" {
			t.Errorf("maglev.hashSeed = %#v, want \"x\"", got)
		}
	})
	t.Run("under a root", func(t *testing.T) {
		all := Map{}
		all.Under("cilium.values", from)
		if got := all.Of("cilium.values.bpf.natMax"); got != "cilium.bpf.natMax" {
			t.Errorf("got %q", got)
		}
		var none Map
		if got := none.Of("a.b"); got != "a.b" {
			t.Errorf("nil map: got %q", got)
		}
	})
}
