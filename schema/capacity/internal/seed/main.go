// Command seed builds schema/capacity/data/instance-types.txt from the upstream reference files
// (aws/instance-eni-limits.json, aws/instance-baseline-bandwidth-mbps.json). It is how the
// embedded table was first made; `enigate limits refresh` regenerates it from EC2 afterwards.
//
// DIR holds those two files (derived from aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go
// and aws/karpenter-provider-aws pkg/providers/instancetype/zz_generated.bandwidth.go). The vcpus
// and arch columns come from Karpenter's generated instance-type reference (package karpdoc).
//
//	go run ./schema/capacity/internal/seed DIR > schema/capacity/data/instance-types.txt
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/capacity/internal/karpdoc"
)

type eniLimits struct {
	DefaultNetworkCardIndex int    `json:"defaultNetworkCardIndex"`
	ENILimit                int    `json:"eniLimit"`
	HypervisorType          string `json:"hypervisorType"`
	IPv4PerENI              int    `json:"ipv4PerEni"`
	IsBareMetal             bool   `json:"isBareMetal"`
	NetworkCards            []struct {
		MaximumNetworkInterfaces int `json:"maximumNetworkInterfaces"`
		NetworkCardIndex         int `json:"networkCardIndex"`
	} `json:"networkCards"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(2)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: seed REFERENCE_AWS_DIR")
	}
	dir := os.Args[1]
	var limits map[string]eniLimits
	if err := readJSON(filepath.Join(dir, "instance-eni-limits.json"), &limits); err != nil {
		return err
	}
	var bw struct {
		Bandwidth map[string]int `json:"bandwidth"`
	}
	if err := readJSON(filepath.Join(dir, "instance-baseline-bandwidth-mbps.json"), &bw); err != nil {
		return err
	}
	ref, err := karpdoc.Embedded()
	if err != nil {
		return err
	}
	byName := make(map[string]karpdoc.Type, len(ref))
	for _, t := range ref {
		byName[t.Name] = t
	}
	types := make([]capacity.InstanceType, 0, len(limits))
	for name, l := range limits {
		it := capacity.InstanceType{
			Name: name, ENIs: l.ENILimit, IPv4PerENI: l.IPv4PerENI, Hypervisor: l.HypervisorType,
			BareMetal: l.IsBareMetal, DefaultNetworkCard: l.DefaultNetworkCardIndex,
			BaselineBandwidthMbps: bw.Bandwidth[name],
		}
		if kt, ok := byName[name]; ok {
			if it.VCPUs, err = strconv.Atoi(kt.Labels[karpdoc.LabelCPU]); err != nil {
				return fmt.Errorf("%s: %s: %w", name, karpdoc.LabelCPU, err)
			}
			arch, ok := capacity.EC2Architecture(kt.Labels[karpdoc.LabelArch])
			if !ok {
				return fmt.Errorf("%s: %s %q is not amd64 or arm64", name, karpdoc.LabelArch, kt.Labels[karpdoc.LabelArch])
			}
			it.Architectures = []string{arch}
		}
		for _, c := range l.NetworkCards {
			it.NetworkCards = append(it.NetworkCards, capacity.NetworkCard{Index: c.NetworkCardIndex, MaxENIs: c.MaximumNetworkInterfaces})
			if c.NetworkCardIndex == l.DefaultNetworkCardIndex && c.MaximumNetworkInterfaces != l.ENILimit {
				return fmt.Errorf("%s: eniLimit %d differs from the default card's %d", name, l.ENILimit, c.MaximumNetworkInterfaces)
			}
		}
		types = append(types, it)
	}
	header := []string{
		"enigate instance-type limits table (generated; regenerate with `enigate limits refresh`, do not edit).",
		"source: seeded from aws/amazon-vpc-cni-k8s b5218838, derived from pkg/vpc/vpc_ip_resource_limit.go",
		"  (instance-eni-limits.json) and aws/karpenter-provider-aws 1d927085, derived from",
		"  pkg/providers/instancetype/zz_generated.bandwidth.go (instance-baseline-bandwidth-mbps.json, baseline Mbps).",
		"source: vcpus and arch seeded from " + karpdoc.Source + ",",
		"  kubernetes.io/arch amd64 written as EC2's x86_64.",
		"vcpus and arch are unknown (-) for types that reference does not list (Karpenter does not launch them).",
		"enis is MaximumNetworkInterfaces of the default network card; cards lists every card as index:maxENIs.",
	}
	return capacity.WriteTable(os.Stdout, header, types)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
