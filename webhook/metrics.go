package webhook

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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

// registerRuntimeMetrics adds the Go runtime and process collectors (go_*, process_*) to the
// registry, as controller-runtime's controller package does in its init. enigate imports
// controller-runtime's manager, not that package, so that every enigate command does not pay
// for them at start; the webhook registers them when it runs.
var registerRuntimeMetrics = sync.OnceFunc(func() {
	for _, c := range []prometheus.Collector{
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
	} {
		if err := ctrlmetrics.Registry.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err) // static collectors; cannot fail
		}
	}
})
