package operations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Scheduler runs the scheduled backups and retention passes of one
// observatory process, one at a time (a retention's mutations during a copy
// would be harmless, but two heavy tasks on a small machine are not).
type Scheduler struct {
	Eng       warehouse.Engine
	Cluster   string
	Backup    BackupConfig
	Retention RetentionConfig
	Metrics   *Metrics
	Log       *slog.Logger
	// Now is the clock of the retention passes and the copies' names.
	Now func() time.Time
	// StopWait bounds how long stop waits for a task in progress (default
	// 20 s); the tasks run on the context given to Start, so a cancelled
	// context ends them sooner: a copy stops between chunks and removes
	// its partial folder, a retention pass stops waiting for its mutation.
	StopWait time.Duration

	mu sync.Mutex
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Start schedules the tasks that have a schedule and returns a function
// that stops them, waiting for one in progress.
func (s *Scheduler) Start(ctx context.Context) (stop func(), err error) {
	c := etl.NewCron()
	if s.Retention.Schedule != "" {
		if _, err := c.AddFunc(s.Retention.Schedule, func() { s.RunRetention(ctx, "programador", false) }); err != nil {
			return nil, err
		}
		s.log().Info("retención programada", "cron", s.Retention.Schedule)
	}
	if s.Backup.Schedule != "" {
		if _, err := c.AddFunc(s.Backup.Schedule, func() { s.RunBackup(ctx) }); err != nil {
			return nil, err
		}
		s.log().Info("copias de seguridad programadas", "cron", s.Backup.Schedule, "carpeta", s.Backup.Dir, "conservar", s.Backup.Keep)
	}
	c.Start()
	wait := s.StopWait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	return func() {
		select {
		case <-c.Stop().Done():
		case <-time.After(wait):
			s.log().Warn("una tarea de mantenimiento no terminó al detener el programador")
		}
	}, nil
}

// RunRetention applies the retention policy once.
func (s *Scheduler) RunRetention(ctx context.Context, actor string, dryRun bool) (*RetentionReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Retention{Eng: s.Eng, Cluster: s.Cluster, Policy: s.Retention, Now: s.Now, Log: s.Log, Actor: actor, DryRun: dryRun}
	rep, err := r.Run(ctx)
	if !dryRun {
		s.Metrics.observeRetention(rep, err)
	}
	return rep, err
}

// backupPrefix starts the name of every scheduled copy; rotation deletes
// only folders with this name and a manifest.
const backupPrefix = "observatorio-"

// RunBackup makes a scheduled copy in Backup.Dir and then deletes the
// oldest scheduled copies beyond Backup.Keep. It returns the new copy's
// folder.
func (s *Scheduler) RunBackup(ctx context.Context) (string, *warehouse.BackupManifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.Backup.Dir, backupPrefix+s.now().Format("20060102T150405Z"))
	m, err := warehouse.Backup(ctx, s.Eng, warehouse.BackupOptions{Dir: dir, Cluster: s.Cluster, Compression: s.Backup.Compression, Log: s.Log})
	s.Metrics.observeBackup(m, err)
	if err != nil {
		s.log().Error("copia de seguridad programada fallida", "carpeta", dir, "error", err)
		return "", nil, err
	}
	s.log().Info("copia de seguridad hecha", "carpeta", dir, "tablas", len(m.Tables), "filas", m.TotalRows(), "bytes", m.TotalBytes(), "s", m.Seconds)
	removed, err := Rotate(s.Backup.Dir, s.Backup.Keep, filepath.Base(dir))
	for _, r := range removed {
		s.log().Info("copia antigua borrada", "carpeta", r)
	}
	if err != nil {
		s.log().Error("no se pudieron borrar copias antiguas", "error", err)
	}
	return dir, m, nil
}

// Rotate keeps the newest keep scheduled copies under dir (0 keeps all)
// and deletes the rest; current is never deleted. Only complete copies
// (a folder named observatorio-<time> with a manifest) are counted or
// deleted: anything else in dir is left alone.
func Rotate(dir string, keep int, current string) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var copies []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), backupPrefix) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), warehouse.ManifestFile)); err != nil {
			continue
		}
		copies = append(copies, e.Name())
	}
	sort.Sort(sort.Reverse(sort.StringSlice(copies))) // the names sort by time
	var removed []string
	var errs []error
	for i, name := range copies {
		if i < keep || name == current {
			continue
		}
		path := filepath.Join(dir, name)
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}

// Metrics are the maintenance tasks' Prometheus metrics.
type Metrics struct {
	backups        *prometheus.CounterVec
	backupLastOK   prometheus.Gauge
	backupBytes    prometheus.Gauge
	backupDuration prometheus.Gauge
	retained       *prometheus.CounterVec
	retentionOK    prometheus.Gauge
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		backups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatorio_backups_total", Help: "Copias de seguridad programadas, por resultado (ok, error).",
		}, []string{"result"}),
		backupLastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatorio_backup_last_success_timestamp_seconds", Help: "Hora (Unix) de la última copia de seguridad completa.",
		}),
		backupBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatorio_backup_last_bytes", Help: "Tamaño en disco de la última copia de seguridad completa.",
		}),
		backupDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatorio_backup_last_duration_seconds", Help: "Duración de la última copia de seguridad completa.",
		}),
		retained: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatorio_retention_deleted_rows_total", Help: "Filas borradas por la política de retención, por tabla.",
		}, []string{"table"}),
		retentionOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatorio_retention_last_success_timestamp_seconds", Help: "Hora (Unix) de la última aplicación completa de la política de retención.",
		}),
	}
	reg.MustRegister(m.backups, m.backupLastOK, m.backupBytes, m.backupDuration, m.retained, m.retentionOK)
	return m
}

func (m *Metrics) observeBackup(b *warehouse.BackupManifest, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.backups.WithLabelValues("error").Inc()
		return
	}
	m.backups.WithLabelValues("ok").Inc()
	m.backupLastOK.Set(float64(time.Now().Unix()))
	m.backupBytes.Set(float64(b.TotalBytes()))
	m.backupDuration.Set(b.Seconds)
}

func (m *Metrics) observeRetention(rep *RetentionReport, err error) {
	if m == nil || rep == nil {
		return
	}
	for _, t := range rep.Tables {
		m.retained.WithLabelValues(t.Table).Add(float64(t.Deleted))
	}
	if err == nil {
		m.retentionOK.Set(float64(time.Now().Unix()))
	}
}

// Describe is the one-line account of a retention pass.
func (r *RetentionReport) Describe() string {
	var parts []string
	for _, t := range r.Tables {
		if t.Keep == 0 {
			parts = append(parts, t.Table+": se conserva todo")
			continue
		}
		s := fmt.Sprintf("%s: %d filas anteriores al %s", t.Table, t.Deleted, t.Cutoff.Format("2006-01-02"))
		if t.Err != nil {
			s += " (error: " + t.Err.Error() + ")"
		}
		parts = append(parts, s)
	}
	verb := "borradas"
	if r.DryRun {
		verb = "se borrarían (prueba, nada se borró)"
	}
	return "retención, " + verb + ": " + strings.Join(parts, "; ")
}
