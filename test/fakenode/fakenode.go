// Package fakenode builds a fake "Cilium node" for tests: a bpffs mounted in a temporary
// directory, maps pinned under Cilium's names, types, layouts, flags and sizes, programs named
// like Cilium's (tiny programs of ours) attached with tcx/XDP links pinned where Cilium pins them
// (or, with Config.TC, as legacy tc filters the way Cilium does without tcx), a native veth
// device whose peer sits in its own network namespace, cilium_host/cilium_net, one endpoint
// (lxc) device, and the socket-LB cgroup programs on a cgroup of their own. Config adds the
// drifts tests look for: foreign programs, duplicates, stale attachments, generic XDP, other map
// layouts and flags.
//
// Build changes the network namespace of the calling process: call it only from a process that
// runs in a network namespace of its own (see Reexec).
package fakenode

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Addresses on the native veth pair (TEST-NET-1, only inside the test's namespaces).
const (
	NodeAddr = "192.0.2.1"
	PeerAddr = "192.0.2.2"
)

// Endpoint is the fake node's endpoint device and its Cilium endpoint ID.
const (
	Endpoint   = "lxc1234abcd"
	EndpointID = 1234
)

// Config describes the fake node. Zero sizes take Cilium's defaults.
type Config struct {
	Native          string // native device name, default "enp0s5"
	LBMapMax        uint32
	CTTCPMax        uint32
	CTAnyMax        uint32
	NATMax          uint32
	NeighMax        uint32
	PolicyMapMax    uint32
	MaglevTableSize uint32
	NoEgress        bool     // leave cil_to_netdev off the native device
	XDP             bool     // attach cil_xdp_entry to the native device
	XDPGeneric      bool     // ... in generic (skb) mode instead of driver mode
	SkipMaps        []string // maps not to create
	// ReplaceMap is re-created and re-pinned after the programs were loaded, so the programs keep
	// using the old (now unpinned) map.
	ReplaceMap string
	// TC attaches the ingress/egress programs as legacy tc filters (clsact qdisc, direct-action
	// bpf filter, prio 1 handle 1, named "<prog>-<device>") like Cilium on kernels without tcx,
	// instead of tcx links. XDP still uses a link.
	TC bool
	// Preallocate creates hash maps without BPF_F_NO_PREALLOC (bpf.preallocateMaps: true).
	Preallocate bool
	// DistributedLRU creates LRU maps with BPF_F_NO_COMMON_LRU and sizes rounded up to a multiple
	// of the possible CPUs, as Cilium does (bpf.distributedLRU.enabled).
	DistributedLRU bool
	// CiliumMinor is the Cilium release line whose maps the node carries ("" or "1.18"/"1.19"
	// for the 1.19 layout; "1.20" also creates cilium_lxc BPF_F_RDONLY_PROG, as 1.20.0's
	// pkg/maps/lxcmap does).
	CiliumMinor string
	// MapFlags and MapLayout override one map's flags or key/value sizes.
	MapFlags  map[string]uint32
	MapLayout map[string][2]uint32
	// Skip leaves Cilium's programs off: "dev/hook" with dev "native", "cilium_host", "cilium_net",
	// "endpoint" or "socketlb" (hook: the program name).
	Skip []string
	// Extra attaches more programs (drift).
	Extra []Extra
}

// Extra is one more program attached to the fake node.
type Extra struct {
	Name string // program name; cil_* names load a program using Cilium's maps (unless NoMaps)
	Dev  string // "native" or a device name
	Hook string // ingress | egress
	// Attach is "tcx" (default) or "tc" (legacy filter, priority Prio).
	Attach string
	Prio   uint16
	Head   bool // tcx: attach at the head of the chain (default: the tail)
	Drop   bool // return TC_ACT_SHOT / TCX_DROP instead of passing
	Next   bool // return TCX_NEXT: hand every packet on to the next program
	Pin    bool // pin the tcx link under Cilium's links directory, as Cilium does
	NoMaps bool // use no map at all (a look-alike)
}

// Defaults are Cilium's static default sizes (pkg/option/config.go, chart values).
func Defaults() Config {
	return Config{
		LBMapMax: 65536, CTTCPMax: 524288, CTAnyMax: 262144, NATMax: 524288, NeighMax: 524288,
		PolicyMapMax: 16384, MaglevTableSize: 16381,
	}
}

// Node is a built fake node.
type Node struct {
	BPFFS      string
	CgroupRoot string
	Native     string
	PeerNS     string
	maps       map[string]*ebpf.Map
	tc         bool
	clsact     map[string]bool // devices given a clsact qdisc
}

type mapDef struct {
	name     string
	typ      ebpf.MapType
	key, val uint32
	size     func(Config) uint32
}

func fixedSize(n uint32) func(Config) uint32 { return func(Config) uint32 { return n } }

// Layouts as in cilium/cilium 1.19 (see bpf/datapath/spec.go for the provenance).
var maps = []mapDef{
	{"cilium_lb4_services_v2", ebpf.Hash, 12, 12, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_backends_v3", ebpf.Hash, 4, 12, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_reverse_nat", ebpf.Hash, 2, 6, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_maglev", ebpf.HashOfMaps, 2, 4, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_ct4_global", ebpf.LRUHash, 14, 56, func(c Config) uint32 { return c.CTTCPMax }},
	{"cilium_ct_any4_global", ebpf.LRUHash, 14, 56, func(c Config) uint32 { return c.CTAnyMax }},
	{"cilium_snat_v4_external", ebpf.LRUHash, 14, 40, func(c Config) uint32 { return c.NATMax }},
	{"cilium_nodeport_neigh4", ebpf.LRUHash, 4, 8, func(c Config) uint32 { return c.NeighMax }},
	{"cilium_ipcache_v2", ebpf.LPMTrie, 24, 24, fixedSize(512000)},
	{"cilium_lxc", ebpf.Hash, 20, 48, fixedSize(65535)},
	{"cilium_metrics", ebpf.PerCPUHash, 8, 16, fixedSize(1024)},
	{"cilium_policy_v2_00001", ebpf.LPMTrie, 12, 12, func(c Config) uint32 { return c.PolicyMapMax }},
	{"cilium_policy_v2_01234", ebpf.LPMTrie, 12, 12, func(c Config) uint32 { return c.PolicyMapMax }},
	// Maps whose first 15 characters are those of checked maps (cilium_snat_v4_, cilium_lb4_reve).
	{"cilium_snat_v4_alloc_retries", ebpf.PerCPUArray, 4, 8, fixedSize(1)},
	{"cilium_lb4_reverse_sk", ebpf.LRUHash, 16, 8, fixedSize(262144)},
}

// programs: name, device, hook, maps it references.
var programs = []struct {
	name, dev, hook string
	maps            []string
}{
	{"cil_from_netdev", "native", "ingress", []string{"cilium_lb4_services_v2", "cilium_lb4_backends_v3", "cilium_lb4_reverse_nat", "cilium_lb4_maglev", "cilium_ct4_global", "cilium_ct_any4_global", "cilium_nodeport_neigh4", "cilium_ipcache_v2", "cilium_metrics", "cilium_lb4_reverse_sk"}},
	{"cil_to_netdev", "native", "egress", []string{"cilium_ct4_global", "cilium_snat_v4_external", "cilium_snat_v4_alloc_retries", "cilium_metrics"}},
	{"cil_xdp_entry", "native", "xdp", []string{"cilium_ct_any4_global", "cilium_metrics"}},
	{"cil_to_host", "cilium_host", "ingress", []string{"cilium_policy_v2_00001", "cilium_ipcache_v2"}},
	{"cil_from_host", "cilium_host", "egress", []string{"cilium_policy_v2_00001", "cilium_ipcache_v2"}},
	{"cil_to_host", "cilium_net", "ingress", []string{"cilium_policy_v2_00001", "cilium_metrics"}},
	{"cil_from_container", "endpoint", "ingress", []string{"cilium_policy_v2_01234", "cilium_lxc", "cilium_ipcache_v2"}},
}

// sockPrograms are Cilium's socket-LB programs (pkg/socketlb), their attach types and program
// types; pre_bind only comes with the health datapath and is left out.
var sockPrograms = []struct {
	name   string
	attach ebpf.AttachType
	typ    ebpf.ProgramType
}{
	{"cil_sock4_connect", ebpf.AttachCGroupInet4Connect, ebpf.CGroupSockAddr},
	{"cil_sock4_sendmsg", ebpf.AttachCGroupUDP4Sendmsg, ebpf.CGroupSockAddr},
	{"cil_sock4_recvmsg", ebpf.AttachCGroupUDP4Recvmsg, ebpf.CGroupSockAddr},
	{"cil_sock4_getpeername", ebpf.AttachCgroupInet4GetPeername, ebpf.CGroupSockAddr},
	{"cil_sock4_post_bind", ebpf.AttachCGroupInet4PostBind, ebpf.CGroupSock},
	{"cil_sock6_connect", ebpf.AttachCGroupInet6Connect, ebpf.CGroupSockAddr},
	{"cil_sock6_sendmsg", ebpf.AttachCGroupUDP6Sendmsg, ebpf.CGroupSockAddr},
	{"cil_sock6_recvmsg", ebpf.AttachCGroupUDP6Recvmsg, ebpf.CGroupSockAddr},
	{"cil_sock6_getpeername", ebpf.AttachCgroupInet6GetPeername, ebpf.CGroupSockAddr},
	{"cil_sock6_post_bind", ebpf.AttachCGroupInet6PostBind, ebpf.CGroupSock},
	{"cil_sock_release", ebpf.AttachCgroupInetSockRelease, ebpf.CGroupSock},
}

// Build creates the fake node and registers its teardown with t.Cleanup.
func Build(t testing.TB, cfg Config) *Node {
	t.Helper()
	def := Defaults()
	fill := func(p *uint32, d uint32) {
		if *p == 0 {
			*p = d
		}
	}
	fill(&cfg.LBMapMax, def.LBMapMax)
	fill(&cfg.CTTCPMax, def.CTTCPMax)
	fill(&cfg.CTAnyMax, def.CTAnyMax)
	fill(&cfg.NATMax, def.NATMax)
	fill(&cfg.NeighMax, def.NeighMax)
	fill(&cfg.PolicyMapMax, def.PolicyMapMax)
	fill(&cfg.MaglevTableSize, def.MaglevTableSize)
	if cfg.Native == "" {
		cfg.Native = "enp0s5"
	}

	n := &Node{BPFFS: t.TempDir(), Native: cfg.Native, maps: map[string]*ebpf.Map{}, tc: cfg.TC, clsact: map[string]bool{}}
	if err := unix.Mount("bpf", n.BPFFS, "bpf", 0, ""); err != nil {
		t.Fatalf("mount bpffs at %s: %v", n.BPFFS, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(n.BPFFS, unix.MNT_DETACH) })

	n.PeerNS = fmt.Sprintf("enigate-peer-%d", os.Getpid())
	run(t, "ip", "netns", "add", n.PeerNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.PeerNS).Run() })
	run(t, "ip", "link", "add", n.Native, "type", "veth", "peer", "name", "peer0", "netns", n.PeerNS)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", n.Native).Run() })
	run(t, "ip", "addr", "add", NodeAddr+"/24", "dev", n.Native)
	run(t, "ip", "link", "set", n.Native, "up")
	run(t, "ip", "-n", n.PeerNS, "addr", "add", PeerAddr+"/24", "dev", "peer0")
	run(t, "ip", "-n", n.PeerNS, "link", "set", "peer0", "up")
	run(t, "ip", "-n", n.PeerNS, "link", "set", "lo", "up")
	run(t, "ip", "link", "add", "cilium_host", "type", "veth", "peer", "name", "cilium_net")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", "cilium_host").Run() })
	run(t, "ip", "link", "set", "cilium_host", "up")
	run(t, "ip", "link", "set", "cilium_net", "up")
	run(t, "ip", "link", "add", Endpoint, "type", "veth", "peer", "name", "ep0")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", Endpoint).Run() })
	run(t, "ip", "link", "set", Endpoint, "up")

	globals := filepath.Join(n.BPFFS, "tc", "globals")
	if err := os.MkdirAll(globals, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range maps {
		if slices.Contains(cfg.SkipMaps, d.name) {
			continue
		}
		n.maps[d.name] = n.newMap(t, cfg, d, globals)
	}

	for _, p := range programs {
		if slices.Contains(cfg.Skip, p.dev+"/"+p.hook) {
			continue
		}
		if p.name == "cil_to_netdev" && cfg.NoEgress || p.name == "cil_xdp_entry" && !cfg.XDP {
			continue
		}
		dev, linksDir := n.device(p.dev)
		prog := n.program(t, p.name, p.hook, p.maps, 0)
		n.attach(t, prog, p.name, dev, p.hook, attachOpts{tc: n.tc, pinDir: linksDir, prio: 1, generic: cfg.XDPGeneric})
	}
	for _, x := range cfg.Extra {
		var ms []string
		if !x.NoMaps {
			for _, p := range programs {
				if p.name == x.Name {
					ms = p.maps
				}
			}
		}
		dev, linksDir := n.device(x.Dev)
		verdict := int32(0) // TC_ACT_OK / TCX_PASS
		switch {
		case x.Drop:
			verdict = 2 // TC_ACT_SHOT / TCX_DROP
		case x.Next:
			verdict = -1 // TCX_NEXT
		}
		prog := n.program(t, x.Name, x.Hook, ms, verdict)
		o := attachOpts{tc: x.Attach == "tc", prio: x.Prio, head: x.Head}
		if x.Pin {
			o.pinDir = linksDir
		}
		n.attach(t, prog, x.Name, dev, x.Hook, o)
	}
	n.socketLB(t, cfg)

	if cfg.ReplaceMap != "" {
		for _, d := range maps {
			if d.name == cfg.ReplaceMap {
				old := n.maps[d.name]
				if err := old.Unpin(); err != nil {
					t.Fatalf("unpin %s: %v", d.name, err)
				}
				n.maps[d.name] = n.newMap(t, cfg, d, globals)
			}
		}
	}
	return n
}

