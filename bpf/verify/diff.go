package verify

import (
	"fmt"
	"slices"
	"strings"
)

// Status of one check.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Check is one comparison of expected and observed state.
type Check struct {
	Name      string `json:"name"`
	Status    Status `json:"status"`
	Expected  string `json:"expected"`
	Observed  string `json:"observed"`
	Evidence  string `json:"evidence,omitempty"`
	ValuesKey string `json:"valuesKey,omitempty"`
}

// Report is the outcome of one verification.
type Report struct {
	Node          string  `json:"node,omitempty"`
	Kernel        string  `json:"kernel,omitempty"`
	ChartVersion  string  `json:"chartVersion"`
	Checks        []Check `json:"checks"`
	Summary       Summary `json:"summary"`
	DurationMilli float64 `json:"durationMs,omitempty"`
}

// Summary counts checks by status.
type Summary struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
}

// Drift reports whether any check failed.
func (r Report) Drift() bool { return r.Summary.Fail > 0 }

// Diff compares a spec with an observation. It is a pure function: same input, same report.
func Diff(s Spec, o Observation) Report {
	var cs []Check
	cs = append(cs, diffFeatures(s, o)...)
	fsOK, fsCheck := diffBPFFS(s, o)
	cs = append(cs, fsCheck)
	pinned := pinnedIDs(o)
	for _, m := range s.Maps {
		cs = append(cs, diffMap(m, o.Maps[m.Name], fsOK)...)
		if m.Inner != nil {
			cs = append(cs, diffMaglev(s, m, o.Maps[m.Name], fsOK))
		}
	}
	for _, d := range s.Devices {
		cs = append(cs, diffDevice(d, o.Devices[d.Name], pinned)...)
	}
	for _, p := range o.Probes {
		cs = append(cs, diffProbe(p))
	}
	r := Report{Node: o.Node, Kernel: o.Kernel, ChartVersion: s.ChartVersion, Checks: cs}
	for _, c := range cs {
		switch c.Status {
		case Pass:
			r.Summary.Pass++
		case Fail:
			r.Summary.Fail++
		case Warn:
			r.Summary.Warn++
		case Skip:
			r.Summary.Skip++
		}
	}
	return r
}

func diffFeatures(s Spec, o Observation) []Check {
	var cs []Check
	for _, f := range s.Features {
		c := Check{Name: "kernel." + f.Name, Expected: "supported (" + f.Why + ")", ValuesKey: f.ValuesKey}
		res, ok := o.Features[f.Name]
		switch {
		case !f.Required:
			c.Status, c.Expected, c.Observed = Skip, "not needed ("+f.Why+")", "not probed"
		case !ok:
			c.Status, c.Observed = Fail, "not probed"
		case res.Supported:
			c.Status, c.Observed, c.Evidence = Pass, "supported", res.Detail
		default:
			c.Status, c.Observed, c.Evidence = Fail, "not supported", res.Detail
		}
		cs = append(cs, c)
	}
	return cs
}

func diffBPFFS(s Spec, o Observation) (bool, Check) {
	c := Check{Name: "bpffs.mounted", Expected: fmt.Sprintf("bpffs (magic %#x) at %s", BPFFSMagic, s.BPFFS), ValuesKey: "bpf.root"}
	switch {
	case o.BPFFS.Err != "":
		c.Status, c.Observed = Fail, "statfs "+o.BPFFS.Path+": "+o.BPFFS.Err
	case o.BPFFS.Magic != BPFFSMagic:
		c.Status, c.Observed = Fail, fmt.Sprintf("filesystem magic %#x at %s", o.BPFFS.Magic, o.BPFFS.Path)
	default:
		c.Status, c.Observed = Pass, "bpffs at "+o.BPFFS.Path
	}
	c.Evidence = fmt.Sprintf("statfs(%s).f_type=%#x", o.BPFFS.Path, o.BPFFS.Magic)
	return c.Status == Pass, c
}

