package ec2limits

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/enigate/enigate/schema/eksdata"
)

// DefaultRegionsPath is the embedded region table, relative to the repository root.
const DefaultRegionsPath = "schema/eksdata/data/regions.txt"

// RegionsAPI is what RefreshRegions needs of an EC2 client.
type RegionsAPI interface {
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
}

// RegionsOptions for RefreshRegions.
type RegionsOptions struct {
	// Out is the table file to replace (created if missing).
	Out string
	// Source describes where the data came from, for the header.
	Source string
	// Parallel bounds the regions described at once (default 4); PerRegion bounds each
	// region's call (default 30s).
	Parallel  int
	PerRegion time.Duration
}

// RegionsSummary says what a refresh of the region table did.
type RegionsSummary struct {
	Described int       // regions whose zones EC2 described
	Kept      int       // regions only in the previous table, or not described this time, kept
	Skipped   []Skipped // regions EC2 listed but did not describe (not opted in, errors)
}

// RefreshRegions lists every region (DescribeRegions, AllRegions) and describes the zones of
// each region the account may use (DescribeAvailabilityZones signed for that region, at most
// Parallel at a time; zone type availability-zone, so Local and Wavelength Zones are left
// out). Described regions replace their rows; the others keep theirs. The file is replaced
// atomically, only after everything was fetched; a failure of DescribeRegions or of every
// region leaves it untouched.
func RefreshRegions(ctx context.Context, api RegionsAPI, opts RegionsOptions) (RegionsSummary, error) {
	var sum RegionsSummary
	prev := &eksdata.Regions{}
	data, err := os.ReadFile(opts.Out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return sum, fmt.Errorf("read existing region table: %w", err)
	default:
		if prev, err = eksdata.ParseRegions(data); err != nil {
			return sum, fmt.Errorf("read existing region table %s: %w", opts.Out, err)
		}
	}
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return sum, fmt.Errorf("describe regions: %w", err)
	}
	var names []string
	for _, r := range out.Regions {
		name := aws.ToString(r.RegionName)
		if name == "" {
			continue
		}
		if aws.ToString(r.OptInStatus) == "not-opted-in" {
			sum.Skipped = append(sum.Skipped, Skipped{Name: name, Reason: "not opted in"})
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return sum, errors.New("describe regions: no usable regions returned")
	}
	slices.Sort(names)

	parallel, timeout := opts.Parallel, opts.PerRegion
	if parallel <= 0 {
		parallel = 4
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	zones := make([][]string, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			zones[i], errs[i] = describeZones(rctx, api, name)
		})
	}
	wg.Wait()

	merged := map[string]eksdata.Region{}
	for _, r := range prev.Regions {
		merged[r.Name] = r
	}
	for i, name := range names {
		if errs[i] != nil {
			sum.Skipped = append(sum.Skipped, Skipped{Name: name, Reason: errs[i].Error()})
			continue
		}
		merged[name] = eksdata.Region{Name: name, Zones: zones[i]}
		sum.Described++
	}
	if sum.Described == 0 {
		return sum, fmt.Errorf("describe availability zones: no region answered (%s)", skippedList(sum.Skipped))
	}
	sum.Kept = len(merged) - sum.Described
	regions := make([]eksdata.Region, 0, len(merged))
	for _, r := range merged {
		regions = append(regions, r)
	}
	header := []string{
		"enigate AWS region table (generated; regenerate with `enigate limits refresh`, do not edit).",
		fmt.Sprintf("source: EC2 DescribeRegions + DescribeAvailabilityZones (%s): %d regions described; %d regions kept from the previous table.", opts.Source, sum.Described, sum.Kept),
	}
	for _, l := range prev.Header {
		switch {
		case strings.HasPrefix(l, "enigate AWS region table"):
			continue
		case strings.HasPrefix(l, "source:"):
			l = "previous " + l
		}
		if !slices.Contains(header, l) {
			header = append(header, l)
		}
	}
	if err := writeFileAtomic(opts.Out, func(f *os.File) error { return eksdata.WriteRegions(f, header, regions) }); err != nil {
		return sum, fmt.Errorf("write region table: %w", err)
	}
	return sum, nil
}

// describeZones lists a region's Availability Zones, asking that region's endpoint.
func describeZones(ctx context.Context, api RegionsAPI, region string) ([]string, error) {
	out, err := api.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}, func(o *ec2.Options) { o.Region = region })
	if err != nil {
		return nil, err
	}
	var zones []string
	for _, z := range out.AvailabilityZones {
		if aws.ToString(z.ZoneType) != "availability-zone" || aws.ToString(z.RegionName) != region {
			continue
		}
		if z.State != types.AvailabilityZoneStateAvailable && z.State != "" {
			continue
		}
		zones = append(zones, aws.ToString(z.ZoneName))
	}
	if len(zones) == 0 {
		return nil, errors.New("no availability zones described")
	}
	slices.Sort(zones)
	return zones, nil
}

func skippedList(s []Skipped) string {
	var out []string
	for _, k := range s {
		out = append(out, k.Name+": "+k.Reason)
	}
	return strings.Join(out, "; ")
}

// writeFileAtomic writes through write to a temp file beside path and renames it over path.
func writeFileAtomic(path string, write func(*os.File) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
