#!/usr/bin/env bash
# Copies the Prometheus Operator ServiceMonitor CRD of VERSION, unmodified, from the
# github.com/prometheus-operator/prometheus-operator module zip
# (example/prometheus-operator-crd/) into data/<version>/ (embedded, rendered into crds/).
set -euo pipefail
cd "$(dirname "$0")"
VERSION=${VERSION:-v0.85.0}
dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
out=data/$VERSION
rm -rf data
mkdir -p "$out"
cp "$dir"/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml "$out/"
chmod 644 "$out"/*.yaml
echo "vendored ServiceMonitor CRD from github.com/prometheus-operator/prometheus-operator@$VERSION (example/prometheus-operator-crd) into $out"
