// Package probe proves that packets reach a device: it attaches enigate's counting program
// (bpf/probe.c) with tcx at the head of the device's ingress chain for a bounded window and
// reads the count. The program returns TCX_NEXT, so Cilium's programs behind it still decide
// every packet. The link is never pinned: it lives as long as this process holds its file
// descriptor, so even kill -9 leaves nothing attached. Probe never attaches XDP and never
// touches Cilium's maps or pins.
package probe

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	enibpf "github.com/enigate/enigate/bpf"
	"github.com/enigate/enigate/bpf/verify"
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

// Run attaches a probe to device, waits window (or until ctx ends) and reports the count.
// Errors are carried in the result so that the report shows them as a failing check.
func Run(ctx context.Context, device string, window time.Duration) verify.ProbeResult {
	r := verify.ProbeResult{Device: device, Window: window.String()}
	a, err := Attach(device)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer a.Close()
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	r.Packets, err = a.Packets()
	if err != nil {
		r.Err = err.Error()
	}
	return r
}
