package upgrade

import (
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/schema/model"
)

// TestStepOrder: Cilium one minor at a time, Kubernetes one minor at a time, each placed where
// upstream tests both; the Gateway API CRDs before the Cilium release that needs them.
func TestStepOrder(t *testing.T) {
	noFiles := func(model.Environment) ([]generators.File, error) { return nil, nil }
	env := func(k, c, gw string) model.Environment {
		return model.Environment{Name: "t", Cluster: model.Cluster{Name: "t", Region: "eu-west-1"},
			NodeGroups: []model.NodeGroup{{Name: "general"}},
			Versions:   model.Versions{Kubernetes: k, Cilium: c, GatewayAPI: gw, GatewayAPIChannel: "standard", Eksctl: "0.230.0", CertManager: "v1.20.2"}}
	}
	tests := []struct {
		name string
		env  model.Environment
		to   Target
		want []string // step titles, prefixes
	}{
		{
			name: "Cilium first where the new release is tested on the current minor",
			env:  env("1.33", "1.19.7", "v1.4.1"), to: Target{Cilium: "1.20.2", Kubernetes: "1.35"},
			want: []string{"Pin", "Operator IAM", "Gateway API CRDs v1.4.1 -> v1.6.3 before Cilium 1.20.2", "Cilium 1.19.7 -> 1.20.2", "TLSRoutes rewritten",
				"Pin", "Kubernetes 1.33 -> 1.34", "Pin", "Kubernetes 1.34 -> 1.35"},
		},
		{
			name: "interleaved: Kubernetes first where the next Cilium is not tested on the current minor",
			env:  env("1.30", "1.18.12", "v1.4.1"), to: Target{Cilium: "1.20.2", Kubernetes: "1.33"},
			want: []string{"Pin", "Kubernetes 1.30 -> 1.31", "Pin", "Kubernetes 1.31 -> 1.32",
				"Pin", "Operator IAM", "Cilium 1.18.12 -> 1.19.7",
				"Pin", "Kubernetes 1.32 -> 1.33",
				"Pin", "Gateway API CRDs v1.4.1 -> v1.6.3 before Cilium 1.20.2", "Cilium 1.19.7 -> 1.20.2", "TLSRoutes rewritten"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Make(Input{Env: tt.env, To: tt.to, Render: noFiles})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range p.Steps {
				got = append(got, s.Title)
			}
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("steps:\n  %s\nwant prefixes:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if len(p.Breakages) != 2 || !slices.ContainsFunc(p.Breakages, func(b PathBreakage) bool { return strings.Contains(b.Upstream, "cilium/cilium#44920") }) {
				t.Errorf("breakages %+v, want the two of the 1.19 -> 1.20 hop", p.Breakages)
			}
		})
	}
}
