package server

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// HeavyQueries caps the warehouse queries that public requests run at
// once. Whatever a request answers from a cache (dashboards, release
// files kept on disk) runs no query and takes no turn; what reaches the
// warehouse (cold chart data and pages, filtered exports and diffs,
// release files read from the warehouse, the JSON and CKAN APIs, the
// catalog's metadata lookups) waits for a turn at most Wait, then gets
// 503 with Retry-After. A query holds its turn while it runs: a streamed
// export, until its last byte is written.
type HeavyQueries struct {
	// Max is the number of queries at once (≤ 0: no cap).
	Max int `yaml:"max"`
	// Wait is how long a query waits for a turn before the request is
	// answered 503.
	Wait time.Duration `yaml:"wait"`
}

// DefaultHeavyQueries suits the embedded engine's default pool of four
// connections: three for the web, one always left for the ETL and the
// readiness probe. The configuration derives Max from the warehouse's
// connections (config.Load).
func DefaultHeavyQueries() HeavyQueries { return HeavyQueries{Max: 3, Wait: 2 * time.Second} }

// Validate checks the settings.
func (h HeavyQueries) Validate() error {
	if h.Wait < 0 {
		return fmt.Errorf("http.heavy_queries.wait no puede ser negativo")
	}
	return nil
}

// gate hands out the turns.
type gate struct {
	sem      chan struct{}
	wait     time.Duration
	inflight prometheus.Gauge
	rejected prometheus.Counter
}

func newGate(h HeavyQueries, reg *prometheus.Registry) *gate {
	if h.Max <= 0 {
		return nil
	}
	return &gate{
		sem:  make(chan struct{}, h.Max),
		wait: h.Wait,
		inflight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatorio_consultas_pesadas_en_curso",
			Help: "Consultas al almacén de solicitudes públicas en curso (con turno).",
		})),
		rejected: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "observatorio_consultas_pesadas_rechazadas_total",
			Help: "Solicitudes respondidas con 503 porque no hubo turno para su consulta al almacén a tiempo.",
		})),
	}
}

// enter waits for a turn, at most g.wait; leave gives it back.
func (g *gate) enter(ctx context.Context) (leave func(), err error) {
	select {
	case g.sem <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.sem <- struct{}{}:
		case <-t.C:
			g.rejected.Inc()
			return nil, &warehouse.BusyError{RetryAfter: g.retryAfter()}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	g.inflight.Inc()
	return func() {
		g.inflight.Dec()
		<-g.sem
	}, nil
}

// retryAfter: no turn came within the wait, so the queue is longer than
// one wait; two to three waits spread the retries of the clients turned
// away together.
func (g *gate) retryAfter() time.Duration {
	return 2*g.wait + rand.N(g.wait+1)
}

type gateKey struct{}

// withGate marks a request's context: its warehouse queries take turns.
func withGate(ctx context.Context, g *gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// gatedEngine is the warehouse as the handlers see it: queries and streams
// made for a marked request (withGate) take a turn; everything else
// (background refreshes, counters, the admin API, the readiness probe's
// ping) passes through. Computations that outlive their request (the
// dashboards' cache fills) keep its context's values and so its turns.
type gatedEngine struct{ warehouse.Engine }

// Unwrap lets warehouse.Down see the watched engine under the gate.
func (e gatedEngine) Unwrap() warehouse.Engine { return e.Engine }

func enterGate(ctx context.Context) (func(), error) {
	g, _ := ctx.Value(gateKey{}).(*gate)
	if g == nil {
		return func() {}, nil
	}
	return g.enter(ctx)
}

func (e gatedEngine) Query(ctx context.Context, sql string, params ...warehouse.Param) (*warehouse.Result, error) {
	leave, err := enterGate(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	return e.Engine.Query(ctx, sql, params...)
}

func (e gatedEngine) Stream(ctx context.Context, w io.Writer, format, sql string, params ...warehouse.Param) error {
	leave, err := enterGate(ctx)
	if err != nil {
		return err
	}
	defer leave()
	return e.Engine.Stream(ctx, w, format, sql, params...)
}
