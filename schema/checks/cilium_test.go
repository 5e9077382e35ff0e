package checks_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/problem"
)

func ciliumEnv() model.Environment {
	return model.Environment{
		Name:     "prod",
		Versions: model.Versions{Cilium: "1.19.7"},
		Cluster:  model.Cluster{Name: "prod", Region: "ap-northeast-2", Tags: map[string]string{"environment": "prod"}},
		VPC:      model.VPC{CIDR: "10.0.0.0/16"},
		Cilium: model.Cilium{
			ClusterID: 3, PreAllocate: 8, LoadBalancerMode: "snat", Acceleration: "disabled", OperatorReplicas: 2,
			Maglev: model.Maglev{Enabled: true, TableSize: 16381, HashSeed: "Yie+5slhri/40zfx"},
			BPF:    model.BPF{MapDynamicSizeRatio: 0.0025, LBMapMax: 65536, PolicyMapMax: 16384, MonitorAggregation: "medium"},
			Hubble: model.Hubble{Enabled: true, Relay: true, Metrics: []string{"dns"}},
		},
	}
}

func TestCiliumIdentityAndGitOpsChecks(t *testing.T) {
	tests := []struct {
		name      string
		env       func(*model.Environment)
		overrides string // YAML merged over the rendered values
		want      string // "" means no error
	}{
		{name: "rendered values pass"},
		{name: "API server host rendered", env: func(e *model.Environment) { e.Cluster.APIServerHost = "ABC.gr7.ap-northeast-2.eks.amazonaws.com" }},
		{name: "default cluster name", overrides: "cluster: {name: default}",
			want: `cilium.values.cluster.name: is "default" (Cilium's default`},
		{name: "cluster name not the EKS cluster's", overrides: "cluster: {name: other}",
			want: `cilium.values.cluster.name: "other" is not the EKS cluster name "prod"`},
		{name: "cluster name too long for Cilium", env: func(e *model.Environment) { e.Cluster.Name = strings.Repeat("a", 33) },
			want: `is not a Cilium cluster name (lower case alphanumerics and '-', at most 32 characters)`},
		{name: "cluster id in the ENI bug range", env: func(e *model.Environment) { e.Cilium.ClusterID = 130 },
			want: `cilium.values.cluster.id: 130 is rejected by the chart in ENI mode`},
		{name: "cluster id unset", overrides: "cluster: {id: 0}",
			want: `cilium.values.cluster.id: is 0 (allowed: 1-127`},
		{name: "hubble TLS by helm", overrides: "hubble: {tls: {auto: {method: helm}}}",
			want: `cilium.values.hubble.tls.auto.method: is "helm" (helm generates new certificates on every render`},
		{name: "hubble TLS by cert-manager", overrides: "hubble: {tls: {auto: {method: certmanager}}}",
			want: `is certmanager (its Certificates need cert-manager's CRDs`},
		{name: "hubble TLS off needs no method", overrides: "hubble: {tls: {enabled: false, auto: {method: helm}}}"},
		{name: "k8sServiceHost auto", env: func(e *model.Environment) { e.Cluster.APIServerHost = "auto" },
			want: `cilium.values.k8sServiceHost: is auto (a Helm lookup`},
		{name: "k8sServiceHost placeholder", env: func(e *model.Environment) { e.Cluster.APIServerHost = "REPLACE-WITH-EKS-ENDPOINT-HOST" },
			want: `"REPLACE-WITH-EKS-ENDPOINT-HOST" is a placeholder`},
		{name: "k8sServiceHost with scheme", env: func(e *model.Environment) { e.Cluster.APIServerHost = "https://x.eks.amazonaws.com" },
			want: `is not a bare host`},
		{name: "k8sServiceHost and the ref", env: func(e *model.Environment) { e.Cluster.APIServerHost = "x.eks.amazonaws.com" },
			overrides: "k8sServiceHostRef: {name: a, key: b}", want: `is set together with k8sServiceHostRef (the chart fails`},
		{name: "neither host nor ref", overrides: "k8sServiceHostRef: {name: ''}",
			want: `is empty and k8sServiceHostRef is unset`},
		{name: "ServiceMonitor without its CRD", overrides: "operator: {prometheus: {serviceMonitor: {enabled: true}}}",
			want: `cilium.values.operator.prometheus.serviceMonitor.enabled: is true but cilium.serviceMonitors is false`},
		{name: "ServiceMonitors with their CRD", env: func(e *model.Environment) { e.Cilium.ServiceMonitors = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := ciliumEnv()
			if tt.env != nil {
				tt.env(&env)
			}
			if tt.overrides != "" {
				if err := yaml.Unmarshal([]byte(tt.overrides), &env.Overrides.CiliumValues); err != nil {
					t.Fatal(err)
				}
			}
			r := checks.CiliumValues(env, cilium.Values(env), field.NewPath("cilium", "values"))
			got := strings.Join(problem.Lines(r.Errors), "\n")
			if tt.want == "" {
				if got != "" {
					t.Fatalf("unexpected problems:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

func TestDuplicateClusterIDs(t *testing.T) {
	env := func(id int) model.Environment { return model.Environment{Cilium: model.Cilium{ClusterID: id}} }
	tests := []struct {
		name string
		ids  []int
		want []checks.IDClash
	}{
		{name: "distinct", ids: []int{1, 2, 3}},
		{name: "second repeats the first", ids: []int{1, 1}, want: []checks.IDClash{{Index: 1, Other: 0}}},
		{name: "each repeat names the first holder", ids: []int{4, 2, 4, 4}, want: []checks.IDClash{{Index: 2, Other: 0}, {Index: 3, Other: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var envs []model.Environment
			for _, id := range tt.ids {
				envs = append(envs, env(id))
			}
			got := checks.DuplicateClusterIDs(envs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
