package support_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/eksdata"
	"github.com/enigate/enigate/schema/support"
)

// TestSchemaDefaultsSupported: the version defaults of schema/enigate.cue are a combination
// the matrix supports without a warning, on the newest supported Cilium and its Gateway API pin.
func TestSchemaDefaultsSupported(t *testing.T) {
	env, err := schema.Load([]byte(`name: "t"
cluster: region: "eu-west-1"
vpc: {id: "vpc-0123456789abcdef0", cidr: "10.0.0.0/16", subnets: private: "eu-west-1a": {id: "subnet-0123456789abcdef0", cidr: "10.0.0.0/19"}}
nodeGroups: g: {instanceType: "m7g.large", minSize: 1, maxSize: 1}
cilium: {clusterID: 1, maglev: hashSeed: "Yie+5slhri/40zfx"}
teams: "team-a": hostnames: ["a.example.com"]
`), "overlays/t/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	errs, warns := support.Check(env.Versions, field.NewPath("versions"))
	if len(errs) > 0 || len(warns) > 0 {
		t.Errorf("defaults %+v: errors %v, warnings %q", env.Versions, errs, warns)
	}
	newest := support.Ciliums[len(support.Ciliums)-1]
	if env.Versions.Cilium != newest.Version || env.Versions.GatewayAPI != newest.GatewayAPIPin {
		t.Errorf("defaults cilium %s, gatewayAPI %s; want the newest row %s with %s", env.Versions.Cilium, env.Versions.GatewayAPI, newest.Version, newest.GatewayAPIPin)
	}
}

// TestExamplesCurrent: every example environment pins a supported combination, without
// warnings, on a Kubernetes minor in EKS standard support on the day the examples were set.
func TestExamplesCurrent(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	files, _ := filepath.Glob("../../overlays/*/environment.cue")
	if len(files) == 0 {
		t.Fatal("no overlays/*/environment.cue")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			env, err := schema.Load(data, f)
			if err != nil {
				t.Fatal(err)
			}
			errs, warns := support.Check(env.Versions, field.NewPath("versions"))
			if len(errs) > 0 || len(warns) > 0 {
				t.Errorf("%+v: errors %v, warnings %q", env.Versions, errs, warns)
			}
			k, ok := eksdata.LookupKubernetes(env.Versions.Kubernetes)
			if !ok || day.Before(k.Released) || !day.Before(k.EndOfStandard) {
				t.Errorf("Kubernetes %s is not in EKS standard support on %s (%+v)", env.Versions.Kubernetes, day.Format(time.DateOnly), k)
			}
		})
	}
}

// TestDocsNameEveryRow: docs/upgrades.md names every Cilium row and its Gateway API pin, every
// breakage's first upstream reference and every tool release, so the page follows the data.
func TestDocsNameEveryRow(t *testing.T) {
	b, err := os.ReadFile("../../docs/upgrades.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var want []string
	for _, c := range support.Ciliums {
		want = append(want, "| "+c.Version+" |", c.GatewayAPIPin)
	}
	for _, br := range support.Breakages {
		first, _, _ := strings.Cut(br.Upstream, ",")
		want = append(want, strings.Fields(first)[0])
	}
	for _, tools := range [][]support.Tool{support.Eksctl, support.Karpenter, support.CertManager} {
		for _, tool := range tools {
			want = append(want, tool.Version)
		}
	}
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/upgrades.md does not mention %q", w)
		}
	}
}
