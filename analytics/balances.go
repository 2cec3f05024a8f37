package analytics

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Balances is a scratch table holding every liquidation of a snapshot with
// what was paid for it (saldos_liquidaciones.sql), for the queries that
// read it as {saldos:Identifier}: ds_liquidaciones, ds_cartera and
// dash_cartera. Joining the liquidations with their payments summed per
// liquidation in those queries put every payment in the join's right side:
// 187 MB at 1.1M liquidations, and the hash join fails past the engine's
// limit, taking every release of the publication with it; the sort-merge
// join that does not fail held the process at 0.8-2 GB at 19.8M
// (etl/BENCHMARKS.md, "Session 12"). Built slice by slice of the
// liquidations, each statement's right side holds one slice's payments.
type Balances struct {
	Table  string
	Slices uint64
	// RunsUpTo and PaidUpTo are the snapshot the table holds: the ETL runs
	// committed up to RunsUpTo, their payments dated up to PaidUpTo (zero:
	// all of them).
	RunsUpTo, PaidUpTo time.Time
	runs               uint64 // the committed runs up to RunsUpTo when built
	eng                warehouse.Engine
}

// balancesPrefix names the scratch tables; a table older than a day is one
// a process left behind when it died, and goes with the next build.
const balancesPrefix = warehouse.BalancesPrefix

// joinBytesPerPayment is what one liquidation with payments may take in
// the right side of a hash join, at most: its key and sum (about 40 bytes)
// and 64-byte hash cells, up to four per key right after the table
// doubles. A slice of about 530,000 of them reached 153.69 MB where 256
// bytes each had been allowed for (etl/BENCHMARKS.md, "Session 12"). The
// slices are sized so that a statement's right side stays under the
// engine's query memory; the payments are counted, an upper bound of the
// liquidations they pay.
const joinBytesPerPayment = 320

// lastDate stands for "no cut-off" in a Date parameter: the last day a
// Date column takes (warehouse/coltype.go). The type's own last value,
// 2149-06-06, is cast to 1970-01-01 by the ClickHouse 18.16 server that
// Debian ships, and the balances of every payment counted none there
// (TestBalances).
var lastDate = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)

// BalanceOptions select the snapshot.
type BalanceOptions struct {
	// RunsUpTo takes the liquidations and payments of the ETL runs
	// committed up to it; zero takes those committed when the build starts,
	// so that every slice reads the same runs.
	RunsUpTo time.Time
	// PaidUpTo counts the payments dated up to it; zero counts them all.
	PaidUpTo time.Time
	// Slices, when not zero, is how many slices to build them in; zero
	// sizes the slices by the engine's query memory.
	Slices uint64
}

// NeedsBalances tells whether a query reads the balances table.
func NeedsBalances(sql string) bool { return strings.Contains(sql, "{saldos:") }

