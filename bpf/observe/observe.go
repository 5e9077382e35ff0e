// Package observe reads a node's eBPF datapath (bpffs pins, maps, every program attached to
// devices with tcx, legacy tc or XDP, endpoint devices, the socket-LB programs at the cgroup
// root, kernel features) into a datapath.Observation. It is the only code of the node verifier
// that touches the kernel, and it only reads: maps are opened read-only, links read-write (the
// kernel has no read-only link open) but never changed; nothing is attached, written, pinned or
// unpinned.
//
// Everything runs on the calling goroutine's thread: device lookups and program queries happen
// in that thread's network namespace.
package observe

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/enigate/enigate/bpf/datapath"
)

// maxInnerSamples bounds how many Maglev inner maps are read per outer map.
const maxInnerSamples = 4

// Node observes everything s names. It does not fail as a whole: what cannot be read is recorded
// in the observation, and Diff turns it into failing checks.
func Node(s datapath.Spec) datapath.Observation {
	o := datapath.Observation{
		Features:  Features(),
		Maps:      map[string][]datapath.MapObservation{},
		Devices:   map[string]datapath.DeviceObservation{},
		Endpoints: map[string]datapath.DeviceObservation{},
	}
	o.Node = nodeName()
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		o.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	o.TCX = TCXSupported()
	o.PossibleCPUs, _ = ebpf.PossibleCPU()
	_, err := os.Stat("/proc/sys/net/ipv6/conf/all/forwarding")
	o.HostIPv6 = err == nil
	o.BPFFS = statFS(s.BPFFS)
	if o.BPFFS.Err == "" && o.BPFFS.Magic == datapath.BPFFSMagic {
		for _, m := range s.Maps {
			o.Maps[m.Name] = pinnedMaps(m)
		}
		o.Pins, err = allPins(s.GlobalsDir)
		if err != nil {
			o.PinsErr = err.Error()
		}
	}
	links, linksErr := netlink.LinkList()
	names := mapInfos{}
	for _, d := range s.Devices {
		o.Devices[d.Name] = device(d, o.TCX, links, linksErr, names)
	}
	for _, l := range links {
		if n := l.Attrs().Name; strings.HasPrefix(n, datapath.EndpointPrefix) {
			ep := s.Endpoint
			ep.Name = n
			o.Endpoints[n] = device(ep, o.TCX, links, linksErr, names)
		}
	}
	if s.SocketLB != nil {
		o.SocketLB = socketLB(*s.SocketLB, names)
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
func Features() map[string]datapath.FeatureResult {
	res := func(err error, detail string) datapath.FeatureResult {
		if err != nil {
			return datapath.FeatureResult{Detail: err.Error()}
		}
		return datapath.FeatureResult{Supported: true, Detail: detail}
	}
	f := map[string]datapath.FeatureResult{}
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	f["btf"] = res(err, "/sys/kernel/btf/vmlinux present")
	f["map_lru_hash"] = res(features.HaveMapType(ebpf.LRUHash), "features.HaveMapType(LRUHash)")
	f["map_lpm_trie"] = res(features.HaveMapType(ebpf.LPMTrie), "features.HaveMapType(LPMTrie)")
	f["map_hash_of_maps"] = res(features.HaveMapType(ebpf.HashOfMaps), "features.HaveMapType(HashOfMaps)")
	if TCXSupported() {
		f["tc_attach"] = datapath.FeatureResult{Supported: true, Detail: "tcx: BPF_PROG_QUERY(BPF_TCX_INGRESS) on lo answered"}
	} else {
		f["tc_attach"] = res(features.HaveProgramType(ebpf.SchedCLS), "legacy tc only: features.HaveProgramType(SchedCLS)")
	}
	f["xdp"] = res(features.HaveProgramType(ebpf.XDP), "features.HaveProgramType(XDP)")
	return f
}

// TCXSupported reports whether the kernel has tcx (Linux >= 6.6): a read-only BPF_PROG_QUERY
// of tcx ingress on the loopback device. Only the kernel's answer for an unknown attach type
// (EINVAL) or a missing query command (ebpf.ErrNotSupported) means no tcx, as cilium/ebpf's own
// feature test reads it (link/syscalls.go haveTCX); any other error (EPERM without
// CAP_SYS_ADMIN, say) is not taken for an old kernel: tcx is assumed, and the real queries
// report the error where it happens.
func TCXSupported() bool {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return false
	}
	_, err = link.QueryPrograms(link.QueryOptions{Target: lo.Index, Attach: ebpf.AttachTCXIngress})
	return !OldKernel(err)
}

// OldKernel reports whether a tcx query error means the kernel has no tcx.
func OldKernel(err error) bool {
	return err != nil && (errors.Is(err, unix.EINVAL) || errors.Is(err, ebpf.ErrNotSupported))
}

func statFS(path string) datapath.FSObservation {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return datapath.FSObservation{Path: path, Err: err.Error()}
	}
	return datapath.FSObservation{Path: path, Magic: int64(st.Type)}
}

