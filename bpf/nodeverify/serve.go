package nodeverify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/enigate/enigate/bpf/datapath"
)

// Metrics are the node verifier's Prometheus series.
type Metrics struct {
	Registry *prometheus.Registry
	check    *prometheus.GaugeVec
	failing  prometheus.Gauge
	canRun   prometheus.Gauge
	lastRun  prometheus.Gauge
	duration prometheus.Gauge
}

// NewMetrics registers the series in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		check: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "enigate_node_verify_check",
			Help: "1 for the current status of each datapath check (labels check, status).",
		}, []string{"check", "status"}),
		failing:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "enigate_node_verify_failing_checks", Help: "Checks failing in the last run (drift when > 0)."}),
		canRun:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "enigate_node_verify_up", Help: "1 when the last run could verify the node, 0 when it could not run."}),
		lastRun:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "enigate_node_verify_last_run_timestamp_seconds", Help: "Unix time of the last run."}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "enigate_node_verify_duration_seconds", Help: "Duration of the last run, probe window included."}),
	}
	m.Registry.MustRegister(m.check, m.failing, m.canRun, m.lastRun, m.duration)
	return m
}

// Record publishes one run.
func (m *Metrics) Record(r datapath.Report, err error, took time.Duration, now time.Time) {
	m.check.Reset()
	for _, c := range r.Checks {
		m.check.WithLabelValues(c.Name, string(c.Status)).Set(1)
	}
	m.failing.Set(float64(r.Summary.Fail))
	if err != nil {
		m.canRun.Set(0)
	} else {
		m.canRun.Set(1)
	}
	m.lastRun.Set(float64(now.Unix()))
	m.duration.Set(took.Seconds())
}

// Serve verifies every interval until ctx ends, writing each report as one JSON line to w (the
// pod log) and serving metrics on metricsAddr (empty: no listener). It returns nil when ctx ends.
func Serve(ctx context.Context, o Options, interval time.Duration, metricsAddr string, w io.Writer) error {
	if interval <= 0 {
		return fmt.Errorf("--interval: must be positive")
	}
	if _, err := Load(o); err != nil {
		return fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	m := NewMetrics()
	if metricsAddr != "" {
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("%w: metrics listener: %w", ErrCannotRun, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}
	enc := json.NewEncoder(w)
	for {
		start := time.Now()
		r, err := Verify(ctx, o)
		m.Record(r, err, time.Since(start), time.Now())
		line := struct {
			datapath.Report
			Error string `json:"error,omitempty"`
		}{Report: r}
		if err != nil {
			line.Error = err.Error()
		}
		if werr := enc.Encode(line); werr != nil {
			return werr
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
