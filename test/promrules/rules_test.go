// Package promrules checks the node verifier's PrometheusRule as Prometheus itself reads it: the
// rendered rule groups of every example overlay go through rulefmt.Parse (YAML shape, PromQL of
// each expression, the annotation templates), and each alert's expression is evaluated by the
// PromQL engine, with the options Prometheus's main sets, on series shaped like the verifier's
// metrics (series_test.go). A module of its own: github.com/prometheus/prometheus is too heavy for the
// product's go.mod; it imports only promql, promql/parser, storage and model/rulefmt, not
// promqltest, whose TSDB-backed test storage pulls Prometheus's config, service discovery and
// the AWS, Azure and GCP SDKs into the build (about 350 more packages to compile cold).
package promrules

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// rules reads the PrometheusRule spec of each overlay that renders one.
func rules(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../../overlays/*/enigate/node-verify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			var obj struct {
				Kind string         `json:"kind"`
				Spec map[string]any `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if obj.Kind != "PrometheusRule" {
				continue
			}
			spec, err := yaml.Marshal(obj.Spec)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = spec
		}
	}
	if len(out) == 0 {
		t.Fatal("no overlay renders the node verifier's PrometheusRule")
	}
	return out
}

func TestRulesParse(t *testing.T) {
	for f, spec := range rules(t) {
		t.Run(f, func(t *testing.T) {
			groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.Default())
			for _, err := range errs {
				t.Errorf("rulefmt: %v", err)
			}
			if groups != nil && (len(groups.Groups) != 1 || len(groups.Groups[0].Rules) != 3) {
				t.Errorf("want one group of 3 alerts, got %+v", groups.Groups)
			}
		})
	}
}

// TestAlertsFire evaluates each alert's expression on verifier series: it fires for the node and
// check that fail, and stays quiet for the healthy ones.
func TestAlertsFire(t *testing.T) {
	for f, spec := range rules(t) {
		groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.Default())
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs)
		}
		exprs := map[string]string{}
		for _, r := range groups.Groups[0].Rules {
			exprs[r.Alert] = r.Expr
		}
		ns := `namespace="enigate-system"`
		tests := []struct {
			alert, load, want string
		}{
			{"EnigateNodeDatapathDrift",
				fmt.Sprintf(`enigate_node_verify_check{%[1]s, node="n1", check="map.cilium_ct4_global", status="FAIL"} 1x20
enigate_node_verify_check{%[1]s, node="n2", check="map.cilium_ct4_global", status="PASS"} 1x20
enigate_node_verify_check{%[1]s, node="n3", check="probe.ens5", status="FAIL"} 1x20`, ns),
				`{node="n1", check="map.cilium_ct4_global"} 1`},
			{"EnigateNodeProbeFailing",
				fmt.Sprintf(`enigate_node_verify_check{%[1]s, node="n1", check="map.cilium_ct4_global", status="FAIL"} 1x20
enigate_node_verify_check{%[1]s, node="n3", check="probe.ens5", status="FAIL"} 1x20
enigate_node_verify_check{%[1]s, node="n4", check="probe.ens5", status="PASS"} 1x20`, ns),
				`{node="n3", check="probe.ens5"} 1`},
			// n1 ran last at 0s (eval at 20m: 1200s ago), n2 ran at 19m; n3 cannot verify; n4's
			// scrape fails.
			{"EnigateNodeVerifyNotReporting",
				fmt.Sprintf(`enigate_node_verify_last_run_timestamp_seconds{%[1]s, node="n1"} 0x20
enigate_node_verify_last_run_timestamp_seconds{%[1]s, node="n2"} 0+60x20
enigate_node_verify_up{%[1]s, node="n2"} 1x20
enigate_node_verify_up{%[1]s, node="n3"} 0x20
up{%[1]s, pod="enigate-node-verify-abcde", node="n4"} 0x20
up{%[1]s, pod="enigate-node-verify-fghij", node="n2"} 1x20`, ns),
				"{node=\"n1\"} 1200\n{node=\"n3\"} 0\n{node=\"n4\"} 0"},
		}
		for _, tt := range tests {
			t.Run(f+"/"+tt.alert, func(t *testing.T) {
				expr, ok := exprs[tt.alert]
				if !ok {
					t.Fatalf("no alert %s", tt.alert)
				}
				got, err := evalInstant(expr, load(t, tt.load, time.Minute), 20*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				want := expect(t, tt.want)
				for k, v := range got {
					if w, ok := want[k]; !ok {
						t.Errorf("%s: unexpected sample %s %v", tt.alert, k, v)
					} else if w != v {
						t.Errorf("%s: sample %s = %v, want %v", tt.alert, k, v, w)
					}
				}
				for k, v := range want {
					if _, ok := got[k]; !ok {
						t.Errorf("%s: no sample %s (want %v)", tt.alert, k, v)
					}
				}
			})
		}
	}
}
