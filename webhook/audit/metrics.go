package audit

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics on controller-runtime's registry (served on --metrics-addr at /metrics).
var (
	violations = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "enigate_audit_violations",
		Help: "Failing results of the last audit pass by namespace (\"\" for Nodes and CiliumNodes) and rule (hostname, parent-ref, capacity, hostname-conflict, ...).",
	}, []string{"namespace", "rule"})
	objectsAudited = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "enigate_audit_objects",
		Help: "Objects judged by the last audit pass.",
	})
	passSeconds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "enigate_audit_pass_duration_seconds",
		Help: "Duration of the last audit pass (list from cache, judge, publish).",
	})
	passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "enigate_audit_passes_total",
		Help: "Audit passes by result (ok, error). A pass errs when no policy is loaded or reports cannot be written.",
	}, []string{"result"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(violations, objectsAudited, passSeconds, passes)
}

// setViolations replaces the gauge's series with counts (namespace, rule -> n).
func setViolations(counts map[[2]string]int) {
	violations.Reset()
	for k, n := range counts {
		violations.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
}
