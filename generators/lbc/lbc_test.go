package lbc

import (
	"reflect"
	"testing"

	"github.com/enigate/enigate/schema/model"
)

func TestValues(t *testing.T) {
	env := model.Environment{Cluster: model.Cluster{Name: "prod", Region: "ap-northeast-2", Tags: map[string]string{"team": "platform"}}}
	v := Values(env)
	sa, _ := v["serviceAccount"].(map[string]any)
	tests := []struct {
		name      string
		got, want any
	}{
		{"cluster name", v["clusterName"], "prod"},
		{"region", v["region"], "ap-northeast-2"},
		{"VPC found by eksctl's cluster tag", v["vpcTags"], map[string]any{"alpha.eksctl.io/cluster-name": "prod"}},
		{"chart creates the ServiceAccount", sa["create"], true},
		{"ServiceAccount named for its Pod Identity association", sa["name"], ServiceAccount},
		{"no IRSA role annotation", sa["annotations"], nil},
		{"webhook certificate from cert-manager", v["enableCertManager"], true},
		{"no Service mutating webhook", v["enableServiceMutatorWebhook"], false},
		{"cluster tags on AWS resources", v["defaultTags"], map[string]any{"team": "platform"}},
	}
	existing := env
	existing.VPC.ID = "vpc-0a1b2c3d4e5f60718"
	ev := Values(existing)
	tests = append(tests,
		struct {
			name      string
			got, want any
		}{"an existing VPC by its id", ev["vpcId"], "vpc-0a1b2c3d4e5f60718"},
		struct {
			name      string
			got, want any
		}{"an existing VPC is not looked up by tag", ev["vpcTags"], nil})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}
