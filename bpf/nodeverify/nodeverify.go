// Package nodeverify is the engine behind `enigate node verify`: read the rendered values,
// compute the expected datapath, observe the node, optionally probe traffic, diff, report.
package nodeverify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/bpf/datapath"
	"github.com/enigate/enigate/bpf/observe"
	"github.com/enigate/enigate/bpf/probe"
	"github.com/enigate/enigate/schema/problem"
)

// Options of one verification. Zero values take the documented defaults.
type Options struct {
	ValuesFile   string   // rendered Cilium Helm values (required)
	VersionsFile string   // versions.yaml; empty: chart datapath.DefaultChartVersion
	BPFFS        string   // overrides bpf.root from the values
	Devices      []string // native devices; empty: observe.DefaultDevices
	CgroupRoot   string   // overrides cgroup.hostRoot from the values (socket-LB programs)
	// Allowed declares non-Cilium programs that may sit on the checked hooks: kernel program
	// names (up to 15 characters) or program tags (16 hex digits).
	Allowed     []string
	Probe       bool // probe each native device: do packets reach Cilium's ingress program?
	ProbeWindow time.Duration
}

// DefaultProbeWindow is how long the probe counts packets when Options.ProbeWindow is zero.
const DefaultProbeWindow = 2 * time.Second

// ErrCannotRun marks errors that mean the verification could not run (exit code 2).
var ErrCannotRun = errors.New("cannot run")

// Load reads and checks the values files and the options and returns the expected datapath
// spec. Every problem is reported at once, one line each (`path: what is wrong (what is
// allowed)`).
func Load(o Options) (datapath.Spec, error) {
	var errs field.ErrorList
	read := func(flag, file string) []byte {
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: flag, BadValue: file, Detail: err.Error()})
		}
		return b
	}
	var vals, vers []byte
	if o.ValuesFile == "" {
		errs = append(errs, &field.Error{Type: field.ErrorTypeRequired, Field: "--values", Detail: "is not set (the rendered Cilium Helm values file)"})
	} else {
		vals = read("--values", o.ValuesFile)
	}
	if o.VersionsFile != "" {
		vers = read("--versions", o.VersionsFile)
	}
	for i, a := range o.Allowed {
		if !datapath.ValidAllowed(a) {
			errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: fmt.Sprintf("--allow-program[%d]", i), BadValue: a,
				Detail: fmt.Sprintf("%q is not a kernel program name (up to 15 of A-Za-z0-9_.) or a program tag (16 hex digits)", a)})
		}
	}
	var v datapath.Values
	if vals != nil {
		var verrs field.ErrorList
		v, verrs = datapath.ParseValues(vals, vers)
		errs = append(errs, verrs...)
	}
	if len(errs) > 0 {
		return datapath.Spec{}, errors.New(strings.Join(problem.Lines(errs), "\n"))
	}
	if o.BPFFS != "" {
		v.BPFRoot = o.BPFFS
	}
	if o.CgroupRoot != "" {
		v.CgroupRoot = o.CgroupRoot
	}
	devs := o.Devices
	if len(devs) == 0 {
		devs = observe.DefaultDevices(v.BPFRoot)
	}
	return datapath.Expected(v, devs, o.Allowed), nil
}

// Verify runs one verification. A non-nil error wraps ErrCannotRun: the node could not be
// verified (bad values, not privileged, no bpffs); the report is still returned when one was made.
func Verify(ctx context.Context, o Options) (datapath.Report, error) {
	start := time.Now()
	spec, err := Load(o)
	if err != nil {
		return datapath.Report{}, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	if err := privileged(); err != nil {
		return datapath.Report{}, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	obs := observe.Node(spec)
	if o.Probe {
		obs.Probes = probes(ctx, spec, obs, o.ProbeWindow)
	}
	r := datapath.Diff(spec, obs)
	r.DurationMilli = float64(time.Since(start).Microseconds()) / 1000
	if obs.BPFFS.Err != "" || obs.BPFFS.Magic != datapath.BPFFSMagic {
		return r, fmt.Errorf("%w: no bpffs mounted at %s (bpf.root or --bpffs)", ErrCannotRun, spec.BPFFS)
	}
	if sl := obs.SocketLB; sl != nil && (sl.FS.Err != "" || sl.FS.Magic != datapath.CgroupV2Magic) {
		return r, fmt.Errorf("%w: no cgroup2 mounted at %s (cgroup.hostRoot or --cgroup-root)", ErrCannotRun, spec.SocketLB.CgroupRoot)
	}
	return r, nil
}

// ExitCode is 1 when the report shows drift, else 0.
func ExitCode(r datapath.Report) int {
	if r.Drift() {
		return 1
	}
	return 0
}

// probes runs the probe on each native device in parallel, with the kernel's BPF statistics on
// for the window so that Cilium's ingress program's run count moves.
func probes(ctx context.Context, s datapath.Spec, obs datapath.Observation, window time.Duration) []datapath.ProbeResult {
	if window <= 0 {
		window = DefaultProbeWindow
	}
	var native []datapath.DeviceSpec
	for _, d := range s.Devices {
		if d.Role == "native" {
			native = append(native, d)
		}
	}
	out := make([]datapath.ProbeResult, len(native))
	stats, err := probe.EnableStats()
	if err != nil {
		for i, d := range native {
			out[i] = datapath.ProbeResult{Device: d.Name, Window: window.String(), Err: err.Error()}
		}
		return out
	}
	defer stats.Close()
	var wg sync.WaitGroup
	for i, d := range native {
		var target datapath.Program
		for _, p := range obs.Devices[d.Name].Ingress {
			if p.Name == datapath.KernelName(d.Ingress) {
				target = p
				break
			}
		}
		wg.Go(func() { out[i] = probe.Run(ctx, d.Name, window, target) })
	}
	wg.Wait()
	return out
}

// privileged checks the capability the observer needs: CAP_SYS_ADMIN. Measured: CAP_BPF,
// CAP_NET_ADMIN and CAP_PERFMON without it cannot open attached programs or Maglev inner maps by
// ID (BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID: EPERM); CAP_SYS_ADMIN alone passes every
// check, probe included, because the kernel's bpf_capable, bpf_net_capable and perfmon_capable
// all accept it.
func privileged() error {
	ok, err := effective(unix.CAP_SYS_ADMIN)
	if err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	if !ok {
		return fmt.Errorf("not privileged: missing CAP_SYS_ADMIN (run as root or grant it)")
	}
	return nil
}

// effective reports whether the calling thread has capability c in its effective set.
func effective(c uint) (bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: 64 bits in two words
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false, err
	}
	return data[c/32].Effective&(1<<(c%32)) != 0, nil
}
