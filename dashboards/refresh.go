package dashboards

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// aggregate is one precomputed table: the live query that fills it, the
// query that reads one version back, and its columns.
type aggregate struct {
	Table, Live, Read string
	Columns           []string
	Cutoff            bool // the live query takes the cut-off date
}

var aggregates = []aggregate{
	{"dash_agg_meses", "dash_recaudo_mes", "dash_leer_meses", []string{"mes", "codigo_municipio", "impuesto", "pagos", "recaudo"}, false},
	{"dash_agg_vigencias", "dash_recaudo_vigencia", "dash_leer_vigencias", []string{"vigencia", "codigo_municipio", "impuesto", "liquidaciones", "facturado", "pagos", "recaudado"}, false},
	{"dash_agg_canales_pagos", "dash_canales_pagos", "dash_leer_canales_pagos", []string{"trimestre", "codigo_municipio", "impuesto", "canal", "pagos", "monto"}, false},
	{"dash_agg_declaraciones", "dash_canales_declaraciones", "dash_leer_declaraciones", []string{"trimestre", "codigo_municipio", "impuesto", "canal", "declaraciones"}, false},
	{"dash_agg_verificacion", "dash_verificacion", "dash_leer_verificacion", []string{"vigencia", "codigo_municipio", "impuesto", "estado", "liquidaciones", "facturado", "esperado", "de_mas", "de_menos"}, false},
	{"dash_agg_cartera", "dash_cartera", "dash_leer_cartera", []string{"vigencia", "codigo_municipio", "impuesto", "tramo", "liquidaciones", "saldo"}, true},
}

func aggregateFor(live string) *aggregate {
	for i := range aggregates {
		if aggregates[i].Live == live {
			return &aggregates[i]
		}
	}
	return nil
}

// RefreshOptions configure Refresh.
type RefreshOptions struct {
	// K is the disclosure threshold (distinct taxpayers behind an amount).
	K int
	// Now is the clock; the arrears are computed at its date in Colombia.
	Now func() time.Time
	// Keep is how many versions to keep (default 2: the new one and the
	// one readers may still be using).
	Keep int
	// Balances, when set, may hold the liquidations' balances a
	// publication of the same commit built (analytics.SharedBalances): the
	// refresh reads them when they hold its snapshot, and leaves dropping
	// them to the owner. nil: the refresh builds its own and drops them.
	Balances *analytics.SharedBalances
}

// RefreshReport says what Refresh wrote.
type RefreshReport struct {
	Version uint64
	Took    time.Duration
}

// Refresh computes a new version of the dashboards' aggregates from the
// committed data and makes it current. The ETL calls it after a run
// commits, then Invalidate; a web process that sees a commit without a
// refresh (another process loaded data) runs it in the background. It is
// safe to run concurrently: each run writes its own version.
func Refresh(ctx context.Context, eng warehouse.Engine, o RefreshOptions) (*RefreshReport, error) {
	start := time.Now()
	if o.K <= 0 {
		o.K = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keep <= 0 {
		o.Keep = 2
	}
	stamp, err := readStamp(ctx, eng)
	if err != nil {
		return nil, err
	}
	cutoff := bogotaDate(o.Now())
	version := uint64(time.Now().UnixNano())
	// The arrears read every liquidation's balance at the cut-off date,
	// built once for the refresh (analytics.Balances).
	var balances *analytics.Balances
	shared := o.Balances
	if shared == nil {
		shared = &analytics.SharedBalances{}
		defer shared.Drop(ctx)
	}
	for _, a := range aggregates {
		q, err := analytics.Get(a.Live)
		if err != nil {
			return nil, err
		}
		params := []warehouse.Param{warehouse.P("version", version)}
		if strings.Contains(q.SQL, "{k:") {
			params = append(params, warehouse.P("k", o.K))
		}
		if a.Cutoff {
			params = append(params, warehouse.P("corte", cutoff))
		}
		if analytics.NeedsBalances(q.SQL) {
			if balances == nil {
				if balances, _, err = shared.Get(ctx, eng, analytics.BalanceOptions{PaidUpTo: cutoff}); err != nil {
					return nil, fmt.Errorf("agregados de los tableros, %s: %w", a.Table, err)
				}
			}
			params = append(params, balances.Param())
		}
		sql := "INSERT INTO " + a.Table + " (version, " + strings.Join(a.Columns, ", ") + ")\nSELECT {version:UInt64}, " +
			strings.Join(a.Columns, ", ") + "\nFROM\n(\n" + q.SQL + "\n) AS vivo"
		if err := eng.Exec(ctx, sql, params...); err != nil {
			return nil, fmt.Errorf("agregados de los tableros, %s: %w", a.Table, err)
		}
	}
	took := time.Since(start)
	if err := eng.Insert(ctx, "dashboard_aggregates", []string{"version", "created_at", "cutoff", "stamp", "seconds"},
		[][]any{{version, time.Now().UTC().Truncate(time.Second), cutoff, stamp, took.Seconds()}}); err != nil {
		return nil, err
	}
	dropOldVersions(ctx, eng, o.Keep)
	slog.Info("tableros: agregados recalculados", "version", version, "s", took.Seconds())
	return &RefreshReport{Version: version, Took: took}, nil
}

// dropOldVersions drops the partitions of versions beyond the newest keep.
// On a cluster the tables are Distributed and the drop fails: the versions
// stay (a few thousand rows each) and the failure is only logged.
func dropOldVersions(ctx context.Context, eng warehouse.Engine, keep int) {
	res, err := eng.Query(ctx, "SELECT DISTINCT version FROM dashboard_aggregates ORDER BY version DESC")
	if err != nil {
		return
	}
	if len(res.Rows) <= keep {
		return
	}
	oldest := res.Rows[keep-1][0].(uint64)
	for _, a := range aggregates {
		parts, err := eng.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active",
			warehouse.P("db", eng.Database()), warehouse.P("t", a.Table))
		if err != nil {
			continue
		}
		for _, r := range parts.Rows {
			p, _ := r[0].(string)
			var v uint64
			if _, err := fmt.Sscan(p, &v); err != nil || v >= oldest {
				continue
			}
			if err := eng.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %d", eng.Database(), a.Table, v)); err != nil {
				slog.Debug("tableros: no se pudo borrar una versión vieja de los agregados", "tabla", a.Table, "version", v, "error", err)
			}
		}
	}
}