func pinnedMaps(m datapath.MapSpec) []datapath.MapObservation {
	paths := []string{m.PinPath}
	if m.Glob {
		var err error
		paths, err = filepath.Glob(m.PinPath)
		if err != nil {
			return []datapath.MapObservation{{PinPath: m.PinPath, Err: err.Error()}}
		}
	}
	var out []datapath.MapObservation
	for _, p := range paths {
		out = append(out, pinnedMap(p, m.Inner != nil))
	}
	return out
}

func pinnedMap(path string, inner bool) datapath.MapObservation {
	o := datapath.MapObservation{PinPath: path}
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

func fillMap(o *datapath.MapObservation, m *ebpf.Map) {
	o.Type, o.KeySize, o.ValueSize, o.MaxEntries, o.Flags = m.Type().String(), m.KeySize(), m.ValueSize(), m.MaxEntries(), m.Flags()
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
func innerMaps(outer *ebpf.Map) ([]datapath.MapObservation, error) {
	var out []datapath.MapObservation
	key := make([]byte, outer.KeySize())
	var id uint32
	it := outer.Iterate()
	for len(out) < maxInnerSamples && it.Next(&key, &id) {
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			return out, fmt.Errorf("inner map id %d: %w", id, err)
		}
		o := datapath.MapObservation{PinPath: fmt.Sprintf("inner of %s", outer.String()), Present: true}
		fillMap(&o, m)
		m.Close()
		out = append(out, o)
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("iterate outer map: %w", err)
	}
	return out, nil
}

// mapInfos caches what programs' maps are (name, type, layout) by ID within one observation.
type mapInfos map[uint32]datapath.MapRef

func (c mapInfos) ref(id ebpf.MapID) datapath.MapRef {
	if r, ok := c[uint32(id)]; ok {
		return r
	}
	r := datapath.MapRef{ID: uint32(id), Name: "?"}
	if m, err := ebpf.NewMapFromID(id); err == nil {
		if info, err := m.Info(); err == nil {
			r.Name = info.Name
		}
		r.Type, r.KeySize, r.ValueSize = m.Type().String(), m.KeySize(), m.ValueSize()
		m.Close()
	}
	c[uint32(id)] = r
	return r
}

// allPins reads every map pinned directly under dir (Cilium's tc/globals): the identities
// (pin path -> map ID) programs' maps are compared with. Pins of other object kinds are skipped.
func allPins(dir string) ([]datapath.MapObservation, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []datapath.MapObservation
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := pinnedMap(filepath.Join(dir, e.Name()), false)
		if m.Present {
			out = append(out, m)
		}
	}
	return out, nil
}

