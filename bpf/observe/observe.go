// Package observe reads a node's eBPF datapath (bpffs pins, maps, programs attached to
// devices with tcx or legacy tc, kernel features) into a verify.Observation. It is the only code of the node verifier
// that touches the kernel, and it only reads: maps and links are opened read-only, nothing is
// attached, written, pinned or unpinned.
//
// Everything runs on the calling goroutine's thread: device lookups and program queries happen
// in that thread's network namespace.
package observe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/enigate/enigate/bpf/verify"
)

// maxInnerSamples bounds how many Maglev inner maps are read per outer map.
const maxInnerSamples = 4

// Node observes everything s names. It does not fail as a whole: what cannot be read is recorded
// in the observation, and Diff turns it into failing checks.
func Node(s verify.Spec) verify.Observation {
	o := verify.Observation{
		Features: Features(),
		Maps:     map[string][]verify.MapObservation{},
		Devices:  map[string]verify.DeviceObservation{},
	}
	o.Node = nodeName()
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		o.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	o.BPFFS = statBPFFS(s.BPFFS)
	if o.BPFFS.Err == "" && o.BPFFS.Magic == verify.BPFFSMagic {
		for _, m := range s.Maps {
			o.Maps[m.Name] = pinnedMaps(m)
		}
	}
	xdp, xdpErr := xdpPrograms()
	tcx := TCXSupported()
	names := mapNames{}
	for _, d := range s.Devices {
		o.Devices[d.Name] = device(d, tcx, xdp, xdpErr, names)
	}
	return o
}

func nodeName() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}

// Features probes the kernel features Cilium's configuration needs. Results are cached by
// cilium/ebpf for the life of the process.
func Features() map[string]verify.FeatureResult {
	res := func(err error, detail string) verify.FeatureResult {
		if err != nil {
			return verify.FeatureResult{Detail: err.Error()}
		}
		return verify.FeatureResult{Supported: true, Detail: detail}
	}
	f := map[string]verify.FeatureResult{}
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	f["btf"] = res(err, "/sys/kernel/btf/vmlinux present")
	f["map_lru_hash"] = res(features.HaveMapType(ebpf.LRUHash), "features.HaveMapType(LRUHash)")
	f["map_lpm_trie"] = res(features.HaveMapType(ebpf.LPMTrie), "features.HaveMapType(LPMTrie)")
	f["map_hash_of_maps"] = res(features.HaveMapType(ebpf.HashOfMaps), "features.HaveMapType(HashOfMaps)")
	if TCXSupported() {
		f["tc_attach"] = verify.FeatureResult{Supported: true, Detail: "tcx: BPF_PROG_QUERY(BPF_TCX_INGRESS) on lo answered"}
	} else {
		f["tc_attach"] = res(features.HaveProgramType(ebpf.SchedCLS), "legacy tc only: features.HaveProgramType(SchedCLS)")
	}
	f["xdp"] = res(features.HaveProgramType(ebpf.XDP), "features.HaveProgramType(XDP)")
	return f
}

// TCXSupported reports whether the kernel answers tcx queries (Linux >= 6.6): a read-only
// BPF_PROG_QUERY on the loopback device.
func TCXSupported() bool {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return false
	}
	_, err = link.QueryPrograms(link.QueryOptions{Target: lo.Index, Attach: ebpf.AttachTCXIngress})
	return err == nil
}

func statBPFFS(path string) verify.FSObservation {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return verify.FSObservation{Path: path, Err: err.Error()}
	}
	return verify.FSObservation{Path: path, Magic: int64(st.Type)}
}

func pinnedMaps(m verify.MapSpec) []verify.MapObservation {
	paths := []string{m.PinPath}
	if m.Glob {
		var err error
		paths, err = filepath.Glob(m.PinPath)
		if err != nil {
			return []verify.MapObservation{{PinPath: m.PinPath, Err: err.Error()}}
		}
	}
	var out []verify.MapObservation
	for _, p := range paths {
		out = append(out, pinnedMap(p, m.Inner != nil))
	}
	return out
}

