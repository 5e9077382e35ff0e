#!/usr/bin/env bash
# Regenerates enigate's eBPF objects (bpf/*_bpfel.{go,o}, *_bpfeb.{go,o}) with bpf2go.
# Installs clang/llvm/libbpf-dev from apt when clang is missing. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null 2>&1 || ! command -v llvm-strip >/dev/null 2>&1; then
	echo "bpf/generate.sh: installing clang llvm libbpf-dev" >&2
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang llvm libbpf-dev >/dev/null
fi
go generate ./bpf/...
