package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/enigate/enigate/schema/capacity"
)

func init() {
	register(command{name: "capacity", summary: "ENI/IP capacity and safe max pods of an instance type", run: runCapacity})
}

const capacityHelp = `
Prints the ENI/IP capacity model for one instance type: the inputs and every figure with the
formula that produced it (E = ENIs on the default network card, I = IPv4 addresses per ENI,
F = first interface index, H = host-network pods):

  VPC CNI max pods (EKS AMI default)   E*(I-1)+2
  pod addresses (Cilium ENI mode)      (E-F)*(I-1), x16 with prefix delegation (nitro/bare metal)
  max pods (safe kubelet --max-pods)   min(podAddresses - 2 (cilium_host, health) + H, cap)
  cap                                  110 below 30 vCPU, 250 from 30; 110 when the vCPU count
                                       is unknown (the seeded table has none: run
                                       'enigate limits refresh')

Only the default network card counts on multi-card types. With --max-pods N the declared value
is checked against the bound. Instance types come from the embedded limits table (or --table).
See docs/capacity.md.

Exit codes: 0 ok, 1 --max-pods above the bound, 2 could not run (unknown instance type, prefix
delegation on a non-nitro type, bad flags).
`

func runCapacity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("capacity", "capacity --instance-type T [--prefix-delegation] [--first-interface-index N] [--max-pods N] [--host-network-pods N] [-o table|json]", capacityHelp, stdout, stderr)
	var in capacity.Input
	fs.StringVar(&in.InstanceType, "instance-type", "", "EC2 instance type, e.g. m7g.xlarge (required)")
	fs.BoolVar(&in.PrefixDelegation, "prefix-delegation", false, "Cilium assigns /28 prefixes instead of secondary addresses (nitro or bare metal only)")
	fs.IntVar(&in.FirstInterfaceIndex, "first-interface-index", 0, "Cilium eni.first-interface-index: ENIs below it carry no pod addresses")
	fs.IntVar(&in.DeclaredMaxPods, "max-pods", 0, "declared max pods to check against the bound (0: none)")
	fs.IntVar(&in.HostNetworkPods, "host-network-pods", capacity.DefaultHostNetworkPods, "host-network pods per node that need no pod address (Cilium agent, Envoy, ...)")
	output := fs.String("o", "table", "output format: table or json")
	tableFile := fs.String("table", "", "limits table file to use instead of the embedded one (e.g. fresh from 'enigate limits refresh')")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var problems []error
	if len(rest) > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q (the instance type goes in --instance-type)", rest))
	}
	if in.InstanceType == "" {
		problems = append(problems, errors.New("--instance-type: required"))
	}
	if *output != "table" && *output != "json" {
		problems = append(problems, fmt.Errorf("-o: %q is not table or json", *output))
	}
	if len(problems) > 0 {
		return withCode(ExitError, errors.Join(problems...))
	}
	table, err := capacity.Default()
	if *tableFile != "" {
		var data []byte
		if data, err = os.ReadFile(*tableFile); err == nil {
			table, err = capacity.ParseTable(data)
		}
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("limits table: %w", err))
	}
	r, err := table.Compute(in)
	if err != nil {
		return withCode(ExitError, err)
	}
	if *output == "json" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return withCode(ExitError, err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if err := capacity.WriteResult(stdout, r); err != nil {
		return withCode(ExitError, err)
	}
	if r.DeclaredExceeds {
		return findings("%s", r.ExceedsMessage(in.DeclaredMaxPods))
	}
	return nil
}
