// Package promcrds holds the Prometheus Operator CRDs of the objects an overlay renders for it,
// vendored unmodified by vendor.sh from the github.com/prometheus-operator/prometheus-operator
// module (example/prometheus-operator-crd/, the version in Version): the ServiceMonitor the
// Cilium chart's monitors need, and the PodMonitor and PrometheusRule of enigate's node verifier.
// They are rendered into an overlay's crds/ when cilium.serviceMonitors is true (the
// declaration's statement that the cluster runs the Prometheus Operator), so `kubectl apply
// --server-side -k crds/` installs them before `helm install cilium` checks for
// monitoring.coreos.com/v1.
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

// The CRD files, as upstream names them.
const (
	ServiceMonitorFile = "monitoring.coreos.com_servicemonitors.yaml"
	PodMonitorFile     = "monitoring.coreos.com_podmonitors.yaml"
	PrometheusRuleFile = "monitoring.coreos.com_prometheusrules.yaml"
)

// File returns one vendored CRD file as upstream ships it.
func File(name string) ([]byte, error) {
	b, err := data.ReadFile(path.Join("data", Version, name))
	if err != nil {
		return nil, fmt.Errorf("prometheus operator %s: %s not vendored: %w", Version, name, err)
	}
	return b, nil
}
