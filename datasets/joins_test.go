package datasets_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestReleasesTheSameWithLittleStatementMemory: with statements allowed 1
// MB (query_memory_mb), every release and the arrears dashboard's aggregate
// come out the same as with the default 128 MB. The releases and the
// arrears join every liquidation with its payments summed per liquidation;
// in one statement that join's right side passed the engine's limit (187
// MB at 1.1M liquidations), the join failed and took every release of the
// publication with it. The balances are now built in slices of the
// liquidations sized by that limit (analytics.Balances).
func TestReleasesTheSameWithLittleStatementMemory(t *testing.T) {
	ctx := datasetstest.Ctx(t)
	small := whtest.EmbeddedWith(t, func(c *warehouse.EmbeddedConfig) { c.QueryMemoryMB = 1 })
	// Three times the fixture: 15,300 liquidations, 12,972 payments.
	onDisk := datasetstest.LoadScaled(t, small, 3)
	inMemory := datasetstest.LoadScaled(t, whtest.Embedded(t), 3)

	// In one slice, the fixture's payments pass 1 MB as the right side of
	// the join: otherwise this test would not tell slices from none.
	_, err := analytics.BuildBalances(ctx, small, analytics.BalanceOptions{Slices: 1})
	if err == nil || !strings.Contains(err.Error(), "SET_SIZE_LIMIT_EXCEEDED") {
		t.Fatalf("saldos de todas las liquidaciones a la vez con 1 MB: %v; se esperaba que pasara del límite", err)
	}
	b, err := analytics.BuildBalances(ctx, small, analytics.BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Drop(ctx)
	if b.Slices < 2 {
		t.Fatalf("saldos con 1 MB en %d parte(s)", b.Slices)
	}

	fingerprints := func(rels []datasets.Release) map[string]string {
		out := map[string]string{}
		for _, r := range rels {
			out[r.Dataset] = fmt.Sprintf("%d filas, %s", r.Rows, r.Fingerprint)
		}
		return out
	}
	got, want := fingerprints(onDisk.Releases), fingerprints(inMemory.Releases)
	if len(want) != len(datasets.Catalog) {
		t.Fatalf("con 128 MB se publicaron %d conjuntos de %d", len(want), len(datasets.Catalog))
	}
	for id, w := range want {
		if id == "ejecuciones-etl" {
			continue // the runs' ids and times differ from one load to the other
		}
		if got[id] != w {
			t.Errorf("%s: con 1 MB %q, con 128 MB %q", id, got[id], w)
		}
	}

	now := func() time.Time { return time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC) }
	arrears := func(e warehouse.Engine) string {
		if _, err := dashboards.Refresh(ctx, e, dashboards.RefreshOptions{K: datasets.DefaultK, Now: now}); err != nil {
			t.Fatalf("agregados de los tableros (%s): %v", e.Kind(), err)
		}
		res, err := e.Query(ctx, `SELECT vigencia, codigo_municipio, impuesto, tramo, liquidaciones, saldo FROM dash_agg_cartera
			WHERE version = (SELECT max(version) FROM dash_agg_cartera) ORDER BY vigencia, codigo_municipio, impuesto, tramo`)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 0 {
			t.Fatal("cartera del tablero sin filas")
		}
		return fmt.Sprint(res.Rows)
	}
	if a, b := arrears(small), arrears(inMemory.Eng); a != b {
		t.Errorf("cartera del tablero: con 1 MB\n%s\ncon 128 MB\n%s", a, b)
	}
	// The publications and refreshes drop the balances they built.
	for _, e := range []warehouse.Engine{small, inMemory.Eng} {
		if left, err := warehouse.TablesWithPrefix(ctx, e, "tmp_saldos_"); err != nil || len(left) > 0 {
			t.Errorf("tablas de saldos que quedaron: %v %v", left, err)
		}
	}
}
