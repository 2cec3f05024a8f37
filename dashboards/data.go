package dashboards

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// rows reads a query result by column name, with the canonical types of
// package warehouse.
type rows struct {
	res *warehouse.Result
	idx map[string]int
}

func newRows(res *warehouse.Result) rows {
	r := rows{res: res, idx: map[string]int{}}
	for i, c := range res.Columns {
		r.idx[c.Name] = i
	}
	return r
}

func (r rows) get(i int, col string) any {
	j, ok := r.idx[col]
	if !ok {
		panic(fmt.Sprintf("dashboards: la consulta no devolvió la columna %q", col))
	}
	return r.res.Rows[i][j]
}

func (r rows) str(i int, col string) string {
	s, _ := r.get(i, col).(string)
	return s
}

func (r rows) u64(i int, col string) uint64 {
	switch v := r.get(i, col).(type) {
	case uint64:
		return v
	case int64:
		if v < 0 {
			return 0
		}
		return uint64(v)
	}
	return 0
}

func (r rows) time(i int, col string) time.Time {
	t, _ := r.get(i, col).(time.Time)
	return t
}

// dec returns a decimal column; nil for NULL (a suppressed cell).
func (r rows) dec(i int, col string) *decimal.Decimal {
	switch v := r.get(i, col).(type) {
	case decimal.Decimal:
		return &v
	case int64:
		d := decimal.NewFromInt(v)
		return &d
	case uint64:
		d := decimal.NewFromUint64(v)
		return &d
	}
	return nil
}

// Base data sets: the results of the dash_* queries, loaded once per ETL
// commit and shared by every filter set (the charts slice them in Go).

type monthCell struct {
	Month     time.Time
	Muni, Tax string
	Payments  uint64
	Collected *decimal.Decimal // nil: withheld (fewer than k taxpayers)
}

type vigenciaCell struct {
	Year                   int
	Muni, Tax              string
	Liquidations, Payments uint64
	Billed, Collected      *decimal.Decimal
}

type channelCell struct {
	Quarter        time.Time
	Muni, Tax, Chn string
	Count          uint64
	Amount         *decimal.Decimal
}

type filingCell struct {
	Quarter        time.Time
	Muni, Tax, Chn string
	Count          uint64
}

type arrearsCell struct {
	Year         int
	Muni, Tax    string
	Band         int
	Liquidations uint64
	Balance      *decimal.Decimal
}

type verifCell struct {
	Year              int
	Muni, Tax, Status string
	Liquidations      uint64
	Billed, Expected  *decimal.Decimal
	Over, Under       *decimal.Decimal
}

type budgetCell struct {
	Entity, EntityName string
	Year               int
	Rubro              string
	Budget             decimal.Decimal
}

type gelCell struct {
	Framework, Entity, Phase string
	Date                     time.Time
	Criteria                 uint64
	Sum                      decimal.Decimal
}

type runRow struct {
	Job, RunID, Status        string
	Started, Finished         time.Time
	Read, Loaded, Quarantined uint64
	Error                     string
}

type usageRow struct {
	Month            time.Time
	Kind, Item       string
	Views, Downloads uint64
}

