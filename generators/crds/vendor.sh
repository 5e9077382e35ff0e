#!/usr/bin/env bash
# Copies the Gateway API CRDs of the sigs.k8s.io/gateway-api module version in go.mod into
# data/gateway-api/<version>/{standard,experimental}/ (embedded and rendered into overlays).
set -euo pipefail
cd "$(dirname "$0")"
dir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)
ver=$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)
out=data/gateway-api/$ver
rm -rf "$out"
for ch in standard experimental; do
  mkdir -p "$out/$ch"
  cp "$dir"/config/crd/$ch/gateway.networking.*.yaml "$out/$ch/"
  chmod 644 "$out/$ch"/*.yaml
done
echo "vendored Gateway API $ver CRDs from sigs.k8s.io/gateway-api@$ver (config/crd) into $out"