// device resolves a program's device and Cilium's links directory for it.
func (n *Node) device(dev string) (string, string) {
	switch dev {
	case "native":
		dev = n.Native
	case "endpoint":
		return Endpoint, filepath.Join(n.BPFFS, "cilium", "endpoints", fmt.Sprint(EndpointID), "links")
	}
	return dev, filepath.Join(n.BPFFS, "cilium", "devices", dev, "links")
}

func (n *Node) newMap(t testing.TB, cfg Config, d mapDef, globals string) *ebpf.Map {
	t.Helper()
	spec := &ebpf.MapSpec{Name: d.name, Type: d.typ, KeySize: d.key, ValueSize: d.val, MaxEntries: d.size(cfg)}
	// Flags as Cilium's pkg/bpf GetMapMemoryFlags gives them.
	switch d.typ {
	case ebpf.LPMTrie:
		// ipcache and the policy maps are also read-only for programs (pkg/maps/ipcache,
		// pkg/maps/policymap).
		spec.Flags = unix.BPF_F_NO_PREALLOC | unix.BPF_F_RDONLY_PROG
	case ebpf.Hash, ebpf.PerCPUHash, ebpf.HashOfMaps:
		if !cfg.Preallocate {
			spec.Flags = unix.BPF_F_NO_PREALLOC
		}
	case ebpf.LRUHash:
		if cfg.DistributedLRU {
			spec.Flags = unix.BPF_F_NO_COMMON_LRU
			cpus, err := ebpf.PossibleCPU()
			if err != nil {
				t.Fatal(err)
			}
			spec.MaxEntries = (spec.MaxEntries + uint32(cpus) - 1) / uint32(cpus) * uint32(cpus)
		}
	}
	if d.typ == ebpf.HashOfMaps {
		spec.InnerMap = &ebpf.MapSpec{Name: "cilium_maglev_inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4 * cfg.MaglevTableSize, MaxEntries: 1}
	}
	if cfg.CiliumMinor == "1.20" && d.name == "cilium_lxc" {
		spec.Flags |= unix.BPF_F_RDONLY_PROG
	}
	if f, ok := cfg.MapFlags[d.name]; ok {
		spec.Flags = f
	}
	if l, ok := cfg.MapLayout[d.name]; ok {
		spec.KeySize, spec.ValueSize = l[0], l[1]
	}
	m, err := ebpf.NewMap(spec)
	if err != nil {
		t.Fatalf("create map %s: %v", d.name, err)
	}
	t.Cleanup(func() { m.Close() })
	if err := m.Pin(filepath.Join(globals, d.name)); err != nil {
		t.Fatalf("pin map %s: %v", d.name, err)
	}
	if d.typ == ebpf.HashOfMaps {
		// One programmed Maglev service: rev NAT id 1 -> a table of tableSize backend IDs.
		inner, err := ebpf.NewMap(spec.InnerMap)
		if err != nil {
			t.Fatalf("create maglev inner map: %v", err)
		}
		defer inner.Close()
		if err := m.Put(uint16(1), inner); err != nil {
			t.Fatalf("insert maglev inner map: %v", err)
		}
	}
	return m
}

// program loads a tiny program named name that references mapNames and returns verdict for every
// packet (XDP programs pass).
func (n *Node) program(t testing.TB, name, hook string, mapNames []string, verdict int32) *ebpf.Program {
	t.Helper()
	var insns asm.Instructions
	for _, mn := range mapNames {
		if m, ok := n.maps[mn]; ok {
			insns = append(insns, asm.LoadMapPtr(asm.R1, m.FD()))
		}
	}
	typ, ret := ebpf.SchedCLS, verdict
	if hook == "xdp" {
		typ, ret = ebpf.XDP, 2 // XDP_PASS
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, ret), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: typ, Instructions: insns, License: "Dual MIT/GPL"})
	if err != nil {
		t.Fatalf("load program %s: %v", name, err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

type attachOpts struct {
	tc      bool
	prio    uint16
	head    bool
	pinDir  string // pin the link at pinDir/<name>; "" leaves it unpinned
	generic bool   // XDP in generic mode
}

func (n *Node) attach(t testing.TB, prog *ebpf.Program, name, dev, hook string, o attachOpts) {
	t.Helper()
	ifindex := Ifindex(t, dev)
	if o.tc && hook != "xdp" {
		n.attachTC(t, prog, name, dev, ifindex, hook, o.prio)
		return
	}
	anchor := link.Tail() // as Cilium (loader/tcx.go)
	if o.head {
		anchor = link.Head()
	}
	var l link.Link
	var err error
	switch hook {
	case "xdp":
		flags := link.XDPDriverMode
		if o.generic {
			flags = link.XDPGenericMode
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
	case "ingress":
		l, err = link.AttachTCX(link.TCXOptions{Program: prog, Interface: ifindex, Attach: ebpf.AttachTCXIngress, Anchor: anchor})
	case "egress":
		l, err = link.AttachTCX(link.TCXOptions{Program: prog, Interface: ifindex, Attach: ebpf.AttachTCXEgress, Anchor: anchor})
	}
	if err != nil {
		t.Fatalf("attach %s to %s %s: %v", name, dev, hook, err)
	}
	t.Cleanup(func() { l.Close() })
	if o.pinDir == "" {
		return
	}
	if err := os.MkdirAll(o.pinDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Pin(filepath.Join(o.pinDir, name)); err != nil {
		t.Fatalf("pin link %s: %v", name, err)
	}
}

// attachTC attaches prog as Cilium does without tcx (pkg/datapath/loader, attachTCProgram): a
// direct-action bpf filter on the device's clsact qdisc. Nothing is pinned: legacy filters have
// no link. The filter goes away with the device.
func (n *Node) attachTC(t testing.TB, prog *ebpf.Program, name, dev string, ifindex int, hook string, prio uint16) {
	t.Helper()
	if !n.clsact[dev] {
		q := &netlink.GenericQdisc{
			QdiscAttrs: netlink.QdiscAttrs{LinkIndex: ifindex, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
			QdiscType:  "clsact",
		}
		if err := netlink.QdiscAdd(q); err != nil {
			t.Fatalf("add clsact qdisc to %s: %v", dev, err)
		}
		n.clsact[dev] = true
	}
	parent := uint32(netlink.HANDLE_MIN_INGRESS)
	if hook == "egress" {
		parent = netlink.HANDLE_MIN_EGRESS
	}
	if prio == 0 {
		prio = 1
	}
	f := &netlink.BpfFilter{
		FilterAttrs:  netlink.FilterAttrs{LinkIndex: ifindex, Parent: parent, Handle: 1, Priority: prio, Protocol: unix.ETH_P_ALL},
		Fd:           prog.FD(),
		Name:         name + "-" + dev,
		DirectAction: true,
	}
	if err := netlink.FilterAdd(f); err != nil {
		t.Fatalf("add tc %s filter %s to %s: %v", hook, name, dev, err)
	}
}

// socketLB mounts a cgroup2 hierarchy in a temporary directory, makes a cgroup of its own in it
// (no process ever joins it, so nothing on the machine is load-balanced by the fake programs)
// and attaches the socket-LB programs there with pinned bpf_links, as Cilium does at its cgroup
// root (pkg/socketlb/cgroup.go).
func (n *Node) socketLB(t testing.TB, cfg Config) {
	t.Helper()
	mnt := t.TempDir()
	if err := unix.Mount("none", mnt, "cgroup2", 0, ""); err != nil {
		t.Fatalf("mount cgroup2 at %s: %v", mnt, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mnt, unix.MNT_DETACH) })
	n.CgroupRoot = filepath.Join(mnt, fmt.Sprintf("enigate-fakenode-%d", os.Getpid()))
	if err := os.Mkdir(n.CgroupRoot, 0o755); err != nil {
		t.Fatalf("create cgroup %s: %v", n.CgroupRoot, err)
	}
	t.Cleanup(func() { _ = os.Remove(n.CgroupRoot) })
	pins := filepath.Join(n.BPFFS, "cilium", "socketlb", "links", "cgroup")
	if err := os.MkdirAll(pins, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sp := range sockPrograms {
		if slices.Contains(cfg.Skip, "socketlb/"+sp.name) {
			continue
		}
		var insns asm.Instructions
		if m, ok := n.maps["cilium_lb4_services_v2"]; ok {
			insns = append(insns, asm.LoadMapPtr(asm.R1, m.FD()))
		}
		insns = append(insns, asm.Mov.Imm(asm.R0, 1), asm.Return()) // allow
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: sp.name, Type: sp.typ, AttachType: sp.attach, Instructions: insns, License: "Dual MIT/GPL"})
		if err != nil {
			t.Fatalf("load program %s: %v", sp.name, err)
		}
		t.Cleanup(func() { prog.Close() })
		l, err := link.AttachCgroup(link.CgroupOptions{Path: n.CgroupRoot, Attach: sp.attach, Program: prog})
		if err != nil {
			t.Fatalf("attach %s to %s: %v", sp.name, n.CgroupRoot, err)
		}
		t.Cleanup(func() { l.Close() })
		if err := l.Pin(filepath.Join(pins, sp.name)); err != nil {
			t.Fatalf("pin link %s: %v", sp.name, err)
		}
	}
}

// Ifindex returns a device's index in the current network namespace.
func Ifindex(t testing.TB, dev string) int {
	t.Helper()
	iface, err := net.InterfaceByName(dev)
	if err != nil {
		t.Fatalf("ifindex of %s: %v", dev, err)
	}
	return iface.Index
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