// BuildBalances builds the balances of a snapshot. Drop removes them.
func BuildBalances(ctx context.Context, e warehouse.Engine, o BalanceOptions) (*Balances, error) {
	q, err := Get("saldos_liquidaciones")
	if err != nil {
		return nil, err
	}
	dropStaleBalances(ctx, e)
	res, err := e.Query(ctx, "SELECT count() FROM payments")
	if err != nil {
		return nil, err
	}
	payments := res.Rows[0][0].(uint64)
	runs := o.RunsUpTo
	if runs.IsZero() {
		last, err := e.Query(ctx, "SELECT max(finished_at) FROM etl_runs FINAL WHERE status = 'committed'")
		if err != nil {
			return nil, err
		}
		runs, _ = last.Rows[0][0].(time.Time)
	}
	res, err = e.Query(ctx, "SELECT count() FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime}", warehouse.P("corte", runs))
	if err != nil {
		return nil, err
	}
	committed := res.Rows[0][0].(uint64)
	perSlice := uint64(max(warehouse.QueryMemory(e)/joinBytesPerPayment, 1))
	b := &Balances{Table: balancesPrefix + strconv.FormatInt(time.Now().UnixNano(), 10), Slices: payments/perSlice + 1,
		RunsUpTo: runs, PaidUpTo: o.PaidUpTo, runs: committed, eng: e}
	if o.Slices > 0 {
		b.Slices = o.Slices
	}
	paid := o.PaidUpTo
	if paid.IsZero() {
		paid = lastDate
	}
	// The liquidations and the payments of the snapshot are copied once,
	// ordered by their slice, and each slice reads its rows from the
	// copies: from the tables, each slice read every row to keep its own
	// (at 19.8M liquidations, 47 slices took 273 s; etl/BENCHMARKS.md,
	// "Session 14"). The copies go once the table is built.
	liqs, pays := b.Table+copySuffix+"liq", b.Table+copySuffix+"pag"
	defer func() {
		for _, t := range []string{liqs, pays} {
			warehouse.DropTable(context.WithoutCancel(ctx), e, t)
		}
	}()
	for _, c := range []struct {
		table, query string
		params       []warehouse.Param
	}{
		{liqs, "saldos_copia_liquidaciones", nil},
		{pays, "saldos_copia_pagos", []warehouse.Param{warehouse.P("pagos_hasta", paid)}},
	} {
		cq, err := Get(c.query)
		if err != nil {
			return nil, err
		}
		err = e.Exec(ctx, "CREATE TABLE "+c.table+" ENGINE = MergeTree ORDER BY parte AS\n"+cq.SQL+warehouse.SortedCopySettings(e),
			append(c.params, warehouse.P("corte", runs), warehouse.P("partes", b.Slices))...)
		if err != nil {
			return nil, fmt.Errorf("saldos de las liquidaciones, copia %s: %w", c.query, err)
		}
	}
	// One thread per slice, as for the copies: with the library's two,
	// the 47 slices at 19.8M took 42 s instead of 48 s, and held 14 MB more.
	sliceSQL := q.SQL + warehouse.SortedCopySettings(e)
	for i := uint64(0); i < b.Slices; i++ {
		stmt := "INSERT INTO " + b.Table + "\n" + sliceSQL
		if i == 0 {
			stmt = "CREATE TABLE " + b.Table + " ENGINE = MergeTree ORDER BY tuple() AS\n" + sliceSQL
		}
		err := e.Exec(ctx, stmt, warehouse.P("liquidaciones", liqs), warehouse.P("pagos", pays), warehouse.P("parte", uint32(i)))
		if err != nil {
			b.Drop(ctx)
			return nil, fmt.Errorf("saldos de las liquidaciones, parte %d de %d: %w", i+1, b.Slices, err)
		}
	}
	return b, nil
}

// copySuffix joins a balances table's name and its copies' (the
// liquidations and the payments ordered by slice). A dead process's copies
// go with its table (dropStaleBalances).
const copySuffix = "_copia_"