func pinnedMap(path string, inner bool) verify.MapObservation {
	o := verify.MapObservation{PinPath: path}
	m, err := ebpf.LoadPinnedMap(path, &ebpf.LoadPinOptions{ReadOnly: true})
	if errors.Is(err, os.ErrNotExist) {
		return o
	}
	if err != nil {
		o.Err = err.Error()
		return o
	}
	defer m.Close()
	o.Present = true
	fillMap(&o, m)
	if inner {
		o.Inner, err = innerMaps(m)
		if err != nil {
			o.InnerErr = err.Error()
		}
	}
	return o
}

func fillMap(o *verify.MapObservation, m *ebpf.Map) {
	o.Type, o.KeySize, o.ValueSize, o.MaxEntries = m.Type().String(), m.KeySize(), m.ValueSize(), m.MaxEntries()
	info, err := m.Info()
	if err != nil {
		o.Err = "map info: " + err.Error()
		return
	}
	id, _ := info.ID()
	o.ID, o.Name = uint32(id), info.Name
}

// innerMaps samples a map-in-map's inner maps: user space reads an outer value as the inner map's
// ID, which is then opened by ID (CAP_SYS_ADMIN).
func innerMaps(outer *ebpf.Map) ([]verify.MapObservation, error) {
	var out []verify.MapObservation
	key := make([]byte, outer.KeySize())
	var id uint32
	it := outer.Iterate()
	for len(out) < maxInnerSamples && it.Next(&key, &id) {
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			return out, fmt.Errorf("inner map id %d: %w", id, err)
		}
		o := verify.MapObservation{PinPath: fmt.Sprintf("inner of %s", outer.String()), Present: true}
		fillMap(&o, m)
		m.Close()
		out = append(out, o)
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("iterate outer map: %w", err)
	}
	return out, nil
}

// mapNames caches kernel map names by ID within one observation.
type mapNames map[uint32]string

func (c mapNames) name(id ebpf.MapID) string {
	if n, ok := c[uint32(id)]; ok {
		return n
	}
	n := "?"
	if m, err := ebpf.NewMapFromID(id); err == nil {
		if info, err := m.Info(); err == nil {
			n = info.Name
		}
		m.Close()
	}
	c[uint32(id)] = n
	return n
}

func device(d verify.DeviceSpec, tcx bool, xdp map[int]uint32, xdpErr error, names mapNames) verify.DeviceObservation {
	o := verify.DeviceObservation{Name: d.Name}
	iface, err := net.InterfaceByName(d.Name)
	if err != nil {
		o.Err = "device " + d.Name + ": " + err.Error()
		return o
	}
	o.Exists, o.Ifindex = true, iface.Index
	var errs, read []string
	if tcx {
		if err := tcxPrograms(iface.Index, names, &o); err != nil {
			errs = append(errs, err.Error())
		} else {
			read = append(read, "tcx")
		}
	}
	// Legacy tc filters are read on every kernel: Cilium falls back to them without tcx (< 6.6)
	// or with tcx disabled. The kernel runs tcx programs first, so they come after them.
	if err := tcPrograms(iface.Index, names, &o); err != nil {
		errs = append(errs, err.Error())
	} else {
		read = append(read, "tc")
	}
	o.Attach = strings.Join(read, "+")
	if xdpErr != nil {
		errs = append(errs, "xdp: "+xdpErr.Error())
	} else if id, ok := xdp[iface.Index]; ok {
		p := program(ebpf.ProgramID(id), names)
		o.XDP = &p
	}
	o.PinnedLinks = pinnedLinks(d.LinksDir)
	if o.XDP != nil {
		for _, l := range o.PinnedLinks {
			if l.ProgramID == o.XDP.ID {
				o.XDP.LinkID = l.LinkID
			}
		}
	}
	o.Err = strings.Join(errs, "; ")
	return o
}

// tcxPrograms appends the programs of the device's tcx ingress and egress chains.
func tcxPrograms(ifindex int, names mapNames, o *verify.DeviceObservation) error {
	for _, dir := range []struct {
		attach ebpf.AttachType
		into   *[]verify.Program
	}{{ebpf.AttachTCXIngress, &o.Ingress}, {ebpf.AttachTCXEgress, &o.Egress}} {
		res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: dir.attach})
		if err != nil {
			return fmt.Errorf("query %s: %w", dir.attach, err)
		}
		for _, ap := range res.Programs {
			p := program(ap.ID, names)
			p.Attach = "tcx"
			if lid, ok := ap.LinkID(); ok {
				p.LinkID = uint32(lid)
			}
			*dir.into = append(*dir.into, p)
		}
	}
	return nil
}

