package verify

import (
	"strings"
	"testing"
)

func TestParseValues(t *testing.T) {
	tests := []struct {
		name     string
		values   string
		versions string
		errs     []string // substrings, one per expected error line
		check    func(t *testing.T, v Values)
	}{
		{name: "chart defaults", values: "{}", versions: "cilium: 1.18.12", check: func(t *testing.T, v Values) {
			if v.Minor != "1.18" || v.LBMapMax != 65536 || v.PolicyMapMax != 16384 || v.CTTCPMax != nil || v.Acceleration != "disabled" || v.BPFRoot != "/sys/fs/bpf" || v.KubeProxyReplacement {
				t.Errorf("defaults: %+v", v)
			}
		}},
		{name: "explicit sizes and string KPR", values: "kubeProxyReplacement: \"true\"\nbpf: {ctTcpMax: 1000000, natMax: 700000}\nmaglev: {tableSize: 65521}", check: func(t *testing.T, v Values) {
			if !v.KubeProxyReplacement || *v.CTTCPMax != 1000000 || *v.NATMax != 700000 || v.MaglevTableSize != 65521 || v.ChartVersion != DefaultChartVersion {
				t.Errorf("values: %+v", v)
			}
		}},
		{name: "every problem at once", values: "bpf: {lbMapMax: big, ctAnyMax: -1}\nloadBalancer: {acceleration: turbo}\nmaglev: {tableSize: 1000}", versions: "cilium: 1.17.3",
			errs: []string{"values.bpf.ctAnyMax", "values.bpf.lbMapMax", "values.loadBalancer.acceleration", "values.maglev.tableSize", "versions.cilium"}},
		{name: "not YAML", values: "bpf: [", errs: []string{"values: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vers []byte
			if tt.versions != "" {
				vers = []byte(tt.versions)
			}
			v, errs := ParseValues([]byte(tt.values), vers)
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %d matching %v", errs, len(tt.errs), tt.errs)
			}
			for _, want := range tt.errs {
				if !strings.Contains(errs.ToAggregate().Error(), want) {
					t.Errorf("errors %v lack %q", errs, want)
				}
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

func TestExpectedSizes(t *testing.T) {
	v, errs := ParseValues([]byte("kubeProxyReplacement: true\nbpf: {natMax: 300000}\nloadBalancer: {acceleration: best-effort}"), nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	s := Expected(v, []string{"ens5", "ens5"}, nil)
	want := map[string]Range{
		"cilium_ct4_global":       {dynCTTCPMin, dynTableMax},
		"cilium_ct_any4_global":   {dynCTAnyMin, dynTableMax},
		"cilium_snat_v4_external": {300000, 300000},
		"cilium_nodeport_neigh4":  {300000, 300000}, // follows natMax when unset
		"cilium_lb4_maglev":       {65536, 65536},
		PolicyMapPrefix:           {16384, 16384},
	}
	for _, m := range s.Maps {
		if r, ok := want[m.Name]; ok && r != m.MaxEntries {
			t.Errorf("%s max_entries %s, want %s", m.Name, m.MaxEntries, r)
		}
		if m.Name == "cilium_lb4_maglev" && (m.Inner == nil || m.Inner.ValueSize != 4*16381) {
			t.Errorf("maglev inner %+v, want value size %d", m.Inner, 4*16381)
		}
	}
	if len(s.Devices) != 3 || s.Devices[0].Egress != ProgToNetdev || s.Devices[0].XDP != ProgXDP || !s.Devices[0].XDPBestEffort {
		t.Errorf("devices %+v", s.Devices)
	}
}

func TestDiffMissingBPFFSSkipsMaps(t *testing.T) {
	v, _ := ParseValues([]byte("{}"), nil)
	r := Diff(Expected(v, nil, nil), Observation{BPFFS: FSObservation{Path: "/sys/fs/bpf", Err: "no such file or directory"}})
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Name, "map.") && c.Status != Skip {
			t.Errorf("%s: %s, want SKIP without bpffs", c.Name, c.Status)
		}
		if c.Name == "bpffs.mounted" && c.Status != Fail {
			t.Errorf("bpffs.mounted: %s, want FAIL", c.Status)
		}
	}
}
