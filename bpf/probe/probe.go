// Package probe proves that packets reach Cilium's program on a device. For a bounded window it
// attaches enigate's counting program (bpf/probe.c) with tcx at the head of the device's ingress
// chain (how many packets arrived) and reads the kernel's run count of Cilium's ingress program
// (how many reached it), with BPF run-time statistics switched on for the window
// (BPF_ENABLE_STATS, a file descriptor: the kernel switches them off again when it closes). A
// program ahead of Cilium's that drops or diverts packets shows as arrivals that never reach it.
//
// The counting program returns TCX_NEXT, so the programs behind it still decide every packet.
// Its link is never pinned: it lives as long as this process holds its file descriptor, so even
// kill -9 leaves nothing attached. Probe never attaches XDP and never writes Cilium's maps or pins.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	enibpf "github.com/enigate/enigate/bpf"
	"github.com/enigate/enigate/bpf/datapath"
)

// ProgramName is the kernel name of the probe program; observers can recognise it by it.
const ProgramName = enibpf.ProbeProgEnigateProbe

// Attached is a running probe on one device.
type Attached struct {
	Device string
	objs   enibpf.ProbeObjects
	link   link.Link
}

// Attach loads the probe and attaches it at the head of device's tcx ingress chain, in the
// calling thread's network namespace.
func Attach(device string) (*Attached, error) {
	iface, err := net.InterfaceByName(device)
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", device, err)
	}
	a := &Attached{Device: device}
	if err := enibpf.LoadProbeObjects(&a.objs, nil); err != nil {
		return nil, fmt.Errorf("probe %s: load: %w", device, err)
	}
	a.link, err = link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   a.objs.EnigateProbe,
		Attach:    ebpf.AttachTCXIngress,
		Anchor:    link.Head(),
	})
	if err != nil {
		a.objs.Close()
		return nil, fmt.Errorf("probe %s: attach tcx ingress: %w", device, err)
	}
	return a, nil
}

// Packets is the number of packets counted so far.
func (a *Attached) Packets() (uint64, error) {
	var n uint64
	if err := a.objs.EnigateProbePackets.Lookup(uint32(0), &n); err != nil {
		return 0, fmt.Errorf("probe %s: read count: %w", a.Device, err)
	}
	return n, nil
}

// Close detaches the probe and frees its program and map.
func (a *Attached) Close() error {
	err := a.link.Close()
	if cerr := a.objs.Close(); err == nil {
		err = cerr
	}
	return err
}

// EnableStats switches on the kernel's BPF run-time statistics (run counts) until the returned
// closer is closed or the process dies.
func EnableStats() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("probe: enable bpf statistics: %w", err)
	}
	return c, nil
}

// RunCount is how often the program with id has run (0 while statistics are off).
func RunCount(id uint32) (uint64, error) {
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
	if err != nil {
		return 0, fmt.Errorf("open program id %d: %w", id, err)
	}
	defer p.Close()
	st, err := p.Stats()
	if err != nil {
		return 0, fmt.Errorf("program id %d stats: %w", id, err)
	}
	return st.RunCount, nil
}

// Run attaches a probe to device, waits window (or until ctx ends) and reports how many packets
// arrived and how often target (Cilium's ingress program, by ID) ran meanwhile. Statistics must
// be on (EnableStats). Errors are carried in the result so that the report shows them as a
// failing check.
func Run(ctx context.Context, device string, window time.Duration, target datapath.Program) datapath.ProbeResult {
	r := datapath.ProbeResult{Device: device, Window: window.String()}
	if target.ID != 0 {
		r.Program = fmt.Sprintf("%s#%d", target.Name, target.ID)
	}
	// Without tcx (kernels < 6.6) there is no head of a chain to count arrivals at; Cilium's run
	// count alone then proves packets reach it.
	a, err := Attach(device)
	switch {
	case errors.Is(err, link.ErrNotSupported):
		r.NoCounter = true
	case err != nil:
		r.Err = err.Error()
		return r
	default:
		defer a.Close()
	}
	var before uint64
	if target.ID != 0 {
		if before, err = RunCount(target.ID); err != nil {
			r.Err = err.Error()
			return r
		}
	}
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	if a != nil {
		if r.Arrived, err = a.Packets(); err != nil {
			r.Err = err.Error()
			return r
		}
	}
	if target.ID == 0 {
		r.Err = "no Cilium ingress program to reach"
		return r
	}
	after, err := RunCount(target.ID)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.Reached = after - before
	return r
}
