package cli

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/bpf/datapath"
	"github.com/enigate/enigate/bpf/nodeverify"
)

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

func newNodeVerifyCmd() *cobra.Command {
	var o nodeverify.Options
	var metricsAddr string
	var interval time.Duration
	c := &cobra.Command{
		Use:   "verify --values FILE [flags]",
		Short: "verify this node's eBPF datapath against the rendered Cilium values",
		Long:  strings.TrimSpace(nodeVerifyHelp),
		Args:  noArgs,
	}
	f := c.Flags()
	f.StringVar(&o.ValuesFile, "values", "", "rendered Cilium Helm values `file` (required)")
	f.StringVar(&o.VersionsFile, "versions", "", "versions.yaml `file` with the Cilium chart version (default chart "+datapath.DefaultChartVersion+")")
	f.StringVar(&o.BPFFS, "bpffs", "", "bpffs root `dir` (default: bpf.root from the values, /sys/fs/bpf)")
	f.StringVar(&o.CgroupRoot, "cgroup-root", "", "Cilium's cgroup2 root `dir` for the socket-LB programs (default: cgroup.hostRoot from the values, /run/cilium/cgroupv2)")
	f.StringArrayVar(&o.Allowed, "allow-program", nil, "a non-Cilium program that may sit on the checked hooks, by kernel `name` (<= 15 characters) or tag (16 hex digits); repeatable")
	f.StringArrayVar(&o.Devices, "device", nil, "native device `name` (repeatable; default: Cilium's device dirs in bpffs plus the default route's device)")
	f.BoolVar(&o.Probe, "probe", false, "attach the packet-counting probe to each native device for --probe-window")
	f.DurationVar(&o.ProbeWindow, "probe-window", nodeverify.DefaultProbeWindow, "how long the probe counts packets")
	f.DurationVar(&interval, "interval", 0, "keep running, verifying every `duration` (DaemonSet mode; JSON lines on stdout)")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics on `addr` (with --interval), e.g. :9090")
	output := addOutputFlag(c, formatText, formatJSON)
	c.RunE = func(c *cobra.Command, _ []string) error {
		stdout := c.OutOrStdout()
		if interval > 0 {
			return withCode(ExitError, nodeverify.Serve(c.Context(), o, interval, metricsAddr, stdout))
		}
		if metricsAddr != "" {
			return usageError(errors.New("--metrics-addr: only with --interval"))
		}
		r, runErr := nodeverify.Verify(c.Context(), o)
		if r.Checks != nil {
			var err error
			if output.value == formatJSON {
				err = datapath.WriteJSON(stdout, r)
			} else {
				err = datapath.WriteText(stdout, r)
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
	return c
}
