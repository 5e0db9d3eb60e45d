package collector

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what GET /metrics serves, in Prometheus's text format:
// counts and latencies of the collector's own work, never anything about
// a person or a report's content. Each Collector has its own registry, so
// several in one process (tests, the demo) do not collide.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec   // by endpoint and status
	latency   *prometheus.HistogramVec // by endpoint
	commits   *prometheus.CounterVec   // by result
	commitDur prometheus.Histogram
	batch     prometheus.Histogram
	// outcomeAnswers counts the experiments' outcome answers stored.
	outcomeAnswers prometheus.Counter

	log     *slog.Logger
	failing atomic.Bool // the last commit failed
}

func newMetrics(c *Collector) *metrics {
	m := &metrics{
		log:      c.log,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgewise_collector_requests_total",
			Help: "HTTP requests answered, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgewise_collector_request_seconds",
			Help:    "Time to answer an HTTP request, by endpoint; a report's includes waiting for its batch to commit.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgewise_collector_commits_total",
			Help: "Batches of reports written in one transaction, by result (ok or error).",
		}, []string{"result"}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgewise_collector_commit_seconds",
			Help:    "Time to write one batch of reports, from the transaction's start to its commit.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 5},
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgewise_collector_batch_reports",
			Help:    "Reports in one committed batch (group commit).",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		outcomeAnswers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgewise_collector_outcome_answers_total",
			Help: "Experiment outcome answers stored (a report carries one per experiment it answers for).",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.commits, m.commitDur, m.batch, m.outcomeAnswers,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgewise_collector_queue_reports",
			Help: "Reports waiting for the writer.",
		}, func() float64 { return float64(len(c.w.queue)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgewise_collector_database_up",
			Help: "1 when the database answered a ping at this scrape, else 0.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if c.store.ping(ctx) != nil {
				return 0
			}
			return 1
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) commitDone(reports int, took time.Duration, err error) {
	// The log says when writing starts failing and when it recovers, not
	// every failed batch of an outage. Errors come from the database
	// driver and never hold a report.
	if failing := err != nil; failing != m.failing.Swap(failing) {
		if failing {
			m.log.Error("collector: cannot write reports; answering 503 until the database is back", "err", err)
		} else {
			m.log.Info("collector: writing reports again")
		}
	}
	if err != nil {
		m.commits.WithLabelValues("error").Inc()
		return
	}
	m.commits.WithLabelValues("ok").Inc()
	m.commitDur.Observe(took.Seconds())
	m.batch.Observe(float64(reports))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// instrument counts and times the requests of one endpoint.
func (m *metrics) instrument(endpoint string, next http.HandlerFunc) http.Handler {
	labels := prometheus.Labels{"endpoint": endpoint}
	return promhttp.InstrumentHandlerDuration(m.latency.MustCurryWith(labels),
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels), next))
}
