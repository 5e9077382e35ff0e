package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics on controller-runtime's registry (served on --metrics-addr at /metrics).
var (
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "enigate_webhook_decisions_total",
		Help: "Admission decisions by kind, rule and result (allowed, denied, warned, error). Allowed decisions carry rule=\"\"; each denying rule is counted.",
	}, []string{"kind", "rule", "result"})
	decisionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "enigate_webhook_decision_duration_seconds",
		Help:    "Time to decide one admission request in the handler (decode, rules, response).",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1, 1},
	}, []string{"kind"})
	policyLoads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "enigate_webhook_policy_loads_total",
		Help: "Policy load attempts by result (ok, error). A failed load keeps the last good policy.",
	}, []string{"result"})
	policyCurrent = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "enigate_webhook_policy_current",
		Help: "1 when the last policy load succeeded, 0 when the webhook serves an older good policy (or none).",
	})
	policyTeams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "enigate_webhook_policy_teams",
		Help: "Teams in the policy in force.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(decisions, decisionSeconds, policyLoads, policyCurrent, policyTeams)
}
