// Package bpf holds enigate's eBPF C sources and their committed bpf2go output
// (little- and big-endian objects), so builds and CI need no clang. Regenerate
// with bpf/generate.sh (make generate).
package bpf

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb Probe probe.c -- -I./include
