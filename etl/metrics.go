package etl

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ETL's Prometheus metrics (served at /metrics).
type Metrics struct {
	runs     *prometheus.CounterVec
	rows     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	lastOK   *prometheus.GaugeVec
	// postCommit counts the tasks after a commit that failed: the rows
	// are in, but a release or a dashboard is behind them.
	postCommit *prometheus.CounterVec
}

// NewMetrics registers the ETL metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatorio_etl_runs_total", Help: "Intentos de ejecución de trabajos ETL, por trabajo y estado.",
		}, []string{"job", "status"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatorio_etl_rows_total", Help: "Filas procesadas por el ETL, por trabajo y resultado (loaded, quarantined, skipped, unchanged).",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "observatorio_etl_run_duration_seconds", Help: "Duración de los intentos de ejecución.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
		}, []string{"job"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "observatorio_etl_last_commit_timestamp_seconds", Help: "Hora (Unix) de la última ejecución confirmada de cada trabajo.",
		}, []string{"job"}),
		postCommit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatorio_etl_post_commit_failures_total", Help: "Tareas posteriores a una ejecución confirmada (publicación, tableros) que fallaron, por trabajo y tarea.",
		}, []string{"job", "task"}),
	}
	reg.MustRegister(m.runs, m.rows, m.duration, m.lastOK, m.postCommit)
	return m
}

func (m *Metrics) observe(rep *RunReport) {
	if m == nil || rep == nil {
		return
	}
	m.runs.WithLabelValues(rep.Job, rep.Status).Inc()
	if rep.Status != StatusCommitted {
		return
	}
	m.rows.WithLabelValues(rep.Job, "loaded").Add(float64(rep.Loaded))
	m.rows.WithLabelValues(rep.Job, "quarantined").Add(float64(rep.Quarantined))
	m.rows.WithLabelValues(rep.Job, "skipped").Add(float64(rep.Skipped))
	m.rows.WithLabelValues(rep.Job, "unchanged").Add(float64(rep.Unchanged))
	m.duration.WithLabelValues(rep.Job).Observe(rep.Finished.Sub(rep.Started).Seconds())
	m.lastOK.WithLabelValues(rep.Job).Set(float64(rep.Finished.Unix()))
}

func (m *Metrics) postCommitFailed(job, task string) {
	if m == nil {
		return
	}
	m.postCommit.WithLabelValues(job, task).Inc()
}
