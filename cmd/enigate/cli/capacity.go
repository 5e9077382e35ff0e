package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/schema/capacity"
)

const capacityHelp = `
Prints the ENI/IP capacity model for one instance type: the inputs and every figure with the
formula that produced it (E = ENIs on the default network card, I = IPv4 addresses per ENI,
F = first interface index, H = host-network pods):

  VPC CNI max pods (EKS AMI default)   E*(I-1)+2
  pod addresses (Cilium ENI mode)      (E-F)*(I-1), x16 with prefix delegation (nitro/bare metal)
  max pods (safe kubelet --max-pods)   min(podAddresses - 2 (cilium_host, health) + H, cap)
  cap                                  110 up to 30 vCPU, 250 above (amazon-eks-ami's
                                       max-pods calculator); 110 when the table has no vCPU
                                       count for the type ('enigate limits refresh' records it)

Only the default network card counts on multi-card types. With --max-pods N the declared value
is checked against the bound. Instance types come from the embedded limits table (or --table).
See docs/capacity.md.

Exit codes: 0 ok, 1 --max-pods above the bound, 2 could not run (unknown instance type, prefix
delegation on a non-nitro type, bad flags).
`

func newCapacityCmd() *cobra.Command {
	var in capacity.Input
	var tableFile string
	c := &cobra.Command{
		Use:   "capacity --instance-type T [flags]",
		Short: "ENI/IP capacity and safe max pods of an instance type",
		Long:  strings.TrimSpace(capacityHelp),
		Args:  expect(nil, "instance-type"),
	}
	f := c.Flags()
	f.StringVar(&in.InstanceType, "instance-type", "", "EC2 instance type, e.g. m7g.xlarge (required)")
	f.BoolVar(&in.PrefixDelegation, "prefix-delegation", false, "Cilium assigns /28 prefixes instead of secondary addresses (nitro or bare metal only)")
	f.IntVar(&in.FirstInterfaceIndex, "first-interface-index", 0, "Cilium eni.first-interface-index: ENIs below it carry no pod addresses")
	f.IntVar(&in.DeclaredMaxPods, "max-pods", 0, "declared max pods to check against the bound (0: none)")
	f.IntVar(&in.HostNetworkPods, "host-network-pods", capacity.DefaultHostNetworkPods, "host-network pods per node that need no pod address (Cilium agent, Envoy, ...)")
	f.StringVar(&tableFile, "table", "", "limits table `file` to use instead of the embedded one (e.g. fresh from 'enigate limits refresh')")
	output := addOutputFlag(c, formatText, formatJSON, formatYAML)
	c.RunE = func(c *cobra.Command, _ []string) error {
		table, err := capacity.Default()
		if tableFile != "" {
			var data []byte
			if data, err = os.ReadFile(tableFile); err == nil {
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
		stdout := c.OutOrStdout()
		if output.value != formatText {
			err = writeStructured(stdout, output.value, r)
		} else {
			err = capacity.WriteResult(stdout, r)
		}
		if err != nil {
			return withCode(ExitError, err)
		}
		if r.DeclaredExceeds {
			return findings("%s", r.ExceedsMessage(in.DeclaredMaxPods))
		}
		return nil
	}
	return c
}
