#!/usr/bin/env bash
# Copies Karpenter's CRDs of VERSION, unmodified, from the github.com/aws/karpenter-provider-aws
# module zip (pkg/apis/crds/) into data/<version>/crds (embedded: rendered into crds/, and the
# offline and envtest validation of the rendered NodePools and EC2NodeClasses use them).
# The module's go directive may be newer than the local toolchain: `go mod download` still
# stores the zip (and reports that as its Error), so the zip is read directly.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=${VERSION:-v1.14.3}
zip=$({ go mod download -json "github.com/aws/karpenter-provider-aws@$VERSION" 2>/dev/null || true; } | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')
[ -f "$zip" ] || { echo "karpenter-provider-aws@$VERSION: module zip not downloaded" >&2; exit 2; }
out=data/${VERSION#v}/crds
rm -rf "$out"
mkdir -p "$out"
unzip -q -j -o "$zip" "github.com/aws/karpenter-provider-aws@$VERSION/pkg/apis/crds/*.yaml" -d "$out"
chmod 644 "$out"/*.yaml
echo "vendored Karpenter CRDs from github.com/aws/karpenter-provider-aws@$VERSION (pkg/apis/crds) into $out"
