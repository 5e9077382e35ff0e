package datapath

import (
	"fmt"
	"regexp"
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

// ProbeProgram is the kernel name of enigate's own probe (bpf/probe.c): neither Cilium's nor
// foreign.
const ProbeProgram = "enigate_probe"

// Diff compares a spec with an observation. It is a pure function: same input, same report.
// Check names are unique within a report.
func Diff(s Spec, o Observation) Report {
	var cs []Check
	cs = append(cs, diffFeatures(s, o)...)
	fsOK, fsCheck := diffBPFFS(s, o)
	cs = append(cs, fsCheck)
	for _, m := range s.Maps {
		cs = append(cs, diffMap(m, o.Maps[m.Name], fsOK, o.PossibleCPUs)...)
		if m.Inner != nil {
			cs = append(cs, diffMaglev(s, m, o.Maps[m.Name], fsOK))
		}
	}
	d := differ{s: s, o: o, pins: map[uint32]MapObservation{}}
	for _, p := range o.Pins {
		d.pins[p.ID] = p
	}
	d.mech = "tc"
	if s.EnableTCX && o.TCX {
		d.mech = "tcx"
	}
	for _, dev := range s.Devices {
		cs = append(cs, d.device(dev, o.Devices[dev.Name])...)
	}
	eps := make([]string, 0, len(o.Endpoints))
	for n := range o.Endpoints {
		eps = append(eps, n)
	}
	slices.Sort(eps)
	for _, n := range eps {
		spec := s.Endpoint
		spec.Name = n
		cs = append(cs, d.device(spec, o.Endpoints[n])...)
	}
	if s.SocketLB != nil {
		cs = append(cs, d.socketLB(*s.SocketLB, o.SocketLB)...)
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

// diffMap gives three checks per map: map.<name> (present, type, max_entries),
// map.<name>.layout (key and value size) and map.<name>.flags (allocation flags).
func diffMap(m MapSpec, obs []MapObservation, fsOK bool, cpus int) []Check {
	name := "map." + m.Name
	if m.Glob {
		name = "map." + m.Name + "*"
	}
	size := m.MaxEntries
	sizeNote := ""
	if m.RoundToCPUs {
		size = RoundForCPUs(size, cpus)
		sizeNote = fmt.Sprintf(", a multiple of %d possible CPUs (distributed LRU)", max(cpus, 1))
	}
	c := Check{Name: name, Expected: fmt.Sprintf("%s max_entries=%s%s pinned at %s", m.Type, size, sizeNote, m.PinPath), ValuesKey: m.ValuesKey}
	layout := Check{Name: name + ".layout", Expected: fmt.Sprintf("key_size=%d value_size=%d", m.KeySize, m.ValueSize), ValuesKey: "-"}
	flags := Check{Name: name + ".flags", Expected: describeFlags(m.Flags), ValuesKey: m.FlagsKey}
	skip := func(why string) []Check {
		for _, x := range []*Check{&c, &layout, &flags} {
			x.Status, x.Observed = Skip, why
		}
		return []Check{c, layout, flags}
	}
	if !fsOK {
		return skip("bpffs not mounted")
	}
	var present []MapObservation
	for _, o := range obs {
		if o.Present {
			present = append(present, o)
		} else if o.Err != "" {
			c.Status, c.Observed, c.Evidence = Fail, "unreadable", o.PinPath+": "+o.Err
			layout.Status, layout.Observed = Skip, "map unreadable"
			flags.Status, flags.Observed = Skip, "map unreadable"
			return []Check{c, layout, flags}
		}
	}
	if len(present) == 0 {
		out := skip("map missing")
		out[0].Observed, out[0].Evidence, out[0].Status = "missing", "no pin at "+m.PinPath, Fail
		if m.Glob {
			// No endpoint yet (the host endpoint appears once the agent runs): a warning.
			out[0].Status = Warn
		}
		return out
	}
	var bad, badLayout, badFlags, ev []string
	for _, o := range present {
		ev = append(ev, fmt.Sprintf("%s id=%d type=%s max_entries=%d key=%d value=%d flags=%#x", o.PinPath, o.ID, o.Type, o.MaxEntries, o.KeySize, o.ValueSize, o.Flags))
		if o.Type != m.Type || !size.Contains(o.MaxEntries) || m.RoundToCPUs && cpus > 1 && o.MaxEntries%uint32(cpus) != 0 {
			bad = append(bad, fmt.Sprintf("%s max_entries=%d at %s", o.Type, o.MaxEntries, o.PinPath))
		}
		if o.KeySize != m.KeySize || o.ValueSize != m.ValueSize {
			badLayout = append(badLayout, fmt.Sprintf("key_size=%d value_size=%d at %s", o.KeySize, o.ValueSize, o.PinPath))
		}
		if o.Flags&FlagsMask != m.Flags {
			badFlags = append(badFlags, fmt.Sprintf("%s at %s", describeFlags(o.Flags&FlagsMask), o.PinPath))
		}
	}
	evidence := strings.Join(limit(ev, 5), "; ")
	c.Evidence, layout.Evidence, flags.Evidence = evidence, evidence, evidence
	result := func(x *Check, bad []string, ok string) {
		if len(bad) > 0 {
			x.Status, x.Observed = Fail, strings.Join(limit(bad, 5), "; ")
			return
		}
		x.Status, x.Observed = Pass, ok
		if len(present) > 1 {
			x.Observed = fmt.Sprintf("%d maps, all %s", len(present), ok)
		}
	}
	result(&c, bad, fmt.Sprintf("%s max_entries=%d", present[0].Type, present[0].MaxEntries))
	if len(present) > 1 && len(bad) == 0 {
		c.Observed = fmt.Sprintf("%d maps, all %s max_entries in %s", len(present), m.Type, size)
	}
	result(&layout, badLayout, fmt.Sprintf("key_size=%d value_size=%d", m.KeySize, m.ValueSize))
	result(&flags, badFlags, describeFlags(m.Flags))
	return []Check{c, layout, flags}
}

// describeFlags names the judged flag bits.
func describeFlags(f uint32) string {
	var s []string
	if f&FlagNoPrealloc != 0 {
		s = append(s, "BPF_F_NO_PREALLOC")
	} else {
		s = append(s, "preallocated")
	}
	if f&FlagNoCommonLRU != 0 {
		s = append(s, "BPF_F_NO_COMMON_LRU")
	}
	if f&FlagRdonlyProg != 0 {
		s = append(s, "BPF_F_RDONLY_PROG")
	}
	return strings.Join(s, "|")
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

// differ holds what device and hook checks share.
type differ struct {
	s    Spec
	o    Observation
	pins map[uint32]MapObservation // every pin under tc/globals, by map ID
	mech string                    // "tcx" or "tc": how Cilium attaches on this node
}

func (d differ) device(ds DeviceSpec, o DeviceObservation) []Check {
	pre := "prog." + ds.Name + "."
	if !o.Exists {
		obs := "device missing"
		if o.Err != "" {
			obs = o.Err
		}
		return []Check{{Name: pre + "ingress", Status: Fail, Expected: ds.Ingress + " attached", Observed: obs}}
	}
	var cs []Check
	cs = append(cs, d.hook(ds, o, "ingress", ds.Ingress, "", "-", o.Ingress)...)
	cs = append(cs, d.hook(ds, o, "egress", ds.Egress, ds.EgressOptional, ds.EgressKey, o.Egress)...)
	if ds.Role == "native" {
		cs = append(cs, d.xdp(ds, o)...)
	}
	return cs
}

func isCilium(p Program) bool { return strings.HasPrefix(p.Name, "cil_") }
func isProbe(p Program) bool  { return p.Name == ProbeProgram }

// allowed reports whether the environment declares p (by kernel name or tag).
func (d differ) allowed(p Program) bool {
	for _, a := range d.s.Allowed {
		if a == p.Name || a == KernelName(p.Name) || p.Tag != "" && a == p.Tag {
			return true
		}
	}
	return false
}

// hook gives the checks of one tc hook (ingress or egress) of a device:
//
//	prog.<dev>.<dir>            Cilium's program is attached (or none where none is expected)
//	prog.<dev>.<dir>.maps       it uses Cilium's pinned maps, by map ID
//	prog.<dev>.<dir>.foreign    no program that is neither Cilium's nor declared
//	prog.<dev>.<dir>.order      Cilium's program sits where Cilium's loader puts it
//	prog.<dev>.<dir>.duplicate  Cilium's program is attached once
//	prog.<dev>.<dir>.stale      no Cilium attachment Cilium does not own
func (d differ) hook(ds DeviceSpec, o DeviceObservation, dir, want, optional, key string, progs []Program) []Check {
	name := "prog." + ds.Name + "." + dir
	chain := describe(o, dir, progs)
	kwant := KernelName(want)
	var cil, mine []Program
	for _, p := range progs {
		if isCilium(p) {
			cil = append(cil, p)
			if want != "" && p.Name == kwant {
				mine = append(mine, p)
			}
		}
	}
	var cs []Check
	c := Check{Name: name, ValuesKey: key, Evidence: chain}
	var unexpected []Program
	for _, p := range cil {
		if p.Name != kwant && (optional == "" || p.Name != KernelName(optional)) {
			unexpected = append(unexpected, p)
		}
	}
	switch {
	case want == "" && len(unexpected) == 0:
		c.Status, c.Expected, c.Observed = Pass, "no Cilium program", orNone(names(cil))
		if optional != "" {
			c.Expected = "no Cilium program but " + optional + " (optional)"
		}
	case want == "":
		c.Status, c.Expected, c.Observed = Fail, "no Cilium program", "unexpected "+names(unexpected)
	case len(mine) > 0 && len(unexpected) == 0:
		c.Status, c.Expected, c.Observed = Pass, want+" attached", names(mine)
	case len(mine) > 0:
		c.Status, c.Expected, c.Observed = Fail, want+" attached, no other Cilium program", "also "+names(unexpected)
	default:
		c.Status, c.Expected, c.Observed = Fail, want+" attached", "missing (attached: "+orNone(names(progs))+")"
	}
	cs = append(cs, c)
	if want != "" {
		cs = append(cs, d.progMaps(name+".maps", mine))
	}
	cs = append(cs, d.foreign(name+".foreign", progs, chain))
	if want == "" {
		return cs
	}
	cs = append(cs, d.order(name+".order", want, progs, mine, chain))

	dup := Check{Name: name + ".duplicate", Expected: want + " attached at most once", ValuesKey: "-", Evidence: chain}
	if len(mine) > 1 {
		dup.Status, dup.Observed = Fail, fmt.Sprintf("%d attachments: %s", len(mine), attachments(mine))
	} else {
		dup.Status, dup.Observed = Pass, fmt.Sprintf("%d attachment", len(mine))
	}
	cs = append(cs, dup)

	cs = append(cs, d.stale(name+".stale", ds, o, cil, chain))
	return cs
}

// foreign fails on any program that is neither Cilium's, enigate's probe nor declared by the
// environment (Spec.Allowed).
func (d differ) foreign(name string, progs []Program, chain string) Check {
	c := Check{Name: name, Expected: "only Cilium's programs and declared ones (" + orNone(strings.Join(d.s.Allowed, ", ")) + ")", ValuesKey: "-", Evidence: chain}
	var bad, ok []string
	for _, p := range progs {
		switch {
		case isCilium(p) || isProbe(p):
		case d.allowed(p):
			ok = append(ok, progRef(p)+" (declared)")
		default:
			bad = append(bad, progRef(p))
		}
	}
	if len(bad) > 0 {
		c.Status, c.Observed = Fail, "undeclared "+strings.Join(bad, ", ")
		return c
	}
	c.Status, c.Observed = Pass, orNone(strings.Join(ok, ", "))
	return c
}

// order checks Cilium's program holds the place Cilium's loader gives it: with tcx the tail of the
// chain (loader/tcx.go attaches with link.Tail(); its verdicts end the chain, so a program after
// it never sees the traffic Cilium passes), with legacy tc the first filter (loader/tc.go, priority
// option.Config.TCFilterPriority, default 1): nothing may run between the tcx chain and it.
func (d differ) order(name, want string, progs, mine []Program, chain string) Check {
	c := Check{Name: name, ValuesKey: "-", Evidence: chain}
	if len(mine) == 0 {
		c.Status, c.Expected, c.Observed = Skip, want+" in Cilium's place", want+" not attached"
		return c
	}
	first := mine[0]
	pos := slices.IndexFunc(progs, func(p Program) bool { return p.ID == first.ID && p.Attach == first.Attach })
	if d.mech == "tcx" {
		c.Expected = want + " last in the tcx chain (Cilium attaches at the tail)"
		var after []string
		for _, p := range progs[pos+1:] {
			if p.Attach == "tcx" && !isProbe(p) {
				after = append(after, progRef(p))
			}
		}
		if len(after) > 0 {
			c.Status, c.Observed = Fail, "followed by "+strings.Join(after, ", ")+" (never reached for traffic Cilium passes)"
			return c
		}
	} else {
		c.Expected = want + " the first legacy tc filter (Cilium's priority)"
		var before []string
		for _, p := range progs[:pos] {
			if p.Attach == "tc" {
				before = append(before, fmt.Sprintf("%s prio %d", progRef(p), p.Prio))
			}
		}
		if len(before) > 0 {
			c.Status, c.Observed = Fail, "after "+strings.Join(before, ", ")
			return c
		}
	}
	c.Status, c.Observed = Pass, fmt.Sprintf("%s at position %d of %d", progRef(first), pos+1, len(progs))
	return c
}

// stale fails on Cilium attachments Cilium does not own: a program attached with the mechanism
// Cilium does not use on this node (with tcx it removes its legacy tc filters, without it detaches
// its tcx links: loader/tc.go attachSKBProgram), or a tcx link that is not pinned in Cilium's links
// directory (Cilium pins every link it creates, loader/tcx.go; an unpinned one was left by an
// agent that lost its pins, cilium/cilium#44194).
func (d differ) stale(name string, ds DeviceSpec, o DeviceObservation, cil []Program, chain string) Check {
	c := Check{Name: name, Expected: "Cilium's programs attached with " + d.mech + " only", ValuesKey: "bpf.enableTCX", Evidence: chain}
	owned := map[uint32]bool{}
	for _, l := range o.PinnedLinks {
		if l.LinkID != 0 {
			owned[l.LinkID] = true
		}
	}
	checkPins := ds.LinksDir != "" && d.mech == "tcx"
	if checkPins {
		c.Expected += ", every tcx link pinned under " + ds.LinksDir
	}
	var bad []string
	for _, p := range cil {
		switch {
		case p.Attach != d.mech:
			bad = append(bad, fmt.Sprintf("%s via %s", progRef(p), p.Attach))
		case checkPins && p.LinkID != 0 && !owned[p.LinkID]:
			bad = append(bad, fmt.Sprintf("%s link id=%d not pinned by Cilium", progRef(p), p.LinkID))
		}
	}
	if len(bad) > 0 {
		c.Status, c.Observed = Fail, strings.Join(bad, "; ")
		return c
	}
	c.Status, c.Observed = Pass, "none stale"
	return c
}

// progMaps compares the maps Cilium's program uses with the pinned maps by identity (map ID): a
// used map that is not pinned but has a pinned map's kernel name and layout is a stale copy (the
// pin was replaced, or the program is stale: cilium/cilium#45196); a program that uses none of
// the pinned maps is not Cilium's (a look-alike, or one loaded against other pins). Names alone
// cannot decide it: the kernel keeps 15 characters, so cilium_snat_v4_alloc_retries and
// cilium_snat_v4_external both read cilium_snat_v4_.
func (d differ) progMaps(name string, mine []Program) Check {
	c := Check{Name: name, Expected: "uses Cilium's pinned maps (by map ID), no stale copy", ValuesKey: "-"}
	if len(mine) == 0 {
		c.Status, c.Observed = Skip, "program not attached"
		return c
	}
	if d.o.PinsErr != "" {
		c.Status, c.Observed = Fail, "pinned maps unreadable: "+d.o.PinsErr
		return c
	}
	var fails, ev, shared []string
	for _, p := range mine {
		if p.Err != "" {
			fails = append(fails, progRef(p)+" unreadable: "+p.Err)
			continue
		}
		ev = append(ev, fmt.Sprintf("prog id=%d map ids %v", p.ID, mapIDs(p.Maps)))
		var uses, stale []string
		for _, m := range p.Maps {
			if pin, ok := d.pins[m.ID]; ok {
				uses = append(uses, fmt.Sprintf("%s#%d", baseName(pin.PinPath), m.ID))
				continue
			}
			var like []string
			for _, pin := range d.o.Pins {
				if KernelName(baseName(pin.PinPath)) == m.Name && pin.Type == m.Type && pin.KeySize == m.KeySize && pin.ValueSize == m.ValueSize {
					like = append(like, fmt.Sprintf("%s#%d", baseName(pin.PinPath), pin.ID))
				}
			}
			if len(like) > 0 {
				stale = append(stale, fmt.Sprintf("%s#%d (pinned: %s)", m.Name, m.ID, strings.Join(like, ", ")))
			}
		}
		switch {
		case len(stale) > 0:
			fails = append(fails, progRef(p)+" uses unpinned copies: "+strings.Join(stale, ", "))
		case len(uses) == 0:
			fails = append(fails, progRef(p)+" uses none of Cilium's pinned maps")
		default:
			shared = append(shared, progRef(p)+" uses "+strings.Join(limit(uses, 8), ", "))
		}
	}
	c.Evidence = strings.Join(ev, "; ")
	if len(fails) > 0 {
		c.Status, c.Observed = Fail, strings.Join(fails, "; ")
		return c
	}
	c.Status, c.Observed = Pass, strings.Join(shared, "; ")
	return c
}

// xdp gives the XDP checks of a native device: prog.<dev>.xdp (presence), .maps, .mode (driver
// mode where loadBalancer.acceleration asks for it) and .foreign.
func (d differ) xdp(ds DeviceSpec, o DeviceObservation) []Check {
	name := "prog." + ds.Name + ".xdp"
	var progs []Program
	if o.XDP != nil {
		progs = []Program{*o.XDP}
	}
	chain := describe(o, "xdp", progs)
	key := "loadBalancer.acceleration"
	var mine []Program
	for _, p := range progs {
		if ds.XDP != "" && p.Name == KernelName(ds.XDP) {
			mine = append(mine, p)
		}
	}
	c := Check{Name: name, ValuesKey: key, Evidence: chain}
	cil := slices.DeleteFunc(slices.Clone(progs), func(p Program) bool { return !isCilium(p) })
	switch {
	case ds.XDP == "" && len(cil) == 0:
		c.Status, c.Expected, c.Observed = Pass, "no Cilium program", "none"
	case ds.XDP == "":
		c.Status, c.Expected, c.Observed = Fail, "no Cilium program", "unexpected "+names(cil)
	case len(mine) > 0:
		c.Status, c.Expected, c.Observed = Pass, ds.XDP+" attached", names(mine)
	default:
		c.Status, c.Expected, c.Observed = Fail, ds.XDP+" attached", "missing (attached: "+orNone(names(progs))+")"
		if ds.XDPBestEffort {
			c.Status = Warn
		}
	}
	cs := []Check{c}
	if ds.XDP != "" {
		cs = append(cs, d.progMaps(name+".maps", mine))
		m := Check{Name: name + ".mode", Expected: "native (driver) XDP", ValuesKey: key, Evidence: chain}
		switch {
		case len(mine) == 0:
			m.Status, m.Observed = Skip, ds.XDP+" not attached"
		case mine[0].Mode == "driver" || mine[0].Mode == "offload":
			m.Status, m.Observed = Pass, mine[0].Mode
		default:
			// Generic XDP runs after the skb is built: none of acceleration's gain (cilium/cilium#12138).
			m.Status, m.Observed = Fail, orNone(mine[0].Mode)+" mode"
		}
		cs = append(cs, m)
	}
	cs = append(cs, d.foreign(name+".foreign", progs, chain))
	return cs
}

// socketLB checks each socket-LB program at Cilium's cgroup root: socketlb.<program>.
func (d differ) socketLB(sl SocketLBSpec, o *CgroupObservation) []Check {
	var cs []Check
	mounted := Check{Name: "cgroup.mounted", Expected: fmt.Sprintf("cgroup2 (magic %#x) at %s", CgroupV2Magic, sl.CgroupRoot), ValuesKey: "cgroup.hostRoot"}
	ok := false
	switch {
	case o == nil:
		mounted.Status, mounted.Observed = Fail, "not observed"
	case o.FS.Err != "":
		mounted.Status, mounted.Observed = Fail, "statfs "+o.FS.Path+": "+o.FS.Err
	case o.FS.Magic != CgroupV2Magic:
		mounted.Status, mounted.Observed = Fail, fmt.Sprintf("filesystem magic %#x at %s", o.FS.Magic, o.FS.Path)
	default:
		mounted.Status, mounted.Observed, ok = Pass, "cgroup2 at "+o.FS.Path, true
	}
	cs = append(cs, mounted)
	v6 := d.o.HostIPv6
	for _, p := range sl.Programs {
		c := Check{Name: "socketlb." + p.Name, Expected: p.Name + " attached at " + sl.CgroupRoot + " (" + p.Attach + ")", ValuesKey: "kubeProxyReplacement"}
		need := p.Required && (!p.IPv6 || v6)
		if !need {
			c.Expected = p.Name + " optional here"
		}
		if !ok {
			c.Status, c.Observed = Skip, "cgroup root not readable"
			cs = append(cs, c)
			continue
		}
		if o.Err != "" {
			c.Status, c.Observed = Fail, "cgroup programs unreadable: "+o.Err
			cs = append(cs, c)
			continue
		}
		progs := o.Hooks[p.Attach]
		var ev []string
		found := false
		for _, q := range progs {
			ev = append(ev, fmt.Sprintf("cgroup %s %s", p.Attach, progRef(q)))
			if q.Name == KernelName(p.Name) {
				found = true
			}
		}
		if l, okPin := o.PinnedLinks[p.Name]; okPin {
			ev = append(ev, fmt.Sprintf("pinned %s link id=%d prog id=%d", l.Path, l.LinkID, l.ProgramID))
		}
		c.Evidence = strings.Join(ev, "; ")
		switch {
		case found:
			c.Status, c.Observed = Pass, "attached"
		case need:
			c.Status, c.Observed = Fail, "missing (attached: "+orNone(names(progs))+")"
		default:
			c.Status, c.Observed = Pass, "not attached (optional)"
		}
		cs = append(cs, c)
	}
	return cs
}

func diffProbe(p ProbeResult) Check {
	c := Check{Name: "probe." + p.Device, Expected: "packets reach Cilium's ingress program within " + p.Window, ValuesKey: "-"}
	c.Evidence = fmt.Sprintf("%d packets at the tcx ingress head (unpinned probe, detached after %s); %s ran %d times (kernel BPF run count)", p.Arrived, p.Window, orNone(p.Program), p.Reached)
	if p.NoCounter {
		c.Evidence = fmt.Sprintf("no tcx: arrivals not counted; %s ran %d times in %s (kernel BPF run count)", orNone(p.Program), p.Reached, p.Window)
	}
	switch {
	case p.Err != "":
		c.Status, c.Observed = Fail, "probe: "+p.Err
	case p.Reached > 0:
		c.Status, c.Observed = Pass, fmt.Sprintf("%d packets reached %s", p.Reached, p.Program)
	case p.NoCounter:
		c.Status, c.Observed = Fail, "no packet reached "+p.Program
	case p.Arrived > 0:
		c.Status, c.Observed = Fail, fmt.Sprintf("%d packets arrived, none reached %s (dropped or diverted ahead of it)", p.Arrived, p.Program)
	default:
		c.Status, c.Observed = Fail, "0 packets arrived"
	}
	return c
}

func names(ps []Program) string {
	var s []string
	for _, p := range ps {
		s = append(s, progRef(p))
	}
	return strings.Join(s, ", ")
}

func progRef(p Program) string { return fmt.Sprintf("%s#%d", orNone(p.Name), p.ID) }

func attachments(ps []Program) string {
	var s []string
	for _, p := range ps {
		s = append(s, progRef(p)+" via "+p.Attach)
	}
	return strings.Join(s, ", ")
}

// describe lists every program on a hook, in the order the kernel runs them.
func describe(o DeviceObservation, dir string, ps []Program) string {
	var s []string
	for i, p := range ps {
		a := p.Attach
		if a == "" {
			a = dir
		}
		e := fmt.Sprintf("%d. %s %s ifindex=%d prog id=%d %s", i+1, a, dir, o.Ifindex, p.ID, orNone(p.Name))
		if p.Tag != "" {
			e += " tag=" + p.Tag
		}
		if p.Attach == "tc" {
			e += fmt.Sprintf(" prio=%d filter=%s", p.Prio, orNone(p.Filter))
		}
		if p.Mode != "" {
			e += " mode=" + p.Mode
		}
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
		return fmt.Sprintf("%s %s ifindex=%d: no programs", orNone(o.Attach), dir, o.Ifindex)
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

func baseName(p string) string { return p[strings.LastIndex(p, "/")+1:] }

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

// allowedPattern is a declared program: a kernel program name (at most 15 characters) or a
// program tag (16 hex digits).
var allowedPattern = regexp.MustCompile(`^([A-Za-z0-9_.]{1,15}|[0-9a-f]{16})$`)

// ValidAllowed reports whether s can name a declared program.
func ValidAllowed(s string) bool { return allowedPattern.MatchString(s) }