// holds tells whether the table holds what a build with o would hold now:
// the same committed runs (o's cut-off takes no run the table lacks) and
// the same payments (a cut-off date leaves out no payment the table
// counts). It reads the run log and the payments' dates, which costs a
// fraction of a second where a build at 19.8M liquidations costs 250 s.
func (b *Balances) holds(ctx context.Context, o BalanceOptions) (bool, error) {
	if o.Slices != 0 && o.Slices != b.Slices {
		return false, nil
	}
	// Runs only ever join the committed ones, so two cut-offs take the
	// same runs when they count as many, and the table's cut-off takes no
	// run it lacks when it counts as many as at the build.
	res, err := b.eng.Query(ctx, `SELECT countIf(finished_at <= {tiene:DateTime}), countIf(finished_at <= {pide:DateTime} OR {todas:UInt8} = 1)
		FROM etl_runs FINAL WHERE status = 'committed'`,
		warehouse.P("tiene", b.RunsUpTo), warehouse.P("pide", o.RunsUpTo), warehouse.P("todas", boolInt(o.RunsUpTo.IsZero())))
	if err != nil {
		return false, err
	}
	if res.Rows[0][0].(uint64) != b.runs || res.Rows[0][1].(uint64) != b.runs {
		return false, nil
	}
	switch {
	case o.PaidUpTo.Equal(b.PaidUpTo):
		return true, nil
	case o.PaidUpTo.IsZero():
		return false, nil // the table leaves out payments o counts
	case !b.PaidUpTo.IsZero() && b.PaidUpTo.Before(o.PaidUpTo):
		return false, nil // the table may lack payments o counts
	}
	// The table counts payments up to a later date, or all of them: the
	// same sums when none is dated after o's cut-off.
	from := b.PaidUpTo
	if from.IsZero() {
		from = lastDate
	}
	res, err = b.eng.Query(ctx, "SELECT count() FROM payments WHERE paid_date > {hasta:Date} AND paid_date <= {desde:Date}",
		warehouse.P("hasta", o.PaidUpTo), warehouse.P("desde", from))
	if err != nil {
		return false, err
	}
	return res.Rows[0][0].(uint64) == 0, nil
}

func boolInt(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// SharedBalances keeps the balances one reader built for the next that
// needs the same ones: after a commit, the publication and then the
// dashboards' refresh read the balances of the same runs, and built them
// twice (250 s each at 19.8M liquidations and their payments,
// etl/BENCHMARKS.md). Whoever owns it drops them when the last reader is
// done. The zero value is ready; it is safe for concurrent use.
type SharedBalances struct {
	mu sync.Mutex
	b  *Balances
}

// Get returns balances for o: the kept ones when they hold what o asks
// for, else a new build that replaces them. built tells which.
func (s *SharedBalances) Get(ctx context.Context, e warehouse.Engine, o BalanceOptions) (b *Balances, built bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b != nil && s.b.eng == e {
		ok, err := s.b.holds(ctx, o)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return s.b, false, nil
		}
	}
	if s.b != nil {
		s.b.Drop(ctx)
		s.b = nil
	}
	if s.b, err = BuildBalances(ctx, e, o); err != nil {
		return nil, false, err
	}
	return s.b, true, nil
}

// Drop drops the kept balances.
func (s *SharedBalances) Drop(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b != nil {
		s.b.Drop(ctx)
		s.b = nil
	}
}

// RunWithBalances runs a named query that reads the balances, built for it
// with o and dropped after it (a query of a small warehouse, or a test).
func RunWithBalances(ctx context.Context, e warehouse.Engine, name string, o BalanceOptions, params ...warehouse.Param) (*warehouse.Result, error) {
	b, err := BuildBalances(ctx, e, o)
	if err != nil {
		return nil, err
	}
	defer b.Drop(ctx)
	return Run(ctx, e, name, append(append([]warehouse.Param{}, params...), b.Param())...)
}

// Param binds {saldos:Identifier} to the table.
func (b *Balances) Param() warehouse.Param { return warehouse.P("saldos", b.Table) }

// Drop removes the table; nothing waits for it, so a failure is only
// logged by the engine, and a table left behind goes with a later build.
func (b *Balances) Drop(ctx context.Context) {
	warehouse.DropTable(context.WithoutCancel(ctx), b.eng, b.Table)
}

// dropStaleBalances drops the balances tables older than a day. Younger ones
// may belong to a build running in another process on the same server.
func dropStaleBalances(ctx context.Context, e warehouse.Engine) {
	names, err := warehouse.TablesWithPrefix(ctx, e, balancesPrefix)
	if err != nil {
		return
	}
	for _, n := range names {
		stamp, _, _ := strings.Cut(strings.TrimPrefix(n, balancesPrefix), copySuffix)
		ns, err := strconv.ParseInt(stamp, 10, 64)
		if err == nil && time.Since(time.Unix(0, ns)) > 24*time.Hour {
			warehouse.DropTable(context.WithoutCancel(ctx), e, n)
		}
	}
}
