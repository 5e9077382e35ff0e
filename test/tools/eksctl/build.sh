#!/usr/bin/env bash
# build.sh OUT — build the real eksctl (github.com/weaveworks/eksctl/cmd/eksctl at the version
# this module's go.mod requires, through the Go module proxy) into OUT, unless OUT exists.
# Progress and the build time go to stderr.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUT" >&2
	exit 2
fi
out=$1
if [[ -x "$out" ]]; then
	echo "eksctl: $out exists, skipping" >&2
	exit 0
fi
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
echo "eksctl: building $out ..." >&2
start=$SECONDS
# PreReleaseID empty: the binary reports the release version (eksctl's Makefile sets it too).
(cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X github.com/weaveworks/eksctl/pkg/version.PreReleaseID=" \
	-o "$out.tmp" github.com/weaveworks/eksctl/cmd/eksctl)
mv "$out.tmp" "$out"
echo "eksctl: built in $((SECONDS - start))s" >&2
