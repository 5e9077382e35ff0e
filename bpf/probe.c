//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
// enigate's traffic probe: attached with tcx at the head of a device's ingress
// chain, it counts packets and always hands them on (TCX_NEXT), so it never
// changes what the datapath behind it decides.
#include "probe_types.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} enigate_probe_packets SEC(".maps");

SEC("tc")
int enigate_probe(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&enigate_probe_packets, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return TCX_NEXT;
}

char __license[] SEC("license") = "Dual MIT/GPL";
