#!/usr/bin/env bash
# Copies the Gateway API CRDs of a sigs.k8s.io/gateway-api module version (the argument, else
# the version in go.mod) from the Go module proxy into data/gateway-api/<version>/{standard,
# experimental}/ (embedded and rendered into overlays). The CRD files only: the
# safe-upgrades ValidatingAdmissionPolicy that v1.5+ bundles beside them is not a CRD.
set -euo pipefail
cd "$(dirname "$0")"
ver=${1:-$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)}
dir=$(go mod download -json "sigs.k8s.io/gateway-api@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
out=data/gateway-api/$ver
rm -rf "$out"
for ch in standard experimental; do
  mkdir -p "$out/$ch"
  for f in "$dir"/config/crd/$ch/gateway.networking.*.yaml; do
    case $f in *_vap_*) continue ;; esac
    cp "$f" "$out/$ch/"
  done
  chmod 644 "$out/$ch"/*.yaml
done
echo "vendored Gateway API $ver CRDs from sigs.k8s.io/gateway-api@$ver (config/crd) into $out"
