package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/schema/capacity/ec2limits"
)

const limitsRefreshHelp = `
Regenerates the instance-type limits table that 'enigate capacity', render and the webhook use,
from EC2 DescribeInstanceTypes (every page). For each type it records vCPUs, architectures,
hypervisor, bare metal and the network cards; the default card's MaximumNetworkInterfaces and
Ipv4AddressesPerInterface feed the capacity formulas.

Types EC2 describes replace their rows; types the region does not offer keep their previous
rows. Credentials come from the usual AWS sources (environment, shared config/SSO, IMDS) and
need ec2:DescribeInstanceTypes. Throttling (RequestLimitExceeded) is retried by the SDK.

The table file is replaced only after every page arrived and the new table was written in
full (temp file, then rename); on any failure it is left untouched and the reason is printed.
The default --out is the embedded table: rebuild enigate to use the refreshed data, or pass
the file to 'enigate capacity --table FILE'.

The region table (regions and their Availability Zone names, which render checks
cluster.region and every zone against) is refreshed too when --out is the embedded table or
--regions-out is given: DescribeRegions (all regions), then DescribeAvailabilityZones signed for
each region the account may use, at most 4 at a time. Regions not described keep their rows;
it is replaced the same way, only if DescribeRegions and at least one region answered.

Exit codes: 0 refreshed, 2 could not refresh (table unchanged).
`

func newLimitsRefreshCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "refresh [flags]",
		Short: "regenerate the instance-type limits and region tables from EC2",
		Long:  strings.TrimSpace(limitsRefreshHelp),
		Args:  noArgs,
	}
	f := c.Flags()
	region := f.String("region", "", "AWS region to describe (default: from AWS_REGION / shared config)")
	endpoint := f.String("endpoint-url", "", "EC2 endpoint `URL` override (e.g. a VPC endpoint or a test server)")
	out := f.String("out", ec2limits.DefaultTablePath, "table `file` to replace")
	regionsOut := f.String("regions-out", "", "region table `file` to replace (default: the embedded one when --out is the embedded table)")
	c.RunE = func(c *cobra.Command, _ []string) error {
		return limitsRefresh(c.Context(), *region, *endpoint, *out, *regionsOut, c.OutOrStdout())
	}
	return c
}

func limitsRefresh(ctx context.Context, region, endpoint, out, regionsOut string, stdout io.Writer) error {
	client, err := ec2limits.NewClient(ctx, region, endpoint)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("table %s unchanged: %w", out, err))
	}
	source := "region " + client.Options().Region
	if endpoint != "" {
		source += ", endpoint " + endpoint
	}
	sum, err := ec2limits.Refresh(ctx, client, ec2limits.Options{Out: out, Source: source})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("table %s unchanged: %w", out, err))
	}
	fmt.Fprintf(stdout, "refreshed %s from EC2 (%s): %d types described (%d new, %d changed), %d kept from the previous table (not described there)\n",
		out, source, sum.Described, sum.Added, sum.Changed, sum.Kept)
	if len(sum.Skipped) > 0 {
		var s []string
		for _, sk := range sum.Skipped {
			s = append(s, sk.Name+" ("+sk.Reason+")")
		}
		fmt.Fprintf(stdout, "skipped %d described types: %s\n", len(sum.Skipped), strings.Join(s, ", "))
	}
	if regionsOut == "" && out == ec2limits.DefaultTablePath {
		regionsOut = ec2limits.DefaultRegionsPath
	}
	if regionsOut != "" {
		rs, err := ec2limits.RefreshRegions(ctx, client, ec2limits.RegionsOptions{Out: regionsOut, Source: source})
		if err != nil {
			return withCode(ExitError, fmt.Errorf("region table %s unchanged: %w", regionsOut, err))
		}
		fmt.Fprintf(stdout, "refreshed %s from EC2 (%s): %d regions described, %d kept from the previous table\n", regionsOut, source, rs.Described, rs.Kept)
		for _, sk := range rs.Skipped {
			fmt.Fprintf(stdout, "region %s not described: %s\n", sk.Name, sk.Reason)
		}
	}
	if out == ec2limits.DefaultTablePath || regionsOut == ec2limits.DefaultRegionsPath {
		fmt.Fprintln(stdout, "rebuild enigate to embed the refreshed tables")
	}
	return nil
}
