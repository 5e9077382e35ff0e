package nodeverify

import (
	"testing"
	"time"

	"github.com/enigate/enigate/bpf/datapath"
)

// TestMetricsOneSeriesPerCheck: each check is one enigate_node_verify_check series, carrying its
// current status; a status change replaces the series instead of adding one.
func TestMetricsOneSeriesPerCheck(t *testing.T) {
	m := NewMetrics()
	run := func(statuses ...datapath.Status) map[string]string {
		t.Helper()
		var r datapath.Report
		for i, s := range statuses {
			r.Checks = append(r.Checks, datapath.Check{Name: []string{"map.cilium_ct4_global", "prog.ens5.ingress.foreign", "probe.ens5"}[i], Status: s})
		}
		m.Record(r, nil, time.Second, time.Unix(1700000000, 0))
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, mf := range mfs {
			if mf.GetName() != "enigate_node_verify_check" {
				continue
			}
			for _, s := range mf.GetMetric() {
				var check, status string
				for _, l := range s.GetLabel() {
					switch l.GetName() {
					case "check":
						check = l.GetValue()
					case "status":
						status = l.GetValue()
					}
				}
				if _, dup := got[check]; dup {
					t.Errorf("two series for check %s", check)
				}
				got[check] = status
			}
		}
		return got
	}
	run(datapath.Pass, datapath.Pass, datapath.Pass)
	got := run(datapath.Fail, datapath.Pass, datapath.Fail)
	want := map[string]string{"map.cilium_ct4_global": "FAIL", "prog.ens5.ingress.foreign": "PASS", "probe.ens5": "FAIL"}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("check %s: status %q, want %q", k, got[k], v)
		}
	}
}