func diffMap(m MapSpec, obs []MapObservation, fsOK bool) []Check {
	name := "map." + m.Name
	if m.Glob {
		name = "map." + m.Name + "*"
	}
	c := Check{Name: name, Expected: fmt.Sprintf("%s max_entries=%s pinned at %s", m.Type, m.MaxEntries, m.PinPath), ValuesKey: m.ValuesKey}
	if !fsOK {
		c.Status, c.Observed = Skip, "bpffs not mounted"
		return []Check{c}
	}
	var present []MapObservation
	for _, o := range obs {
		if o.Present {
			present = append(present, o)
		} else if o.Err != "" {
			c.Status, c.Observed, c.Evidence = Fail, "unreadable", o.PinPath+": "+o.Err
			return []Check{c}
		}
	}
	if len(present) == 0 {
		c.Observed = "missing"
		c.Evidence = "no pin at " + m.PinPath
		c.Status = Fail
		if m.Glob {
			// No endpoint yet (the host endpoint appears once the agent runs): a warning.
			c.Status = Warn
		}
		return []Check{c}
	}
	var bad, ev []string
	for _, o := range present {
		ev = append(ev, fmt.Sprintf("%s id=%d type=%s max_entries=%d key=%d value=%d", o.PinPath, o.ID, o.Type, o.MaxEntries, o.KeySize, o.ValueSize))
		if o.Type != m.Type || !m.MaxEntries.Contains(o.MaxEntries) {
			bad = append(bad, fmt.Sprintf("%s max_entries=%d at %s", o.Type, o.MaxEntries, o.PinPath))
		}
	}
	c.Evidence = strings.Join(limit(ev, 5), "; ")
	if len(bad) > 0 {
		c.Status, c.Observed = Fail, strings.Join(limit(bad, 5), "; ")
		return []Check{c}
	}
	c.Status = Pass
	if len(present) == 1 {
		c.Observed = fmt.Sprintf("%s max_entries=%d", present[0].Type, present[0].MaxEntries)
	} else {
		c.Observed = fmt.Sprintf("%d maps, all %s max_entries in %s", len(present), m.Type, m.MaxEntries)
	}
	return []Check{c}
}

func diffMaglev(s Spec, m MapSpec, obs []MapObservation, fsOK bool) Check {
	c := Check{
		Name:      "maglev.table_size." + m.Name,
		Expected:  fmt.Sprintf("inner maps %s value_size=%d (4 x tableSize %d) max_entries=%d", m.Inner.Type, m.Inner.ValueSize, s.MaglevTableSize, m.Inner.MaxEntries),
		ValuesKey: "maglev.tableSize",
	}
	if !fsOK || len(obs) == 0 || !obs[0].Present {
		c.Status, c.Observed = Skip, "outer map not readable"
		return c
	}
	o := obs[0]
	if o.InnerErr != "" {
		c.Status, c.Observed, c.Evidence = Fail, "inner maps unreadable", o.InnerErr
		return c
	}
	if len(o.Inner) == 0 {
		c.Status, c.Observed = Skip, "no Maglev service programmed yet (outer map empty)"
		if s.LBAlgorithm == "maglev" {
			c.Status = Warn
		}
		c.Evidence = fmt.Sprintf("%s id=%d has no entries", o.PinPath, o.ID)
		return c
	}
	var bad, ev []string
	for _, in := range o.Inner {
		ev = append(ev, fmt.Sprintf("inner id=%d %s value_size=%d max_entries=%d (table size %d)", in.ID, in.Type, in.ValueSize, in.MaxEntries, in.ValueSize/maglevBackendLen))
		if in.Type != m.Inner.Type || in.ValueSize != m.Inner.ValueSize || in.MaxEntries != m.Inner.MaxEntries {
			bad = append(bad, fmt.Sprintf("inner id=%d table size %d", in.ID, in.ValueSize/maglevBackendLen))
		}
	}
	c.Evidence = strings.Join(limit(ev, 3), "; ")
	if len(bad) > 0 {
		c.Status, c.Observed = Fail, strings.Join(limit(bad, 3), "; ")
		return c
	}
	c.Status, c.Observed = Pass, fmt.Sprintf("%d inner maps sampled, table size %d", len(o.Inner), s.MaglevTableSize)
	return c
}

// pinnedIDs maps kernel map names to the IDs of the pinned maps carrying them.
func pinnedIDs(o Observation) map[string][]uint32 {
	ids := map[string][]uint32{}
	for _, obs := range o.Maps {
		for _, m := range obs {
			if m.Present {
				ids[m.Name] = append(ids[m.Name], m.ID)
			}
		}
	}
	return ids
}

