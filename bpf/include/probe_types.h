/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/* Minimal, vmlinux-free definitions for enigate's eBPF programs: only what
 * probe.c uses, so generation needs nothing but clang. */
#ifndef ENIGATE_PROBE_TYPES_H
#define ENIGATE_PROBE_TYPES_H

typedef unsigned int __u32;
typedef unsigned long long __u64;

/* enum bpf_map_type (include/uapi/linux/bpf.h) */
#define BPF_MAP_TYPE_ARRAY 2

/* tcx return codes (include/uapi/linux/bpf.h, enum tcx_action_base) */
#define TCX_NEXT -1

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name

/* Helper 1: void *bpf_map_lookup_elem(void *map, const void *key) */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

/* The program never reads the packet, so the context stays opaque. */
struct __sk_buff;

#endif
