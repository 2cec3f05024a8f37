package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/etl"
)

// etlService runs the ETL inside `serve`: the catch-up of jobs that never
// committed, the cron schedule and the runs the admin API asks for. Their
// runs do not end with the signal that stops the server: on shutdown no
// new run starts, a run in progress gets the grace to finish (it commits
// as usual), and then it is cancelled. A cancelled run is recorded as
// failed; its watermarks do not advance and nothing is published (datasets
// and dashboards change only after a commit); the rows it had loaded are
// replaced by the next run (see etl.Runner). So stopping never leaves a
// half-loaded publication.
type etlService struct {
	r      *etl.Runner
	runCtx context.Context // cancelled when the grace is over
	cancel context.CancelFunc

	mu           sync.Mutex
	closed       bool
	wg           sync.WaitGroup
	stopSchedule func()
}

// abandonBound is how long cancelled runs get to record their failure
// (etl.Runner gives its log write 10 s at most; it takes milliseconds).
const abandonBound = 5 * time.Second

// errStopping refuses runs asked for while the server stops.
var errStopping = errors.New("el servidor se está deteniendo: no se inician ejecuciones")

func newETLService(r *etl.Runner) *etlService {
	ctx, cancel := context.WithCancel(context.Background())
	return &etlService{r: r, runCtx: ctx, cancel: cancel}
}

// enter registers a run unless the service is stopping.
func (e *etlService) enter() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	return true
}

// Run runs a job (server.JobRunner, for the admin API): it ends with
// ctx or with the service's grace, whichever comes first.
func (e *etlService) Run(ctx context.Context, name string) (*etl.RunReport, error) {
	if !e.enter() {
		return nil, errStopping
	}
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.runCtx, cancel)
	defer stop()
	return e.r.Run(ctx, name)
}

// catchUp runs the jobs in the background, one after another; the
// channel is closed when they are done.
func (e *etlService) catchUp(names []string) <-chan struct{} {
	done := make(chan struct{})
	if !e.enter() {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		defer e.wg.Done()
		slog.Info("cargando trabajos que nunca se han ejecutado", "trabajos", len(names))
		e.r.RunJobs(e.runCtx, names, nil)
	}()
	return done
}

// schedule starts the cron schedule; its runs end with the grace too.
func (e *etlService) schedule() error {
	stop, err := e.r.Schedule(e.runCtx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.stopSchedule = stop
	e.mu.Unlock()
	return nil
}

// shutdown stops starting runs, waits for the runs in progress at most
// grace, then cancels them and waits abandonBound more for them to record
// their failure. It returns whether every run ended.
func (e *etlService) shutdown(grace time.Duration) bool {
	e.mu.Lock()
	e.closed = true
	stopSchedule := e.stopSchedule
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		if stopSchedule != nil {
			stopSchedule() // no new firings; waits for the scheduled runs in progress
		}
		e.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		e.cancel()
		return true
	case <-t.C:
	}
	slog.Warn("plazo de apagado cumplido: se cancelan las ejecuciones ETL en curso (quedan registradas como fallidas; la próxima ejecución las repite)", "plazo", grace)
	e.cancel()
	select {
	case <-done:
		return true
	case <-time.After(abandonBound):
		slog.Error("hay ejecuciones ETL que no terminaron tras cancelarlas; se cierra el almacén igualmente")
		return false
	}
}
