package promrules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// The series notation of Prometheus's rule unit tests and promqltest ("name{labels} 1x20",
// "0+60x20"), read by Prometheus's own parser.ParseSeriesDesc, one series a line.

// load reads series lines into in-memory series, the i-th value at i*step.
func load(t *testing.T, lines string, step time.Duration) []storage.Series {
	t.Helper()
	var out []storage.Series
	for _, line := range strings.Split(lines, "\n") {
		lset, vals, err := parser.NewParser(parser.Options{}).ParseSeriesDesc(line)
		if err != nil {
			t.Fatalf("series %q: %v", line, err)
		}
		var samples []chunks.Sample
		for i, v := range vals {
			if v.Omitted || v.Histogram != nil {
				continue
			}
			samples = append(samples, sample{t: int64(i) * step.Milliseconds(), f: v.Value})
		}
		out = append(out, storage.NewListSeries(lset, samples))
	}
	return out
}

// expect reads "{labels} value" lines into value by label set.
func expect(t *testing.T, lines string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(lines, "\n") {
		lset, vals, err := parser.NewParser(parser.Options{}).ParseSeriesDesc(line)
		if err != nil || len(vals) != 1 {
			t.Fatalf("expected sample %q: %v", line, err)
		}
		out[lset.String()] = vals[0].Value
	}
	return out
}

// evalInstant evaluates expr at ts over series as Prometheus's rule manager does: an instant
// query of an engine with the options cmd/prometheus/main.go sets (defaults of its flags:
// 5m lookback, 2m timeout, 50M samples, 1m evaluation interval).
func evalInstant(expr string, series []storage.Series, ts time.Duration) (map[string]float64, error) {
	ng := promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  2 * time.Minute,
		LookbackDelta:            5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   parser.NewParser(parser.Options{}),
	})
	defer ng.Close()
	q, err := ng.NewInstantQuery(context.Background(), queryable(series), nil, expr, time.Unix(0, 0).Add(ts))
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		return nil, res.Err
	}
	vec, err := res.Vector()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range vec {
		if s.H != nil {
			return nil, fmt.Errorf("%s: histogram result", s.Metric)
		}
		out[s.Metric.String()] = s.F
	}
	return out, nil
}

// queryable serves series from memory: Select returns those matching every matcher, sorted.
type queryable []storage.Series

func (q queryable) Querier(int64, int64) (storage.Querier, error) { return q, nil }

func (q queryable) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range q {
		if slices.IndexFunc(ms, func(m *labels.Matcher) bool { return !m.Matches(s.Labels().Get(m.Name)) }) < 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &seriesSet{series: out, i: -1}
}

func (queryable) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (queryable) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (queryable) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series              { return s.series[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// sample is one float sample.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                    { return s.t }
func (sample) ST() int64                     { return 0 }
func (s sample) F() float64                  { return s.f }
func (sample) H() *histogram.Histogram       { return nil }
func (sample) FH() *histogram.FloatHistogram { return nil }
func (sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample         { return s }
