// Package ec2limits regenerates the capacity package's instance-type table from EC2
// DescribeInstanceTypes (aws-sdk-go-v2, paginated; throttling is retried by the SDK's
// retryer). The table file is replaced only after every page arrived and the result was
// written in full (temp file + rename); any failure leaves it untouched.
package ec2limits

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/enigate/enigate/schema/capacity"
)

// DefaultTablePath is the embedded table, relative to the repository root.
const DefaultTablePath = "schema/capacity/data/instance-types.txt"

// NewClient builds an EC2 client from the usual AWS configuration sources (environment,
// shared config, SSO, IMDS). region and endpoint override them when set.
func NewClient(ctx context.Context, region, endpoint string) (*ec2.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("aws config: no region (set --region or AWS_REGION)")
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Skipped is a described type left out of the table, and why.
type Skipped struct {
	Name   string
	Reason string
}

// Fetch describes every instance type, page by page, and converts each.
func Fetch(ctx context.Context, api ec2.DescribeInstanceTypesAPIClient) ([]capacity.InstanceType, []Skipped, error) {
	p := ec2.NewDescribeInstanceTypesPaginator(api, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(100)})
	var out []capacity.InstanceType
	var skipped []Skipped
	for page := 1; p.HasMorePages(); page++ {
		resp, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("describe instance types: page %d: %w", page, err)
		}
		for _, info := range resp.InstanceTypes {
			it, err := Convert(info)
			if err != nil {
				skipped = append(skipped, Skipped{Name: string(info.InstanceType), Reason: err.Error()})
				continue
			}
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil, skipped, errors.New("describe instance types: no usable instance types returned")
	}
	return out, skipped, nil
}

// Convert maps one DescribeInstanceTypes item to a table row: the default network card's
// MaximumNetworkInterfaces, Ipv4AddressesPerInterface, vCPUs, architectures, hypervisor,
// bare metal, every card, and the summed cards' baseline bandwidth.
func Convert(info types.InstanceTypeInfo) (capacity.InstanceType, error) {
	it := capacity.InstanceType{
		Name:       string(info.InstanceType),
		Hypervisor: string(info.Hypervisor),
		BareMetal:  aws.ToBool(info.BareMetal),
	}
	if it.Name == "" {
		return it, errors.New("no instanceType")
	}
	if it.Hypervisor == "" {
		it.Hypervisor = "unknown"
	}
	if info.VCpuInfo != nil {
		it.VCPUs = int(aws.ToInt32(info.VCpuInfo.DefaultVCpus))
	}
	if info.ProcessorInfo != nil {
		for _, a := range info.ProcessorInfo.SupportedArchitectures {
			it.Architectures = append(it.Architectures, string(a))
		}
		slices.Sort(it.Architectures)
	}
	ni := info.NetworkInfo
	if ni == nil {
		return it, errors.New("no networkInfo")
	}
	it.IPv4PerENI = int(aws.ToInt32(ni.Ipv4AddressesPerInterface))
	it.DefaultNetworkCard = int(aws.ToInt32(ni.DefaultNetworkCardIndex))
	var gbps float64
	found := false
	for _, c := range ni.NetworkCards {
		card := capacity.NetworkCard{Index: int(aws.ToInt32(c.NetworkCardIndex)), MaxENIs: int(aws.ToInt32(c.MaximumNetworkInterfaces))}
		it.NetworkCards = append(it.NetworkCards, card)
		if card.Index == it.DefaultNetworkCard {
			it.ENIs, found = card.MaxENIs, true
		}
		gbps += aws.ToFloat64(c.BaselineBandwidthInGbps)
	}
	if !found {
		if len(ni.NetworkCards) > 0 {
			return it, fmt.Errorf("default network card %d not among networkCards", it.DefaultNetworkCard)
		}
		it.ENIs = int(aws.ToInt32(ni.MaximumNetworkInterfaces))
		it.NetworkCards = []capacity.NetworkCard{{Index: it.DefaultNetworkCard, MaxENIs: it.ENIs}}
	}
	slices.SortFunc(it.NetworkCards, func(a, b capacity.NetworkCard) int { return a.Index - b.Index })
	it.BaselineBandwidthMbps = int(math.Round(gbps * 1000))
	if it.ENIs < 1 || it.IPv4PerENI < 1 {
		return it, fmt.Errorf("%d ENIs x %d IPv4 per ENI", it.ENIs, it.IPv4PerENI)
	}
	return it, nil
}