func readStamp(ctx context.Context, eng warehouse.Engine) (string, error) {
	res, err := analytics.Run(ctx, eng, "dash_ultima_carga")
	if err != nil {
		return "", err
	}
	if len(res.Rows) == 0 {
		return "", nil
	}
	r := newRows(res)
	return fmt.Sprintf("%d@%s", r.u64(0, "cargas"), r.time(0, "ultima").UTC().Format(time.RFC3339)), nil
}

// readState reads, in one query, the committed ETL runs' stamp and the
// current aggregates' state.
func readState(ctx context.Context, eng warehouse.Engine) (string, *aggState, error) {
	res, err := analytics.Run(ctx, eng, "dash_sello")
	if err != nil {
		return "", nil, err
	}
	st := &aggState{}
	if len(res.Rows) == 0 {
		return "", st, nil
	}
	r := newRows(res)
	st.Version, st.Stamp, st.Cutoff = r.u64(0, "version_vigente"), r.str(0, "sello"), r.time(0, "corte")
	return fmt.Sprintf("%d@%s", r.u64(0, "cargas"), r.time(0, "ultima").UTC().Format(time.RFC3339)), st, nil
}

var bogota = time.FixedZone("COT", -5*3600)

func bogotaDate(t time.Time) time.Time {
	t = t.In(bogota)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// aggState is the current aggregates version as a site sees it.
type aggState struct {
	Version uint64
	Stamp   string
	Cutoff  time.Time
}

func (s *Site) aggState(ctx context.Context) (*aggState, error) {
	return loaded(ctx, s, "agregados", func(ctx context.Context) (*aggState, error) {
		res, err := analytics.Run(ctx, s.eng, "dash_agregados_version")
		if err != nil {
			return nil, err
		}
		st := &aggState{}
		if len(res.Rows) > 0 {
			r := newRows(res)
			st.Version = r.u64(0, "version_vigente")
			st.Stamp = r.str(0, "sello")
			st.Cutoff = r.time(0, "corte")
		}
		return st, nil
	})
}

// base runs a dashboard base query: from the current aggregates version
// when there is one, live otherwise (a new warehouse, before the first
// refresh).
func (s *Site) base(ctx context.Context, live string, params ...warehouse.Param) (*warehouse.Result, error) {
	a := aggregateFor(live)
	if a != nil && !s.o.Live {
		st, err := s.aggState(ctx)
		if err != nil {
			return nil, err
		}
		if st.Version > 0 {
			return s.query(ctx, a.Read, warehouse.P("version", st.Version))
		}
	}
	return s.query(ctx, live, params...)
}

// refresher runs one background refresh at a time per site.
type refresher struct {
	mu         sync.Mutex
	running    bool
	last       time.Time
	staleSince time.Time
}

// maybeRefresh starts a background refresh when the aggregates are older
// than the committed data (a load that did not refresh them, or a new day
// for the arrears). It leaves RefreshGrace to the ETL's own refresh after
// a commit, and starts at once when there are no aggregates at all; at
// most one refresh runs per site, at most once per RefreshEvery.
func (s *Site) maybeRefresh(etlStamp string) {
	if s.o.Live || s.o.RefreshEvery < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	st, err := s.aggState(ctx)
	cancel()
	fresh := err == nil && st.Version > 0 && st.Stamp == etlStamp && st.Cutoff.Equal(s.today())
	s.refr.mu.Lock()
	if err != nil || fresh {
		s.refr.staleSince = time.Time{}
		s.refr.mu.Unlock()
		return
	}
	if s.refr.staleSince.IsZero() {
		s.refr.staleSince = time.Now()
	}
	waiting := st.Version > 0 && time.Since(s.refr.staleSince) < s.o.RefreshGrace
	if waiting || s.refr.running || time.Since(s.refr.last) < s.o.RefreshEvery {
		s.refr.mu.Unlock()
		return
	}
	s.refr.running, s.refr.last = true, time.Now()
	s.refr.mu.Unlock()
	go func() {
		defer func() {
			s.refr.mu.Lock()
			s.refr.running = false
			s.refr.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if _, err := Refresh(ctx, s.eng, RefreshOptions{K: s.o.K, Now: s.o.Now}); err != nil {
			slog.Error("tableros: no se pudieron recalcular los agregados", "error", err)
			return
		}
		s.refr.mu.Lock()
		s.refr.staleSince = time.Time{}
		s.refr.mu.Unlock()
		s.cache.Invalidate()
	}()
}
