package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/enigate/enigate/bpf/nodeverify"
	"github.com/enigate/enigate/bpf/verify"
)

func init() {
	register(command{name: "node verify", summary: "verify this node's eBPF datapath against the rendered Cilium values", run: runNodeVerify})
}

const nodeVerifyHelp = `
Reads this node's eBPF datapath directly (bpffs pins, map types, sizes, layouts and flags,
every program on every hook of each device with tcx, legacy tc or XDP and its mode, the maps
those programs use by map ID, endpoint (lxc) programs, the socket-LB programs at Cilium's cgroup
root, kernel features) and compares it with what the rendered Cilium Helm values imply, without
asking the Cilium agent. Values the file leaves out take the chart defaults of the Cilium
version in --versions. Programs that are not Cilium's fail unless --allow-program declares them.

Every check prints name, status (PASS/FAIL/WARN/SKIP), expected, observed, evidence and the
values key it derives from. --probe attaches a tiny packet counter at the head of each native
device's tcx ingress chain for --probe-window and reads how often Cilium's ingress program ran
meanwhile (kernel BPF statistics, on for the window only); it fails the device when no packet
reached Cilium's program. Nothing is pinned and XDP is never touched: it all goes away with the
process, even on kill -9.

With --interval the command keeps running (DaemonSet mode): one JSON report line per run on
stdout and Prometheus metrics on --metrics-addr; drift does not stop it.

Needs CAP_SYS_ADMIN (the kernel opens programs and maps by ID only with it) and the host's
bpffs (read-only is enough).

Exit codes: 0 every check passes (WARN/SKIP allowed), 1 drift (a check failed),
2 could not run (not privileged, no bpffs, no cgroup2 at the cgroup root when socket LB is on,
unreadable or invalid values, bad flags).`

func runNodeVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("node verify",
		"node verify --values FILE [--versions FILE] [--bpffs DIR] [--cgroup-root DIR] [--device NAME]... [--allow-program NAME|TAG]... [--probe] [--probe-window DUR] [-o json|text] [--interval DUR --metrics-addr ADDR]",
		nodeVerifyHelp, stdout, stderr)
	var o nodeverify.Options
	var devices, allowed stringList
	var output, metricsAddr string
	var interval time.Duration
	fs.StringVar(&o.ValuesFile, "values", "", "rendered Cilium Helm values `file` (required)")
	fs.StringVar(&o.VersionsFile, "versions", "", "versions.yaml `file` with the Cilium chart version (default chart "+verify.DefaultChartVersion+")")
	fs.StringVar(&o.BPFFS, "bpffs", "", "bpffs root `dir` (default: bpf.root from the values, /sys/fs/bpf)")
	fs.StringVar(&o.CgroupRoot, "cgroup-root", "", "Cilium's cgroup2 root `dir` for the socket-LB programs (default: cgroup.hostRoot from the values, /run/cilium/cgroupv2)")
	fs.Var(&allowed, "allow-program", "a non-Cilium program that may sit on the checked hooks, by kernel `name` (<= 15 characters) or tag (16 hex digits); repeatable")
	fs.Var(&devices, "device", "native device `name` (repeatable; default: Cilium's device dirs in bpffs plus the default route's device)")
	fs.BoolVar(&o.Probe, "probe", false, "attach the packet-counting probe to each native device for --probe-window")
	fs.DurationVar(&o.ProbeWindow, "probe-window", nodeverify.DefaultProbeWindow, "how long the probe counts packets")
	fs.StringVar(&output, "o", "text", "output `format`: json or text")
	fs.DurationVar(&interval, "interval", 0, "keep running, verifying every `duration` (DaemonSet mode; JSON lines on stdout)")
	fs.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics on `addr` (with --interval), e.g. :9090")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return withCode(ExitError, fmt.Errorf("unexpected arguments %q", pos))
	}
	if output != "json" && output != "text" {
		return withCode(ExitError, fmt.Errorf("-o: %q is not json or text", output))
	}
	o.Devices, o.Allowed = devices, allowed

	if interval > 0 {
		return withCode(ExitError, nodeverify.Serve(ctx, o, interval, metricsAddr, stdout))
	}
	if metricsAddr != "" {
		return withCode(ExitError, errors.New("--metrics-addr: only with --interval"))
	}

	r, runErr := nodeverify.Verify(ctx, o)
	if r.Checks != nil {
		if output == "json" {
			err = verify.WriteJSON(stdout, r)
		} else {
			err = verify.WriteText(stdout, r)
		}
		if err != nil {
			return withCode(ExitError, err)
		}
	}
	if runErr != nil {
		return withCode(ExitError, runErr)
	}
	if nodeverify.ExitCode(r) != 0 {
		return findings("drift: %d of %d checks failed", r.Summary.Fail, len(r.Checks))
	}
	return nil
}
