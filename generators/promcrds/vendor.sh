#!/usr/bin/env bash
# Copies the Prometheus Operator CRDs enigate renders objects of (ServiceMonitor, PodMonitor,
# PrometheusRule) of VERSION, unmodified, from the github.com/prometheus-operator/prometheus-operator
# module zip (example/prometheus-operator-crd/) into data/<version>/ (embedded, rendered into crds/).
set -euo pipefail
cd "$(dirname "$0")"
VERSION=${VERSION:-v0.85.0}
dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
out=data/$VERSION
rm -rf data
mkdir -p "$out"
for kind in servicemonitors podmonitors prometheusrules; do
	cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$out/"
done
chmod 644 "$out"/*.yaml
echo "vendored ServiceMonitor, PodMonitor, PrometheusRule CRDs from github.com/prometheus-operator/prometheus-operator@$VERSION (example/prometheus-operator-crd) into $out"