func diffDevice(d DeviceSpec, o DeviceObservation, pinned map[string][]uint32) []Check {
	pre := "prog." + d.Name + "."
	if !o.Exists {
		obs := "device missing"
		if o.Err != "" {
			obs = o.Err
		}
		return []Check{{Name: pre + "ingress", Status: Fail, Expected: d.Ingress + " attached", Observed: obs}}
	}
	var cs []Check
	hook := func(dir, want, key string, progs []Program, wantWarn bool) {
		c := Check{Name: pre + dir, ValuesKey: key}
		got := ciliumProgs(progs)
		c.Evidence = describe(o, dir, progs)
		switch {
		case want == "" && len(got) == 0:
			c.Status, c.Expected, c.Observed = Pass, "no Cilium program", "none"
		case want == "":
			c.Status, c.Expected, c.Observed = Fail, "no Cilium program", "unexpected "+names(got)
		case slices.ContainsFunc(got, func(p Program) bool { return p.Name == KernelName(want) }):
			c.Status, c.Expected, c.Observed = Pass, want+" attached", names(got)
		default:
			c.Status, c.Expected, c.Observed = Fail, want+" attached", "missing (attached: "+orNone(names(progs))+")"
			if wantWarn {
				c.Status = Warn
			}
		}
		cs = append(cs, c)
		for _, p := range got {
			if p.Name == KernelName(want) {
				cs = append(cs, diffProgMaps(pre+dir+".maps", p, pinned))
			}
		}
	}
	hook("ingress", d.Ingress, "-", o.Ingress, false)
	hook("egress", d.Egress, d.EgressKey, o.Egress, false)
	if d.Role == "native" {
		var xdp []Program
		if o.XDP != nil {
			xdp = []Program{*o.XDP}
		}
		hook("xdp", d.XDP, "loadBalancer.acceleration", xdp, d.XDPBestEffort)
	}
	return cs
}

// diffProgMaps fails when a Cilium program uses a map that carries a pinned map's name but is not
// that pinned map: the pin was replaced (or the program is stale) and the two no longer share state.
func diffProgMaps(name string, p Program, pinned map[string][]uint32) Check {
	c := Check{Name: name, Expected: "every map " + p.Name + " uses that has a pinned name is the pinned map", ValuesKey: "-"}
	if p.Err != "" {
		c.Status, c.Observed = Fail, "program unreadable: "+p.Err
		return c
	}
	var shared, stale []string
	for _, m := range p.Maps {
		ids, ok := pinned[m.Name]
		if !ok {
			continue
		}
		if slices.Contains(ids, m.ID) {
			shared = append(shared, fmt.Sprintf("%s#%d", m.Name, m.ID))
		} else {
			stale = append(stale, fmt.Sprintf("%s#%d (pinned: %v)", m.Name, m.ID, ids))
		}
	}
	c.Evidence = fmt.Sprintf("prog id=%d map ids %v", p.ID, mapIDs(p.Maps))
	switch {
	case len(stale) > 0:
		c.Status, c.Observed = Fail, "uses unpinned copies: "+strings.Join(stale, ", ")
	case len(shared) == 0:
		c.Status, c.Observed = Warn, "uses none of the pinned maps"
	default:
		c.Status, c.Observed = Pass, "uses pinned "+strings.Join(limit(shared, 8), ", ")
	}
	return c
}

func diffProbe(p ProbeResult) Check {
	c := Check{Name: "probe." + p.Device, Expected: "packets on ingress within " + p.Window, ValuesKey: "-"}
	switch {
	case p.Err != "":
		c.Status, c.Observed = Fail, "probe: "+p.Err
	case p.Packets == 0:
		c.Status, c.Observed = Fail, "0 packets"
	default:
		c.Status, c.Observed = Pass, fmt.Sprintf("%d packets", p.Packets)
	}
	c.Evidence = "tcx ingress head probe, unpinned, detached after " + p.Window
	return c
}

func ciliumProgs(ps []Program) []Program {
	var out []Program
	for _, p := range ps {
		if strings.HasPrefix(p.Name, "cil_") {
			out = append(out, p)
		}
	}
	return out
}

func names(ps []Program) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("%s#%d", p.Name, p.ID))
	}
	return strings.Join(s, ", ")
}

func describe(o DeviceObservation, dir string, ps []Program) string {
	attach := o.Attach
	if dir == "xdp" {
		attach = "xdp"
	}
	var s []string
	for _, p := range ps {
		a := attach
		if dir != "xdp" && p.Attach != "" {
			a = p.Attach
		}
		e := fmt.Sprintf("%s %s ifindex=%d prog id=%d %s", a, dir, o.Ifindex, p.ID, p.Name)
		if p.LinkID != 0 {
			e += fmt.Sprintf(" link id=%d", p.LinkID)
			for _, l := range o.PinnedLinks {
				if l.LinkID == p.LinkID {
					e += " pinned " + l.Path
				}
			}
		}
		s = append(s, e)
	}
	if len(s) == 0 {
		return fmt.Sprintf("%s %s ifindex=%d: no programs", attach, dir, o.Ifindex)
	}
	return strings.Join(s, "; ")
}

func mapIDs(ms []MapRef) []uint32 {
	ids := make([]uint32, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("... %d more", len(s)-n))
}
