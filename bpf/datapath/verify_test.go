package datapath

import (
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/support"
)

func TestParseValues(t *testing.T) {
	newest := support.CiliumVersions()[len(support.CiliumVersions())-1]
	tests := []struct {
		name     string
		values   string
		versions string
		errs     []string // every error line, in order
		check    func(t *testing.T, v Values)
	}{
		{name: "chart defaults", values: "{}", versions: "cilium: 1.18.12", check: func(t *testing.T, v Values) {
			if v.Minor != "1.18" || v.LBMapMax != 65536 || v.PolicyMapMax != 16384 || v.CTTCPMax != nil || v.Acceleration != "disabled" || v.BPFRoot != "/sys/fs/bpf" || v.KubeProxyReplacement {
				t.Errorf("defaults: %+v", v)
			}
		}},
		{name: "explicit sizes and string KPR", values: "kubeProxyReplacement: \"true\"\nbpf: {ctTcpMax: 1000000, natMax: 700000}\nmaglev: {tableSize: 65521}", check: func(t *testing.T, v Values) {
			if !v.KubeProxyReplacement || *v.CTTCPMax != 1000000 || *v.NATMax != 700000 || v.MaglevTableSize != 65521 || v.ChartVersion != DefaultChartVersion || v.ChartVersion != newest {
				t.Errorf("values: %+v", v)
			}
		}},
		{name: "another patch of a supported minor", values: "{}", versions: "cilium: v" + support.Minor(newest) + ".999", check: func(t *testing.T, v Values) {
			if v.ChartVersion != support.Minor(newest)+".999" || v.Minor != support.Minor(newest) {
				t.Errorf("values: %+v", v)
			}
		}},
		{name: "every problem at once", values: "bpf: {lbMapMax: big, ctAnyMax: -1, root: sys/fs/bpf, enableTCX: maybe}\nloadBalancer: {acceleration: turbo}\nmaglev: {tableSize: 1000}", versions: "cilium: 1.17.3",
			errs: []string{
				`values.bpf.ctAnyMax: -1 is not positive (a map size, or unset for dynamic sizing)`,
				`values.bpf.enableTCX: "maybe" is not true or false (a bool, or the string "true" or "false")`,
				`values.bpf.lbMapMax: "big" is not an integer`,
				`values.bpf.root: "sys/fs/bpf" is not an absolute path`,
				`values.loadBalancer.acceleration: "turbo" is not supported (allowed: disabled, native, best-effort)`,
				`values.maglev.tableSize: 1000 is not one of Cilium's table sizes (allowed: 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)`,
				`versions.cilium: "1.17.3" is not a supported chart (supported: ` + strings.Join(support.CiliumVersions(), ", ") + `, or another patch of their minors)`,
			}},
		{name: "no chart version", values: "{}", versions: "kubernetes: \"1.35\"",
			errs: []string{"versions.cilium: is not set (the chart version, like " + newest + ")"}},
		{name: "neither file YAML", values: "bpf: [", versions: "cilium: [",
			errs: []string{
				"values: is not YAML: error converting YAML to JSON: yaml: line 1: did not find expected node content",
				"versions: is not YAML: error converting YAML to JSON: yaml: line 1: did not find expected node content",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vers []byte
			if tt.versions != "" {
				vers = []byte(tt.versions)
			}
			v, errs := ParseValues([]byte(tt.values), vers)
			slices.Sort(tt.errs)
			if got := problem.Lines(errs); !slices.Equal(got, tt.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errs, "\n"))
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

func TestRoundForCPUs(t *testing.T) {
	tests := []struct {
		name string
		in   Range
		cpus int
		want Range
	}{
		{name: "explicit size rounded up", in: Range{500001, 500001}, cpus: 2, want: Range{500002, 500002}},
		{name: "multiple stays", in: Range{524288, 524288}, cpus: 4, want: Range{524288, 524288}},
		{name: "dynamic range: floor up, limit down", in: Range{dynCTAnyMin, dynTableMax}, cpus: 3, want: Range{65538, 16777215}},
		{name: "one CPU changes nothing", in: Range{7, 7}, cpus: 1, want: Range{7, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoundForCPUs(tt.in, tt.cpus); got != tt.want {
				t.Errorf("RoundForCPUs(%s, %d) = %s, want %s", tt.in, tt.cpus, got, tt.want)
			}
		})
	}
}

// checkStatus runs Diff and returns the status of each named check.
func checkStatus(t *testing.T, s Spec, o Observation, names ...string) map[string]Status {
	t.Helper()
	got := map[string]Status{}
	for _, c := range Diff(s, o).Checks {
		if slices.Contains(names, c.Name) {
			if _, dup := got[c.Name]; dup {
				t.Errorf("two checks named %s", c.Name)
			}
			got[c.Name] = c.Status
		}
	}
	return got
}

func TestDiffPure(t *testing.T) {
	pins := []MapObservation{
		{PinPath: "/sys/fs/bpf/tc/globals/cilium_snat_v4_external", Present: true, ID: 1, Name: "cilium_snat_v4_", Type: "LRUHash", KeySize: 14, ValueSize: 40},
		{PinPath: "/sys/fs/bpf/tc/globals/cilium_snat_v4_alloc_retries", Present: true, ID: 2, Name: "cilium_snat_v4_", Type: "PerCPUArray", KeySize: 4, ValueSize: 8},
	}
	snat := MapRef{ID: 1, Name: "cilium_snat_v4_", Type: "LRUHash", KeySize: 14, ValueSize: 40}
	retries := MapRef{ID: 2, Name: "cilium_snat_v4_", Type: "PerCPUArray", KeySize: 4, ValueSize: 8}
	staleSnat := MapRef{ID: 9, Name: "cilium_snat_v4_", Type: "LRUHash", KeySize: 14, ValueSize: 40}
	cil := func(id uint32, attach string, prio uint16, maps ...MapRef) Program {
		return Program{ID: id, Name: ProgToNetdev, Attach: attach, Prio: prio, Maps: maps}
	}
	tests := []struct {
		name    string
		values  string
		allowed []string
		egress  []Program
		tcx     bool
		cpus    int
		mapObs  map[string][]MapObservation
		want    map[string]Status
	}{
		{name: "maps compared by ID, not by their 15-character names", tcx: true,
			egress: []Program{cil(10, "tcx", 0, snat, retries)},
			want:   map[string]Status{"prog.ens5.egress.maps": Pass}},
		{name: "an unpinned copy with a pinned map's name and layout is stale", tcx: true,
			egress: []Program{cil(10, "tcx", 0, staleSnat, retries)},
			want:   map[string]Status{"prog.ens5.egress.maps": Fail}},
		{name: "legacy tc: a declared filter ahead of Cilium's breaks the order", values: "bpf: {enableTCX: false}", allowed: []string{"agent"},
			egress: []Program{{ID: 11, Name: "agent", Attach: "tc", Prio: 1}, cil(10, "tc", 2, snat)},
			want:   map[string]Status{"prog.ens5.egress.order": Fail, "prog.ens5.egress.foreign": Pass, "prog.ens5.egress.stale": Pass}},
		{name: "tcx chain: a declared program ahead is Cilium's design", tcx: true, allowed: []string{"0123456789abcdef"},
			egress: []Program{{ID: 11, Name: "agent", Tag: "0123456789abcdef", Attach: "tcx"}, cil(10, "tcx", 0, snat)},
			want:   map[string]Status{"prog.ens5.egress.order": Pass, "prog.ens5.egress.foreign": Pass}},
		{name: "kernel without tcx: Cilium's legacy filters are not stale", values: "bpf: {enableTCX: true}",
			egress: []Program{cil(10, "tc", 1, snat)},
			want:   map[string]Status{"prog.ens5.egress.stale": Pass, "prog.ens5.egress.order": Pass}},
		{name: "distributed LRU: an unrounded size is drift", values: "bpf: {distributedLRU: {enabled: true}, ctTcpMax: 500001}", tcx: true, cpus: 2,
			mapObs: map[string][]MapObservation{"cilium_ct4_global": {{PinPath: "p", Present: true, Type: "LRUHash", MaxEntries: 500001, KeySize: 14, ValueSize: 56, Flags: FlagNoCommonLRU}}},
			want:   map[string]Status{"map.cilium_ct4_global": Fail, "map.cilium_ct4_global.flags": Pass, "map.cilium_ct4_global.layout": Pass}},
		{name: "distributed LRU: the rounded size passes", values: "bpf: {distributedLRU: {enabled: true}, ctTcpMax: 500001}", tcx: true, cpus: 2,
			mapObs: map[string][]MapObservation{"cilium_ct4_global": {{PinPath: "p", Present: true, Type: "LRUHash", MaxEntries: 500002, KeySize: 14, ValueSize: 56, Flags: FlagNoCommonLRU}}},
			want:   map[string]Status{"map.cilium_ct4_global": Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := "kubeProxyReplacement: true\n" + tt.values
			v, errs := ParseValues([]byte(values), nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			s := Expected(v, []string{"ens5"}, tt.allowed)
			o := Observation{
				BPFFS: FSObservation{Path: "/sys/fs/bpf", Magic: BPFFSMagic}, TCX: tt.tcx, PossibleCPUs: tt.cpus, Pins: pins, Maps: tt.mapObs,
				Devices: map[string]DeviceObservation{"ens5": {Name: "ens5", Exists: true, Egress: tt.egress}},
			}
			var names []string
			for n := range tt.want {
				names = append(names, n)
			}
			got := checkStatus(t, s, o, names...)
			for n, want := range tt.want {
				if got[n] != want {
					t.Errorf("%s: %s, want %s", n, got[n], want)
				}
			}
		})
	}
}

func TestValidAllowed(t *testing.T) {
	for s, want := range map[string]bool{"falco_tc": true, "0123456789abcdef": true, "a_name_longer_than_15": false, "": false, "drop;rm": false} {
		if got := ValidAllowed(s); got != want {
			t.Errorf("ValidAllowed(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDiffProbe(t *testing.T) {
	tests := []struct {
		name string
		p    ProbeResult
		want Status
	}{
		{name: "reached Cilium", p: ProbeResult{Arrived: 10, Reached: 10, Program: "cil_from_netdev#1"}, want: Pass},
		{name: "arrived, never reached Cilium", p: ProbeResult{Arrived: 10, Program: "cil_from_netdev#1"}, want: Fail},
		{name: "nothing arrived", p: ProbeResult{Program: "cil_from_netdev#1"}, want: Fail},
		{name: "no tcx: the run count alone passes", p: ProbeResult{NoCounter: true, Reached: 3, Program: "cil_from_netdev#1"}, want: Pass},
		{name: "no tcx: no run fails", p: ProbeResult{NoCounter: true, Program: "cil_from_netdev#1"}, want: Fail},
		{name: "probe error", p: ProbeResult{Err: "no Cilium ingress program to reach"}, want: Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Device, tt.p.Window = "ens5", "2s"
			if c := diffProbe(tt.p); c.Status != tt.want || c.Name != "probe.ens5" {
				t.Errorf("%s %s (%s), want %s", c.Name, c.Status, c.Observed, tt.want)
			}
		})
	}
}
