package datasets_test

import (
	"fmt"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestReleasesTheSameOnBothEngines: the same sources loaded into the
// embedded engine and into a ClickHouse server publish the same releases,
// row for row and value for value. Each engine's own tests check its
// releases against the sources only here and there: on the server the
// liquidations' balances counted no payment for a whole session (a date
// parameter past 2106 read as 1970 there), so every arrears figure and
// payment status a server published was wrong while both engines' tests
// passed.
//
// The values are compared typed: the engines write the same Decimal with
// and without trailing zeros (0.9000 on ClickHouse 18.16, 0.9 on chDB),
// which is also why the fingerprints of avance-gel, computed in SQL over
// the values' text, differ between them.
func TestReleasesTheSameOnBothEngines(t *testing.T) {
	ctx := datasetstest.Ctx(t)
	emb := datasetstest.LoadScaled(t, whtest.Embedded(t), 1)
	srvEng, _ := whtest.Server(t)
	srv := datasetstest.LoadScaled(t, srvEng, 1)
	if len(emb.Releases) != len(datasets.Catalog) || len(srv.Releases) != len(datasets.Catalog) {
		t.Fatalf("conjuntos publicados: %d en el embebido, %d en el servidor, de %d", len(emb.Releases), len(srv.Releases), len(datasets.Catalog))
	}
	rows := func(e warehouse.Engine, rel datasets.Release) []string {
		t.Helper()
		d, err := datasets.Get(rel.Dataset)
		if err != nil {
			t.Fatal(err)
		}
		res, err := datasets.Preview(ctx, e, d, &rel, int(rel.Rows)+1)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(res.Rows))
		for i, r := range res.Rows {
			out[i] = fmt.Sprint(r...)
		}
		return out
	}
	checked := 0
	for _, er := range emb.Releases {
		if er.Dataset == "ejecuciones-etl" {
			continue // the runs' ids and times differ from one load to the other
		}
		var sr datasets.Release
		for _, r := range srv.Releases {
			if r.Dataset == er.Dataset {
				sr = r
			}
		}
		want, got := rows(emb.Eng, er), rows(srv.Eng, sr)
		if len(want) == 0 {
			t.Errorf("%s: ninguna fila en el embebido", er.Dataset)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d filas en el servidor, %d en el embebido", er.Dataset, len(got), len(want))
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s, fila %d:\n  servidor  %s\n  embebido  %s", er.Dataset, i+1, got[i], want[i])
				break
			}
		}
		checked++
	}
	if checked != len(datasets.Catalog)-1 {
		t.Fatalf("%d conjuntos comparados", checked)
	}
}
