package analytics_test

import (
	"context"
	"fmt"
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
		p, err := etl.NewPseudonymizer([]byte("clave de prueba de 32 bytes!!!!!"))
		if err != nil {
			t.Fatal(err)
		}
		o := demo.DefaultOptions()
		o.Scale, o.FirstYear = 0.3, 2022
		if _, err := etl.LoadDemo(ctx, e, p, o); err != nil {
			t.Fatal(err)
		}
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
		left, err := warehouse.TablesWithPrefix(ctx, e, "tmp_saldos_")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0] != young {
			t.Errorf("tablas de saldos que quedan: %v; se esperaba solo la de hace una hora", left)
		}
	})
}
