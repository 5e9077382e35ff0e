// Package fakenode builds a fake "Cilium node" for tests: a bpffs mounted in a temporary
// directory, maps pinned under Cilium's names, types and sizes, programs named like Cilium's
// (tiny programs of ours) attached with tcx/XDP links pinned where Cilium pins them (or, with
// Config.TC, as legacy tc filters the way Cilium does without tcx), a native
// veth device whose peer sits in its own network namespace, and cilium_host/cilium_net.
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
	SkipMaps        []string // maps not to create
	// ReplaceMap is re-created and re-pinned after the programs were loaded, so the programs keep
	// using the old (now unpinned) map.
	ReplaceMap string
	// TC attaches the ingress/egress programs as legacy tc filters (clsact qdisc, direct-action
	// bpf filter, prio 1 handle 1, named "<prog>-<device>") like Cilium on kernels without tcx,
	// instead of tcx links. XDP still uses a link.
	TC bool
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
	BPFFS  string
	Native string
	PeerNS string
	maps   map[string]*ebpf.Map
	tc     bool
	clsact map[string]bool // devices given a clsact qdisc
}

type mapDef struct {
	name     string
	typ      ebpf.MapType
	key, val uint32
	size     func(Config) uint32
}

var maps = []mapDef{
	{"cilium_lb4_services_v2", ebpf.Hash, 12, 12, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_backends_v3", ebpf.Hash, 4, 12, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_reverse_nat", ebpf.Hash, 2, 8, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_lb4_maglev", ebpf.HashOfMaps, 2, 4, func(c Config) uint32 { return c.LBMapMax }},
	{"cilium_ct4_global", ebpf.LRUHash, 14, 56, func(c Config) uint32 { return c.CTTCPMax }},
	{"cilium_ct_any4_global", ebpf.LRUHash, 14, 56, func(c Config) uint32 { return c.CTAnyMax }},
	{"cilium_snat_v4_external", ebpf.LRUHash, 14, 16, func(c Config) uint32 { return c.NATMax }},
	{"cilium_nodeport_neigh4", ebpf.LRUHash, 4, 8, func(c Config) uint32 { return c.NeighMax }},
	{"cilium_policy_v2_00001", ebpf.LPMTrie, 12, 12, func(c Config) uint32 { return c.PolicyMapMax }},
	{"cilium_policy_v2_01234", ebpf.LPMTrie, 12, 12, func(c Config) uint32 { return c.PolicyMapMax }},
}

// programs: name, device, hook, maps it references.
var programs = []struct {
	name, dev, hook string
	maps            []string
}{
	{"cil_from_netdev", "native", "ingress", []string{"cilium_lb4_services_v2", "cilium_lb4_backends_v3", "cilium_lb4_reverse_nat", "cilium_lb4_maglev", "cilium_ct4_global", "cilium_ct_any4_global", "cilium_nodeport_neigh4"}},
	{"cil_to_netdev", "native", "egress", []string{"cilium_ct4_global", "cilium_snat_v4_external"}},
	{"cil_xdp_entry", "native", "xdp", []string{"cilium_ct_any4_global"}},
	{"cil_to_host", "cilium_host", "ingress", []string{"cilium_policy_v2_00001"}},
	{"cil_from_host", "cilium_host", "egress", []string{"cilium_policy_v2_00001"}},
	{"cil_to_host", "cilium_net", "ingress", []string{"cilium_policy_v2_00001"}},
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

	globals := filepath.Join(n.BPFFS, "tc", "globals")
	if err := os.MkdirAll(globals, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range maps {
		if contains(cfg.SkipMaps, d.name) {
			continue
		}
		n.maps[d.name] = n.newMap(t, cfg, d, globals)
	}

	for _, p := range programs {
		dev := p.dev
		if dev == "native" {
			dev = cfg.Native
		}
		if p.name == "cil_to_netdev" && cfg.NoEgress || p.name == "cil_xdp_entry" && !cfg.XDP {
			continue
		}
		n.attach(t, p.name, dev, p.hook, p.maps)
	}

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

func (n *Node) newMap(t testing.TB, cfg Config, d mapDef, globals string) *ebpf.Map {
	t.Helper()
	spec := &ebpf.MapSpec{Name: d.name, Type: d.typ, KeySize: d.key, ValueSize: d.val, MaxEntries: d.size(cfg)}
	switch d.typ {
	case ebpf.Hash, ebpf.LPMTrie:
		spec.Flags = unix.BPF_F_NO_PREALLOC
	case ebpf.HashOfMaps:
		spec.InnerMap = &ebpf.MapSpec{Name: "cilium_maglev_inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4 * cfg.MaglevTableSize, MaxEntries: 1}
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

func (n *Node) attach(t testing.TB, name, dev, hook string, mapNames []string) {
	t.Helper()
	var insns asm.Instructions
	for _, mn := range mapNames {
		if m, ok := n.maps[mn]; ok {
			insns = append(insns, asm.LoadMapPtr(asm.R1, m.FD()))
		}
	}
	typ, ret := ebpf.SchedCLS, int64(0) // TC_ACT_OK / TCX_PASS
	if hook == "xdp" {
		typ, ret = ebpf.XDP, 2 // XDP_PASS
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, int32(ret)), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: typ, Instructions: insns, License: "Dual MIT/GPL"})
	if err != nil {
		t.Fatalf("load program %s: %v", name, err)
	}
	t.Cleanup(func() { prog.Close() })
	ifindex := Ifindex(t, dev)
	if n.tc && hook != "xdp" {
		n.attachTC(t, prog, name, dev, ifindex, hook)
		return
	}
	var l link.Link
	switch hook {
	case "xdp":
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex})
	case "ingress":
		l, err = link.AttachTCX(link.TCXOptions{Program: prog, Interface: ifindex, Attach: ebpf.AttachTCXIngress})
	case "egress":
		l, err = link.AttachTCX(link.TCXOptions{Program: prog, Interface: ifindex, Attach: ebpf.AttachTCXEgress})
	}
	if err != nil {
		t.Fatalf("attach %s to %s %s: %v", name, dev, hook, err)
	}
	t.Cleanup(func() { l.Close() })
	dir := filepath.Join(n.BPFFS, "cilium", "devices", dev, "links")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Pin(filepath.Join(dir, name)); err != nil {
		t.Fatalf("pin link %s: %v", name, err)
	}
}

// attachTC attaches prog as Cilium does without tcx (pkg/datapath/loader, attachTCProgram): a
// direct-action bpf filter on the device's clsact qdisc. Nothing is pinned: legacy filters have
// no link. The filter goes away with the device.
func (n *Node) attachTC(t testing.TB, prog *ebpf.Program, name, dev string, ifindex int, hook string) {
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
	f := &netlink.BpfFilter{
		FilterAttrs:  netlink.FilterAttrs{LinkIndex: ifindex, Parent: parent, Handle: 1, Priority: 1, Protocol: unix.ETH_P_ALL},
		Fd:           prog.FD(),
		Name:         name + "-" + dev,
		DirectAction: true,
	}
	if err := netlink.FilterAdd(f); err != nil {
		t.Fatalf("add tc %s filter %s to %s: %v", hook, name, dev, err)
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

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