// Options for Refresh.
type Options struct {
	// Out is the table file to replace (created if missing).
	Out string
	// Source describes where the data came from, for the header (e.g. "region eu-west-1").
	Source string
}

// Summary says what a refresh did.
type Summary struct {
	Described int       // types EC2 described and the table now holds from it
	Kept      int       // types only in the previous table, kept as they were
	Added     int       // described types the previous table lacked
	Changed   int       // described types whose row changed
	Skipped   []Skipped // described types left out
}

// Refresh fetches every type and merges it over the table at opts.Out: described types
// replace their rows, types EC2 did not describe (not offered in the region) are kept. The
// file is replaced atomically, only after everything succeeded.
func Refresh(ctx context.Context, api ec2.DescribeInstanceTypesAPIClient, opts Options) (Summary, error) {
	var sum Summary
	var prev *capacity.Table
	data, err := os.ReadFile(opts.Out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		prev = &capacity.Table{}
	case err != nil:
		return sum, fmt.Errorf("read existing table: %w", err)
	default:
		if prev, err = capacity.ParseTable(data); err != nil {
			return sum, fmt.Errorf("read existing table %s: %w", opts.Out, err)
		}
	}
	fetched, skipped, err := Fetch(ctx, api)
	if err != nil {
		return sum, err
	}
	sum.Skipped, sum.Described = skipped, len(fetched)
	merged := make([]capacity.InstanceType, 0, len(fetched)+len(prev.Types))
	described := make(map[string]bool, len(fetched))
	for _, it := range fetched {
		described[it.Name] = true
		old, ok := prev.Lookup(it.Name)
		switch {
		case !ok:
			sum.Added++
		case !sameRow(old, it):
			sum.Changed++
		}
		if it.BaselineBandwidthMbps == 0 && ok {
			it.BaselineBandwidthMbps = old.BaselineBandwidthMbps
		}
		merged = append(merged, it)
	}
	for _, it := range prev.Types {
		if !described[it.Name] {
			merged = append(merged, it)
			sum.Kept++
		}
	}
	header := refreshedHeader(prev.Header, opts.Source, sum)
	if err := writeAtomic(opts.Out, header, merged); err != nil {
		return sum, err
	}
	return sum, nil
}

func sameRow(a, b capacity.InstanceType) bool {
	return a.ENIs == b.ENIs && a.IPv4PerENI == b.IPv4PerENI && a.Hypervisor == b.Hypervisor &&
		a.BareMetal == b.BareMetal && a.DefaultNetworkCard == b.DefaultNetworkCard &&
		slices.Equal(a.NetworkCards, b.NetworkCards) && a.VCPUs == b.VCPUs && slices.Equal(a.Architectures, b.Architectures)
}

// refreshedHeader keeps the previous provenance (as "previous source:" lines) and adds this one.
func refreshedHeader(prev []string, source string, sum Summary) []string {
	h := []string{
		"enigate instance-type limits table (generated; regenerate with `enigate limits refresh`, do not edit).",
		fmt.Sprintf("source: EC2 DescribeInstanceTypes (%s): %d types described; %d types kept from the previous table.", source, sum.Described, sum.Kept),
	}
	for _, l := range prev {
		switch {
		case strings.HasPrefix(l, "enigate instance-type limits table"), strings.HasPrefix(l, "vcpus and arch"), strings.HasPrefix(l, "enis is"):
			continue
		case strings.HasPrefix(l, "source:"):
			l = "previous " + l
		}
		if !slices.Contains(h, l) {
			h = append(h, l)
		}
	}
	return append(h,
		"vcpus and arch are unknown (-) for rows that no refresh has described.",
		"enis is MaximumNetworkInterfaces of the default network card; cards lists every card as index:maxENIs.")
}

// writeAtomic writes the table to a temp file beside path and renames it over path.
func writeAtomic(path string, header []string, types []capacity.InstanceType) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = capacity.WriteTable(f, header, types); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
