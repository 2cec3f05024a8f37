package analytics_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestBalances: the balances hold every liquidation of the snapshot once,
// with the sum of its payments dated up to PaidUpTo, whatever the number of
// slices they are built in; building them drops the tables a dead process
// left more than a day ago, not younger ones, and Drop removes them.
func TestBalances(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		loadDemo(t, e, 0.3)
		stale := "tmp_saldos_" + strconv.FormatInt(time.Now().Add(-25*time.Hour).UnixNano(), 10)
		young := "tmp_saldos_" + strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)
		for _, name := range []string{stale, young} {
			if err := e.Exec(ctx, "CREATE TABLE "+name+" (x UInt8) ENGINE = MergeTree ORDER BY tuple()"); err != nil {
				t.Fatal(err)
			}
		}
		paidUpTo := time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC)
		// What every build must hold, computed without the balances.
		liqs, err := e.Query(ctx, "SELECT count() FROM liquidations FINAL")
		if err != nil {
			t.Fatal(err)
		}
		paid, err := e.Query(ctx, `SELECT sum(amount) FROM payments FINAL WHERE paid_date <= {d:Date}
			AND (municipality_code, liquidation_id) IN (SELECT municipality_code, liquidation_id FROM liquidations)`, warehouse.P("d", paidUpTo))
		if err != nil {
			t.Fatal(err)
		}
		want := [2]any{liqs.Rows[0][0], paid.Rows[0][0]}
		var first string
		for _, slices := range []uint64{1, 7} {
			b, err := analytics.BuildBalances(ctx, e, analytics.BalanceOptions{PaidUpTo: paidUpTo, Slices: slices})
			if err != nil {
				t.Fatalf("%d partes: %v", slices, err)
			}
			if _, ok := warehouse.WorkingTable(b.Table); !ok {
				t.Errorf("%s no es una tabla de trabajo: una copia de seguridad la tomaría por ajena", b.Table)
			}
			got, err := e.Query(ctx, "SELECT count(), sum(pagado), countIf(pagado > 0), uniqExact(municipality_code, liquidation_id) FROM {t:Identifier}", warehouse.P("t", b.Table))
			if err != nil {
				t.Fatal(err)
			}
			w, g := want, got.Rows[0]
			if fmt.Sprint(g[0]) != fmt.Sprint(w[0]) || fmt.Sprint(g[3]) != fmt.Sprint(w[0]) || fmt.Sprint(g[1]) != fmt.Sprint(w[1]) {
				t.Errorf("%d partes: %v liquidaciones (%v distintas) con %v pagado; se esperaban %v con %v", slices, g[0], g[3], g[1], w[0], w[1])
			}
			if fmt.Sprint(g[2]) == "0" {
				t.Errorf("%d partes: ninguna liquidación con pagos", slices)
			}
			rows, err := e.Query(ctx, "SELECT municipality_code, liquidation_id, billed_total, pagado FROM {t:Identifier} ORDER BY municipality_code, liquidation_id", warehouse.P("t", b.Table))
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(rows.Rows); first == "" {
				first = s
			} else if s != first {
				t.Errorf("en %d partes los saldos difieren de los de 1 parte", slices)
			}
			b.Drop(ctx)
		}
		// Without a date every payment counts.
		all, err := e.Query(ctx, `SELECT sum(amount) FROM payments FINAL
			WHERE (municipality_code, liquidation_id) IN (SELECT municipality_code, liquidation_id FROM liquidations)`)
		if err != nil {
			t.Fatal(err)
		}
		b, err := analytics.BuildBalances(ctx, e, analytics.BalanceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Query(ctx, "SELECT sum(pagado) FROM {t:Identifier}", warehouse.P("t", b.Table))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := fmt.Sprint(got.Rows[0][0]), fmt.Sprint(all.Rows[0][0]); g != w || w == "0" {
			t.Errorf("sin fecha de corte de los pagos: %s pagado, se esperaba %s", g, w)
		}
		b.Drop(ctx)
		left, err := warehouse.TablesWithPrefix(ctx, e, "tmp_saldos_")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0] != young {
			t.Errorf("tablas de saldos que quedan: %v; se esperaba solo la de hace una hora", left)
		}
	})
}

