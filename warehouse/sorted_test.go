package warehouse_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestCopySortedNumbersRowsInKeyOrder: CopySorted numbers the rows in the
// order of the key, with the rows spread over many parts of the scratch
// tables (insert blocks of a quarter of a 1 MB statement limit), on both
// engines. On the embedded engine the copied rows arrive in one part next
// to the target's own, and no scratch table is left, also where a dead
// process left one.
func TestCopySortedNumbersRowsInKeyOrder(t *testing.T) {
	small := whtest.EmbeddedWith(t, func(c *warehouse.EmbeddedConfig) { c.QueryMemoryMB = 1 })
	srv, _ := whtest.Server(t)
	for _, e := range []warehouse.Engine{small, srv} {
		t.Run(e.Kind(), func(t *testing.T) {
			ctx := context.Background()
			if err := e.Exec(ctx, "CREATE TABLE orden_destino (lote UInt8, fila UInt64, k String, v UInt64) ENGINE = MergeTree ORDER BY (lote, fila)"); err != nil {
				t.Fatal(err)
			}
			if err := e.Insert(ctx, "orden_destino", []string{"lote", "fila", "k", "v"}, [][]any{{uint8(1), uint64(1), "x", uint64(0)}}); err != nil {
				t.Fatal(err)
			}
			// A scratch table left by a copy that died.
			if err := e.Exec(ctx, "CREATE TABLE prueba_orden (x UInt8) ENGINE = Memory"); err != nil {
				t.Fatal(err)
			}
			defer warehouse.DropTable(ctx, e, "prueba_orden")
			const n = 200000
			err := warehouse.CopySorted(ctx, e, warehouse.SortedCopy{
				Table:        "orden_destino",
				Columns:      []string{"lote", "fila", "k", "v"},
				Select:       "{lote:UInt8}, rowNumberInAllBlocks() + 1, k, v",
				Key:          []string{"k"},
				Query:        "SELECT hex(cityHash64(number)) AS k, number AS v FROM system.numbers WHERE number >= {desde:UInt64} LIMIT " + strconv.Itoa(n),
				Scratch:      "prueba",
				QueryParams:  []warehouse.Param{warehouse.P("desde", uint64(0))},
				SelectParams: []warehouse.Param{warehouse.P("lote", uint8(2))},
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Query(ctx, "SELECT fila, k FROM orden_destino WHERE lote = 2 ORDER BY fila")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != n {
				t.Fatalf("%d rows copied, expected %d", len(res.Rows), n)
			}
			unordered := 0
			for i, row := range res.Rows {
				if row[0] != uint64(i+1) {
					t.Fatalf("row %d is numbered %v", i+1, row[0])
				}
				if i > 0 && row[1].(string) < res.Rows[i-1][1].(string) {
					unordered++
				}
			}
			if unordered > 0 {
				t.Errorf("%d of %d rows numbered out of key order", unordered, n)
			}
			if e.Kind() == "embedded" {
				if names, err := warehouse.TablesWithPrefix(ctx, e, "prueba_"); err != nil || len(names) != 0 {
					t.Errorf("scratch tables left: %v %v", names, err)
				}
				res, err := e.Query(ctx, "SELECT uniqExact(_part) FROM orden_destino WHERE lote = 2")
				if err != nil {
					t.Fatal(err)
				}
				if parts := res.Rows[0][0].(uint64); parts != 1 {
					t.Errorf("the copied rows are in %d parts, not merged into one", parts)
				}
			}
		})
	}
}
