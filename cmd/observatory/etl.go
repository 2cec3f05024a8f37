package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/config"
	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// newRunner builds the ETL runner for a configuration and an open warehouse.
func newRunner(cfg config.Config, eng warehouse.Engine, reg prometheus.Registerer) (*etl.Runner, error) {
	key, generated, err := etl.KeyFromEnv(cfg.Demo)
	if err != nil {
		return nil, err
	}
	if generated {
		slog.Warn("modo demostración: clave de seudonimización generada al azar para este proceso; en producción defina OBSERVATORIO_PSEUDONYM_KEY")
	}
	p, err := etl.NewPseudonymizer(key)
	if err != nil {
		return nil, err
	}
	rules, err := liquidation.EmbeddedRules()
	if err != nil {
		return nil, err
	}
	r := &etl.Runner{Eng: eng, Pseudo: p, Rules: rules, Config: cfg.ETL, Cluster: cfg.Warehouse.Cluster}
	// Each committed run makes new releases of the datasets it changed,
	// and new dashboard aggregates (pages never query the fact tables).
	// Both read the liquidations' balances of the same runs: the
	// publication builds them, the refresh reads them when it needs the
	// same (no payment dated after today), and drops them. Jobs commit
	// concurrently under the scheduler, so each commit has its own.
	balances := &balancesByRun{}
	r.OnCommit = append(r.OnCommit, etl.CommitHook{Name: "publicación de conjuntos de datos", Run: func(ctx context.Context, rep *etl.RunReport) error {
		// The cut-off must cover the run: a run that starts and commits
		// within one second records finished_at one second after its start
		// (so that its committed row replaces the running one), which can
		// be ahead of the clock; with "now" as the cut-off its rows were
		// left out of this release and the next start published another
		// (seen in TestObservatoryKilled). Runs commit one after another,
		// so the last one's finished_at covers the batch.
		cutoff := time.Now()
		if rep.Finished.After(cutoff) {
			cutoff = rep.Finished
		}
		_, err := datasets.Publish(ctx, eng, datasets.PublishOptions{RunID: rep.RunID, Cutoff: cutoff, Balances: balances.of(rep.RunID)})
		return err
	}}, etl.CommitHook{Name: "agregados de los tableros", Run: func(ctx context.Context, rep *etl.RunReport) error {
		defer dashboards.Invalidate()
		defer balances.done(ctx, rep.RunID)
		_, err := dashboards.Refresh(ctx, eng, dashboards.RefreshOptions{K: datasets.DefaultK, Balances: balances.of(rep.RunID)})
		return err
	}})
	if reg != nil {
		r.Metrics = etl.NewMetrics(reg)
	}
	return r, nil
}

// balancesByRun keeps the balances of each commit's publication for its
// refresh.
type balancesByRun struct {
	mu sync.Mutex
	m  map[string]*analytics.SharedBalances
}

func (b *balancesByRun) of(run string) *analytics.SharedBalances {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*analytics.SharedBalances{}
	}
	if b.m[run] == nil {
		b.m[run] = &analytics.SharedBalances{}
	}
	return b.m[run]
}

// done drops the commit's balances: its last reader is done.
func (b *balancesByRun) done(ctx context.Context, run string) {
	b.mu.Lock()
	s := b.m[run]
	delete(b.m, run)
	b.mu.Unlock()
	if s != nil {
		s.Drop(ctx)
	}
}

func etlCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "run" && args[0] != "status") {
		return errors.New("uso: observatory etl run [--config ARCHIVO] [TRABAJO...] | observatory etl status [--config ARCHIVO] [-n N]")
	}
	fs := flag.NewFlagSet("etl "+args[0], flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	n := fs.Int("n", 20, "status: cuántas ejecuciones mostrar")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, eng, err := open(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := prepare(ctx, cfg, eng); err != nil {
		return err
	}
	if args[0] == "status" {
		runs, err := etl.LastRuns(ctx, eng, *n)
		if err != nil {
			return err
		}
		etl.WriteStatus(stdout, runs, cfg.ETL.Next(time.Now()))
		return nil
	}
	jobs := fs.Args()
	if len(jobs) == 0 {
		for _, j := range cfg.ETL.Jobs {
			jobs = append(jobs, j.Name)
		}
	}
	if len(jobs) == 0 {
		return errors.New("la configuración no declara trabajos ETL (etl.jobs)")
	}
	r, err := newRunner(cfg, eng, nil)
	if err != nil {
		return err
	}
	bar := newProgressBar(stderr)
	r.Progress = bar.update
	failed, postCommit := r.RunJobs(ctx, jobs, func(rep *etl.RunReport, err error) {
		bar.clear()
		switch {
		case rep != nil:
			fmt.Fprintln(stdout, rep.Summary())
		case err != nil:
			fmt.Fprintf(stdout, "%v\n", err)
		}
	})
	if failed > 0 {
		return errors.Join(fmt.Errorf("%d de %d trabajos fallaron", failed, len(jobs)), postCommit)
	}
	// The rows are committed, but a release or the dashboards are behind
	// them: an operator's script must see it, not only the log.
	return postCommit
}

// progressBar redraws one status line on a terminal; elsewhere (a log
// file, CI) it stays silent and the summary lines tell.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, tty: tty, start: time.Now()}
}

func (b *progressBar) update(p etl.Progress) {
	if !b.tty {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	secs := now.Sub(b.start).Seconds()
	rate := float64(p.Read) / max(secs, 0.001)
	fmt.Fprintf(b.w, "\r\033[K%s · %s: %d leídas, %d cargadas, %d en cuarentena · %.1f MB · %.0f filas/s",
		p.Job, p.Source, p.Read, p.Loaded, p.Quarantined, float64(p.Bytes)/1e6, rate)
}

func (b *progressBar) clear() {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
	b.start = time.Now()
}