// TestSharedBalances: balances kept for the next reader are read again only
// when they hold what that reader would build: the same committed runs and
// the same payments. Otherwise they are built again, and the old table goes.
func TestSharedBalances(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		loadDemo(t, e, 0.1)
		res, err := e.Query(ctx, "SELECT max(paid_date), count() FROM payments")
		if err != nil {
			t.Fatal(err)
		}
		lastPaid := res.Rows[0][0].(time.Time)
		sums := func(table string) string {
			t.Helper()
			r, err := e.Query(ctx, "SELECT count(), sum(pagado), sum(cityHash64(liquidation_id) * pagado) FROM {t:Identifier}", warehouse.P("t", table))
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(r.Rows[0])
		}
		exists := func(table string) bool {
			t.Helper()
			names, err := warehouse.TablesWithPrefix(ctx, e, "tmp_saldos_")
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(names, table)
		}
		get := func(s *analytics.SharedBalances, o analytics.BalanceOptions, wantBuilt bool) *analytics.Balances {
			t.Helper()
			b, built, err := s.Get(ctx, e, o)
			if err != nil {
				t.Fatal(err)
			}
			if built != wantBuilt {
				t.Fatalf("%+v: construidos %v, se esperaba %v", o, built, wantBuilt)
			}
			// Whatever it returns holds what a build of its own would.
			own, err := analytics.BuildBalances(ctx, e, o)
			if err != nil {
				t.Fatal(err)
			}
			defer own.Drop(ctx)
			if g, w := sums(b.Table), sums(own.Table); g != w {
				t.Fatalf("%+v: saldos compartidos %s, propios %s", o, g, w)
			}
			return b
		}

		var s analytics.SharedBalances
		// A publication's: every payment of the runs up to its cut-off.
		pub := get(&s, analytics.BalanceOptions{RunsUpTo: time.Now().Add(time.Hour)}, true)
		// A refresh's: the runs committed so far, the payments up to a
		// date no payment is after.
		if b := get(&s, analytics.BalanceOptions{PaidUpTo: lastPaid}, false); b != pub {
			t.Fatal("no se reusaron los saldos")
		}
		// Up to a date that leaves payments out: built again.
		before := lastPaid.AddDate(0, -6, 0)
		b := get(&s, analytics.BalanceOptions{PaidUpTo: before}, true)
		if exists(pub.Table) {
			t.Errorf("quedó la tabla reemplazada %s", pub.Table)
		}
		get(&s, analytics.BalanceOptions{PaidUpTo: before}, false)
		// All payments again: the kept ones leave some out.
		get(&s, analytics.BalanceOptions{RunsUpTo: time.Now().Add(time.Hour)}, true)
		// A run committed since: built again.
		kept := get(&s, analytics.BalanceOptions{}, false)
		if err := e.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status"},
			[][]any{{"otra", "otro", time.Now().UTC().Truncate(time.Second), time.Now().UTC().Add(time.Minute).Truncate(time.Second), "committed"}}); err != nil {
			t.Fatal(err)
		}
		if nb := get(&s, analytics.BalanceOptions{}, true); nb == kept {
			t.Fatal("los mismos saldos tras una ejecución nueva")
		}
		// A cut-off before that run: the kept ones hold it, built again.
		get(&s, analytics.BalanceOptions{RunsUpTo: time.Now()}, true)
		last, _, _ := s.Get(ctx, e, analytics.BalanceOptions{RunsUpTo: time.Now()})
		s.Drop(ctx)
		if exists(last.Table) || exists(b.Table) {
			t.Error("Drop dejó la tabla")
		}
	})
}

// loadDemo loads the demo's liquidations and payments from 2022 on, at a
// scale.
func loadDemo(t *testing.T, e warehouse.Engine, scale float64) {
	t.Helper()
	p, err := etl.NewPseudonymizer([]byte("clave de prueba de 32 bytes!!!!!"))
	if err != nil {
		t.Fatal(err)
	}
	o := demo.DefaultOptions()
	o.Scale, o.FirstYear = scale, 2022
	if _, err := etl.LoadDemo(context.Background(), e, p, o); err != nil {
		t.Fatal(err)
	}
}
