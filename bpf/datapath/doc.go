// Package datapath is node verify's pure core: what the rendered Cilium values imply for a
// node's eBPF datapath (ParseValues, Expected: the Spec, with the pinned chart's defaults),
// what a node has (Observation, filled by bpf/observe and bpf/probe), the diff of the two
// (Diff: one named check each) and the report in text, JSON and metrics. No I/O.
package datapath
