// Package promcrds holds the Prometheus Operator CRDs the Cilium chart's ServiceMonitors need,
// vendored unmodified by vendor.sh from the github.com/prometheus-operator/prometheus-operator
// module (example/prometheus-operator-crd/, the version in Version). They are rendered into an
// overlay's crds/ when cilium.serviceMonitors is true, so `kubectl apply --server-side -k
// crds/` installs them before `helm install cilium` checks for monitoring.coreos.com/v1.
package promcrds

import (
	"embed"
	"fmt"
	"path"
)

// Version is the vendored prometheus-operator release.
const Version = "v0.85.0"

//go:embed data
var data embed.FS

// ServiceMonitorFile is the CRD's file name, as upstream names it.
const ServiceMonitorFile = "monitoring.coreos.com_servicemonitors.yaml"

// ServiceMonitor returns the ServiceMonitor CRD (monitoring.coreos.com/v1) as upstream ships it.
func ServiceMonitor() ([]byte, error) {
	b, err := data.ReadFile(path.Join("data", Version, ServiceMonitorFile))
	if err != nil {
		return nil, fmt.Errorf("prometheus operator %s: servicemonitors crd not vendored: %w", Version, err)
	}
	return b, nil
}