// query runs a named query through the cache (one entry per query and
// parameters, dropped on invalidation).
func (s *Site) query(ctx context.Context, name string, params ...warehouse.Param) (*warehouse.Result, error) {
	key := "q:" + name
	for _, p := range params {
		key += fmt.Sprintf("|%s=%v", p.Name, p.Value)
	}
	v, err := s.cache.Get(ctx, key, func(ctx context.Context) (any, error) {
		start := time.Now()
		res, err := runLive(ctx, s.eng, name, params...)
		s.observeQuery(name, time.Since(start), err)
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v.(*warehouse.Result), nil
}

func (s *Site) k() warehouse.Param { return warehouse.P("k", s.o.K) }

// runLive runs a named query; one that reads the liquidations' balances
// (the arrears) gets them built at its cut-off date ({corte}) first.
func runLive(ctx context.Context, eng warehouse.Engine, name string, params ...warehouse.Param) (*warehouse.Result, error) {
	q, err := analytics.Get(name)
	if err != nil {
		return nil, err
	}
	if !analytics.NeedsBalances(q.SQL) {
		return eng.Query(ctx, q.SQL, params...)
	}
	var o analytics.BalanceOptions
	for _, p := range params {
		if t, ok := p.Value.(time.Time); ok && p.Name == "corte" {
			o.PaidUpTo = t
		}
	}
	return analytics.RunWithBalances(ctx, eng, name, o, params...)
}

// loaded caches a Go value derived from query results.
func loaded[T any](ctx context.Context, s *Site, key string, build func(ctx context.Context) (T, error)) (T, error) {
	v, err := s.cache.Get(ctx, "d:"+key, func(ctx context.Context) (any, error) { return build(ctx) })
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

func (s *Site) directory(ctx context.Context) (*Directory, error) {
	return loaded(ctx, s, "directorio", func(ctx context.Context) (*Directory, error) {
		res, err := s.query(ctx, "dash_entidades")
		if err != nil {
			return nil, err
		}
		return newDirectory(res), nil
	})
}

// searchDirectory is the directory with the municipalities that have data
// marked, so that they rank first in the search (a copy: the plain
// directory, used by every page, needs no fact query).
func (s *Site) searchDirectory(ctx context.Context) (*Directory, error) {
	return loaded(ctx, s, "directorio-busqueda", func(ctx context.Context) (*Directory, error) {
		d, err := s.directory(ctx)
		if err != nil {
			return nil, err
		}
		vig, err := s.vigencias(ctx)
		if err != nil {
			return nil, err
		}
		with := map[string]bool{}
		for _, c := range vig {
			with[c.Muni] = true
		}
		out := &Directory{byCode: map[string]*Entity{}, list: make([]*Entity, len(d.list))}
		for i, e := range d.list {
			c := *e
			c.HasData = with[c.Code]
			out.list[i] = &c
			out.byCode[c.Code] = &c
		}
		return out, nil
	})
}

func (s *Site) months(ctx context.Context) ([]monthCell, error) {
	return loaded(ctx, s, "meses", func(ctx context.Context) ([]monthCell, error) {
		res, err := s.base(ctx, "dash_recaudo_mes", s.k())
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]monthCell, len(res.Rows))
		for i := range res.Rows {
			out[i] = monthCell{Month: r.time(i, "mes"), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Payments: r.u64(i, "pagos"), Collected: r.dec(i, "recaudo")}
		}
		return out, nil
	})
}

func (s *Site) vigencias(ctx context.Context) ([]vigenciaCell, error) {
	return loaded(ctx, s, "vigencias", func(ctx context.Context) ([]vigenciaCell, error) {
		res, err := s.base(ctx, "dash_recaudo_vigencia", s.k())
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]vigenciaCell, len(res.Rows))
		for i := range res.Rows {
			c := vigenciaCell{Year: int(r.u64(i, "vigencia")), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Liquidations: r.u64(i, "liquidaciones"), Payments: r.u64(i, "pagos"), Billed: r.dec(i, "facturado"), Collected: r.dec(i, "recaudado")}
			if c.Payments == 0 {
				zero := decimal.Zero
				c.Collected = &zero // nothing paid is a published zero, not a withheld cell
			}
			out[i] = c
		}
		return out, nil
	})
}

func (s *Site) channels(ctx context.Context) ([]channelCell, error) {
	return loaded(ctx, s, "canales", func(ctx context.Context) ([]channelCell, error) {
		res, err := s.base(ctx, "dash_canales_pagos", s.k())
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]channelCell, len(res.Rows))
		for i := range res.Rows {
			out[i] = channelCell{Quarter: r.time(i, "trimestre"), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Chn: r.str(i, "canal"), Count: r.u64(i, "pagos"), Amount: r.dec(i, "monto")}
		}
		return out, nil
	})
}

func (s *Site) filings(ctx context.Context) ([]filingCell, error) {
	return loaded(ctx, s, "declaraciones", func(ctx context.Context) ([]filingCell, error) {
		res, err := s.base(ctx, "dash_canales_declaraciones")
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]filingCell, len(res.Rows))
		for i := range res.Rows {
			out[i] = filingCell{Quarter: r.time(i, "trimestre"), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Chn: r.str(i, "canal"), Count: r.u64(i, "declaraciones")}
		}
		return out, nil
	})
}

// arrears are computed at a cut-off date: today when queried live; the
// date of the current aggregates otherwise (a refresh for the new day runs
// in the background, and the charts say which date they show).
func (s *Site) arrears(ctx context.Context) ([]arrearsCell, time.Time, error) {
	corte := s.today()
	if !s.o.Live {
		st, err := s.aggState(ctx)
		if err != nil {
			return nil, corte, err
		}
		if st.Version > 0 {
			corte = st.Cutoff
		}
	}
	cells, err := loaded(ctx, s, "cartera@"+corte.Format("2006-01-02"), func(ctx context.Context) ([]arrearsCell, error) {
		res, err := s.base(ctx, "dash_cartera", s.k(), warehouse.P("corte", corte))
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]arrearsCell, len(res.Rows))
		for i := range res.Rows {
			out[i] = arrearsCell{Year: int(r.u64(i, "vigencia")), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Band: int(r.u64(i, "tramo")), Liquidations: r.u64(i, "liquidaciones"), Balance: r.dec(i, "saldo")}
		}
		return out, nil
	})
	return cells, corte, err
}

