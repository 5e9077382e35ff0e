package capacity

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// FormatTable writes the render summary: capacity per node group, then subnet use per AZ.
func FormatTable(w io.Writer, groups []NodeGroupRow, subnets []SubnetRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE GROUP\tTYPE\tMAX NODES\tAZS\tNODES/AZ\tMAX PODS\tBOUND\tPOD ADDRESSES\tADDRESSES/NODE")
	for _, g := range groups {
		if g.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t-\t-\t-\t- (%s)\n", g.Name, g.InstanceType, g.MaxNodes, strings.Join(g.AZs, ","), g.NodesPerAZ, g.Error)
			continue
		}
		pods := fmt.Sprint(g.MaxPods)
		if g.Derived {
			pods += " (derived)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%d\t%d\t%d\n", g.Name, g.InstanceType, g.MaxNodes,
			strings.Join(g.AZs, ","), g.NodesPerAZ, pods, g.Bound, g.PodAddresses, g.PerNode.Addresses())
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "AZ\tSUBNETS\tUSABLE\tNODES\tNODE ADDR\tENI PRIMARIES\tPOD ADDR\tDEMAND\tFREE\tUSED\t/28 BLOCKS\tSTATUS")
	for _, s := range subnets {
		blocks := "-"
		if s.PrefixDelegation {
			blocks = fmt.Sprintf("%d/%d", s.PrefixBlocks, s.FreeBlocks)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d%%\t%s\t%s\n", s.AZ, strings.Join(s.CIDRs, ","),
			s.Usable, s.Nodes, s.NodeAddresses, s.ENIPrimaries, s.PodAddresses, s.Demand, s.Free, s.UsedPercent, blocks, s.Status)
	}
	return tw.Flush()
}

// WriteResult writes one Result as the `enigate capacity` table: inputs, then every figure with
// its formula, then notes.
func WriteResult(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	vcpu := "unknown"
	if r.VCPUs > 0 {
		vcpu = fmt.Sprint(r.VCPUs)
	}
	arch := "unknown"
	if len(r.Architectures) > 0 {
		arch = strings.Join(r.Architectures, ",")
	}
	fmt.Fprintf(tw, "instance type\t%s\n", r.InstanceType)
	fmt.Fprintln(tw, "inputs")
	fmt.Fprintf(tw, "  E  ENIs (default network card %d of %d)\t%d\n", r.DefaultNetworkCard, r.NetworkCards, r.ENIs)
	fmt.Fprintf(tw, "  I  IPv4 addresses per ENI\t%d\n", r.IPv4PerENI)
	fmt.Fprintf(tw, "  F  first interface index\t%d\n", r.FirstInterfaceIndex)
	fmt.Fprintf(tw, "  H  host-network pods\t%d\n", r.HostNetworkPods)
	fmt.Fprintf(tw, "     prefix delegation\t%s\n", yesNo(r.PrefixDelegation))
	fmt.Fprintf(tw, "     hypervisor / bare metal\t%s / %s\n", r.Hypervisor, yesNo(r.BareMetal))
	fmt.Fprintf(tw, "     vCPUs / architecture\t%s / %s\n", vcpu, arch)
	fmt.Fprintln(tw, "figures")
	for _, f := range r.Formulas {
		fmt.Fprintf(tw, "  %s\t%s = %s = %d\n", f.Name, f.Expression, f.Substituted, f.Value)
	}
	fmt.Fprintf(tw, "  cap\t%s\n", r.PodCapReason)
	if r.DeclaredMaxPods > 0 {
		verdict := "within the bound"
		if r.DeclaredExceeds {
			verdict = fmt.Sprintf("EXCEEDS the bound %d", r.MaxPods)
		}
		fmt.Fprintf(tw, "declared max pods\t%d: %s\n", r.DeclaredMaxPods, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}