// tcPrograms appends the programs of the device's legacy tc BPF filters on the clsact ingress
// (ffff:fff2) and egress (ffff:fff3) hooks, in the kernel's dump order (by priority). A device
// without a clsact qdisc dumps no filters.
func tcPrograms(ifindex int, names mapNames, o *verify.DeviceObservation) error {
	dev := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	for _, dir := range []struct {
		name   string
		parent uint32
		into   *[]verify.Program
	}{{"ingress", netlink.HANDLE_MIN_INGRESS, &o.Ingress}, {"egress", netlink.HANDLE_MIN_EGRESS, &o.Egress}} {
		filters, err := netlink.FilterList(dev, dir.parent)
		if err != nil {
			return fmt.Errorf("list tc %s filters: %w", dir.name, err)
		}
		for _, f := range filters {
			bf, ok := f.(*netlink.BpfFilter)
			if !ok || bf.Id == 0 {
				continue
			}
			p := program(ebpf.ProgramID(bf.Id), names)
			p.Attach = "tc"
			*dir.into = append(*dir.into, p)
		}
	}
	return nil
}

func program(id ebpf.ProgramID, names mapNames) verify.Program {
	p := verify.Program{ID: uint32(id)}
	prog, err := ebpf.NewProgramFromID(id)
	if err != nil {
		p.Err = err.Error()
		return p
	}
	defer prog.Close()
	info, err := prog.Info()
	if err != nil {
		p.Err = err.Error()
		return p
	}
	p.Name, p.Type = info.Name, info.Type.String()
	ids, _ := info.MapIDs()
	for _, mid := range ids {
		p.Maps = append(p.Maps, verify.MapRef{ID: uint32(mid), Name: names.name(mid)})
	}
	return p
}

func pinnedLinks(dir string) map[string]verify.LinkPin {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[string]verify.LinkPin{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		lp := verify.LinkPin{Path: p}
		l, err := link.LoadPinnedLink(p, &ebpf.LoadPinOptions{ReadOnly: true})
		if err != nil {
			lp.Err = err.Error()
		} else {
			if info, err := l.Info(); err == nil {
				lp.LinkID, lp.ProgramID = uint32(info.ID), uint32(info.Program)
			} else {
				lp.Err = err.Error()
			}
			l.Close()
		}
		out[e.Name()] = lp
	}
	return out
}

// xdpPrograms returns ifindex -> attached XDP program ID from one RTM_GETLINK dump (IFLA_XDP).
func xdpPrograms() (map[int]uint32, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink dump links: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("parse rtnetlink: %w", err)
	}
	out := map[int]uint32{}
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		ifindex := int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		for _, a := range attrs {
			if a.Attr.Type&0x3fff != unix.IFLA_XDP {
				continue
			}
			if id := xdpProgID(a.Value); id != 0 {
				out[ifindex] = id
			}
		}
	}
	return out, nil
}

// xdpProgID reads IFLA_XDP_PROG_ID from a nested IFLA_XDP attribute.
func xdpProgID(b []byte) uint32 {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4]) & 0x3fff
		if l < 4 || l > len(b) {
			return 0
		}
		if t == unix.IFLA_XDP_PROG_ID && l >= 8 {
			return binary.NativeEndian.Uint32(b[4:8])
		}
		b = b[min(len(b), (l+3)&^3):]
	}
	return 0
}

// DefaultDevices guesses the native devices when none are given: the per-device directories
// Cilium keeps under <bpffs>/cilium/devices, plus the IPv4 default route's device.
func DefaultDevices(bpffs string) []string {
	var devs []string
	if entries, err := os.ReadDir(filepath.Join(bpffs, "cilium", "devices")); err == nil {
		for _, e := range entries {
			n := e.Name()
			if n != "cilium_host" && n != "cilium_net" && !strings.HasPrefix(n, "lxc") && e.IsDir() {
				devs = append(devs, n)
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/route"); err == nil {
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 7 && f[1] == "00000000" && f[7] == "00000000" {
				devs = append(devs, f[0])
			}
		}
	}
	slices.Sort(devs)
	return slices.Compact(devs)
}