func (s *Site) verification(ctx context.Context) ([]verifCell, error) {
	return loaded(ctx, s, "verificacion", func(ctx context.Context) ([]verifCell, error) {
		res, err := s.base(ctx, "dash_verificacion", s.k())
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]verifCell, len(res.Rows))
		for i := range res.Rows {
			out[i] = verifCell{Year: int(r.u64(i, "vigencia")), Muni: r.str(i, "codigo_municipio"), Tax: r.str(i, "impuesto"),
				Status: r.str(i, "estado"), Liquidations: r.u64(i, "liquidaciones"), Billed: r.dec(i, "facturado"),
				Expected: r.dec(i, "esperado"), Over: r.dec(i, "de_mas"), Under: r.dec(i, "de_menos")}
		}
		return out, nil
	})
}

func (s *Site) budget(ctx context.Context) ([]budgetCell, error) {
	return loaded(ctx, s, "presupuesto", func(ctx context.Context) ([]budgetCell, error) {
		res, err := s.query(ctx, "dash_presupuesto")
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]budgetCell, 0, len(res.Rows))
		for i := range res.Rows {
			b := r.dec(i, "presupuesto")
			if b == nil {
				continue
			}
			out = append(out, budgetCell{Entity: r.str(i, "codigo_entidad"), EntityName: r.str(i, "entidad"), Year: int(r.u64(i, "anio")),
				Rubro: r.str(i, "rubro"), Budget: *b})
		}
		return out, nil
	})
}

func (s *Site) gel(ctx context.Context) ([]gelCell, error) {
	return loaded(ctx, s, "gel", func(ctx context.Context) ([]gelCell, error) {
		res, err := s.query(ctx, "dash_gel")
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]gelCell, 0, len(res.Rows))
		for i := range res.Rows {
			sum := r.dec(i, "suma_valores")
			if sum == nil {
				continue
			}
			out = append(out, gelCell{Framework: r.str(i, "marco"), Entity: r.str(i, "codigo_entidad"), Phase: r.str(i, "fase"),
				Date: r.time(i, "fecha"), Criteria: r.u64(i, "criterios"), Sum: *sum})
		}
		return out, nil
	})
}

// runs are the ETL runs of the last 400 days, newest first.
func (s *Site) runs(ctx context.Context) ([]runRow, error) {
	since := s.today().AddDate(0, 0, -400)
	return loaded(ctx, s, "ejecuciones@"+since.Format("2006-01-02"), func(ctx context.Context) ([]runRow, error) {
		res, err := s.query(ctx, "dash_etl_ejecuciones", warehouse.P("desde", since))
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]runRow, len(res.Rows))
		for i := range res.Rows {
			out[i] = runRow{Job: r.str(i, "trabajo"), RunID: r.str(i, "ejecucion"), Status: r.str(i, "estado"),
				Started: r.time(i, "inicio"), Finished: r.time(i, "fin"), Read: r.u64(i, "leidas"), Loaded: r.u64(i, "cargadas"),
				Quarantined: r.u64(i, "en_cuarentena"), Error: r.str(i, "error")}
		}
		return out, nil
	})
}

func (s *Site) usageRows(ctx context.Context) ([]usageRow, error) {
	return loaded(ctx, s, "uso", func(ctx context.Context) ([]usageRow, error) {
		res, err := s.query(ctx, "dash_uso")
		if err != nil {
			return nil, err
		}
		r := newRows(res)
		out := make([]usageRow, len(res.Rows))
		for i := range res.Rows {
			out[i] = usageRow{Month: r.time(i, "mes"), Kind: r.str(i, "tipo"), Item: r.str(i, "elemento"),
				Views: r.u64(i, "vistas"), Downloads: r.u64(i, "descargas")}
		}
		return out, nil
	})
}

// years lists the years present in a set, ascending.
func years(add func(func(int))) []int {
	set := map[int]bool{}
	add(func(y int) { set[y] = true })
	out := make([]int, 0, len(set))
	for y := range set {
		out = append(out, y)
	}
	sort.Ints(out)
	return out
}