func device(d datapath.DeviceSpec, tcx bool, links []netlink.Link, linksErr error, names mapInfos) datapath.DeviceObservation {
	o := datapath.DeviceObservation{Name: d.Name}
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
	if linksErr != nil {
		errs = append(errs, "xdp: list links: "+linksErr.Error())
	} else {
		for _, l := range links {
			if x := l.Attrs().Xdp; l.Attrs().Index == iface.Index && x != nil && x.Attached && x.ProgId != 0 {
				p := program(ebpf.ProgramID(x.ProgId), names)
				p.Attach, p.Mode = "xdp", xdpMode(x.AttachMode)
				o.XDP = &p
			}
		}
	}
	if d.LinksDir != "" {
		o.PinnedLinks, err = pinnedLinks(d.LinksDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			o.LinksErr = err.Error()
		}
	}
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

// xdpMode names IFLA_XDP_ATTACHED (include/uapi/linux/if_link.h XDP_ATTACHED_*).
func xdpMode(m uint32) string {
	switch m {
	case 1:
		return "driver"
	case 2:
		return "generic"
	case 3:
		return "offload"
	case 4:
		return "multi"
	}
	return fmt.Sprintf("mode %d", m)
}

// tcxPrograms appends the programs of the device's tcx ingress and egress chains, in chain order.
func tcxPrograms(ifindex int, names mapInfos, o *datapath.DeviceObservation) error {
	for _, dir := range []struct {
		attach ebpf.AttachType
		into   *[]datapath.Program
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
// (ffff:fff2) and egress (ffff:fff3) hooks, in the order the kernel runs them (by priority). A
// device without a clsact qdisc dumps no filters.
func tcPrograms(ifindex int, names mapInfos, o *datapath.DeviceObservation) error {
	dev := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	for _, dir := range []struct {
		name   string
		parent uint32
		into   *[]datapath.Program
	}{{"ingress", netlink.HANDLE_MIN_INGRESS, &o.Ingress}, {"egress", netlink.HANDLE_MIN_EGRESS, &o.Egress}} {
		filters, err := netlink.FilterList(dev, dir.parent)
		if err != nil {
			return fmt.Errorf("list tc %s filters: %w", dir.name, err)
		}
		slices.SortStableFunc(filters, func(a, b netlink.Filter) int { return int(a.Attrs().Priority) - int(b.Attrs().Priority) })
		for _, f := range filters {
			bf, ok := f.(*netlink.BpfFilter)
			if !ok || bf.Id == 0 {
				continue
			}
			p := program(ebpf.ProgramID(bf.Id), names)
			p.Attach, p.Prio, p.Filter = "tc", bf.Priority, bf.Name
			*dir.into = append(*dir.into, p)
		}
	}
	return nil
}

func program(id ebpf.ProgramID, names mapInfos) datapath.Program {
	p := datapath.Program{ID: uint32(id)}
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
	p.Name, p.Type, p.Tag = info.Name, info.Type.String(), info.Tag
	ids, _ := info.MapIDs()
	for _, mid := range ids {
		p.Maps = append(p.Maps, names.ref(mid))
	}
	return p
}

// cgroupAttachTypes are the attach types socket-LB programs use, by their String() name.
var cgroupAttachTypes = func() map[string]ebpf.AttachType {
	m := map[string]ebpf.AttachType{}
	for _, t := range []ebpf.AttachType{
		ebpf.AttachCGroupInet4Connect, ebpf.AttachCGroupUDP4Sendmsg, ebpf.AttachCGroupUDP4Recvmsg,
		ebpf.AttachCgroupInet4GetPeername, ebpf.AttachCGroupInet4PostBind, ebpf.AttachCGroupInet4Bind,
		ebpf.AttachCGroupInet6Connect, ebpf.AttachCGroupUDP6Sendmsg, ebpf.AttachCGroupUDP6Recvmsg,
		ebpf.AttachCgroupInet6GetPeername, ebpf.AttachCGroupInet6PostBind, ebpf.AttachCGroupInet6Bind,
		ebpf.AttachCgroupInetSockRelease,
	} {
		m[t.String()] = t
	}
	return m
}()

// socketLB reads the programs attached at the cgroup root for each socket-LB attach type
// (BPF_PROG_QUERY on the cgroup directory) and Cilium's pinned cgroup links.
func socketLB(s datapath.SocketLBSpec, names mapInfos) *datapath.CgroupObservation {
	o := &datapath.CgroupObservation{FS: statFS(s.CgroupRoot), Hooks: map[string][]datapath.Program{}}
	if o.FS.Err != "" || o.FS.Magic != datapath.CgroupV2Magic {
		return o
	}
	cg, err := os.Open(s.CgroupRoot)
	if err != nil {
		o.Err = err.Error()
		return o
	}
	defer cg.Close()
	var errs []string
	for _, p := range s.Programs {
		t, ok := cgroupAttachTypes[p.Attach]
		if !ok {
			errs = append(errs, "unknown attach type "+p.Attach)
			continue
		}
		if _, done := o.Hooks[p.Attach]; done {
			continue
		}
		res, err := link.QueryPrograms(link.QueryOptions{Target: int(cg.Fd()), Attach: t})
		if err != nil {
			errs = append(errs, fmt.Sprintf("query %s: %v", p.Attach, err))
			continue
		}
		progs := []datapath.Program{}
		for _, ap := range res.Programs {
			q := program(ap.ID, names)
			q.Attach = "cgroup"
			if lid, ok := ap.LinkID(); ok {
				q.LinkID = uint32(lid)
			}
			progs = append(progs, q)
		}
		o.Hooks[p.Attach] = progs
	}
	o.PinnedLinks, _ = pinnedLinks(s.LinksDir)
	o.Err = strings.Join(errs, "; ")
	return o
}

func pinnedLinks(dir string) (map[string]datapath.LinkPin, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]datapath.LinkPin{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		lp := datapath.LinkPin{Path: p}
		// The kernel opens pinned links only read-write (BPF_OBJ_GET with BPF_F_RDONLY is EINVAL
		// for links); opening changes nothing, and a read-only bind mount of bpffs still allows
		// it (bpf_obj_get checks the inode, not the mount).
		l, err := link.LoadPinnedLink(p, nil)
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
	return out, nil
}

// DefaultDevices guesses the native devices when none are given: the per-device directories
// Cilium keeps under <bpffs>/cilium/devices, plus the devices of the IPv4 default routes.
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
	devs = append(devs, defaultRouteDevices()...)
	slices.Sort(devs)
	return slices.Compact(devs)
}

// defaultRouteDevices names the devices of the IPv4 default routes of the main table (what
// /proc/net/route lists), every nexthop's for a multipath route; none when routes cannot be read.
func defaultRouteDevices() []string {
	// RT_FILTER_DST with a nil Dst matches 0.0.0.0/0; without RT_FILTER_TABLE only the main
	// table is listed (vishvananda/netlink v1.3.1 route_linux.go RouteListFilteredIter).
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{}, netlink.RT_FILTER_DST)
	if err != nil {
		return nil
	}
	var devs []string
	for _, r := range routes {
		idx := []int{r.LinkIndex}
		for _, nh := range r.MultiPath {
			idx = append(idx, nh.LinkIndex)
		}
		for _, i := range idx {
			if i == 0 {
				continue
			}
			if l, err := netlink.LinkByIndex(i); err == nil {
				devs = append(devs, l.Attrs().Name)
			}
		}
	}
	return devs
}
