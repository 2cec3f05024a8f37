package warehouse_test

import (
	"context"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestEmbeddedStatementsSpillPastQueryMemory: with query_memory_mb, a sort
// and a GROUP BY whose data is several times that size finish under a hard
// memory limit that the same statement in memory exceeds, because they
// continue on disk. The library's own ratio settings
// (max_bytes_ratio_before_external_*) took precedence over the byte limits
// and a sort never spilled: a release of 9.9 million rows sorted 3 GB in
// memory.
func TestEmbeddedStatementsSpillPastQueryMemory(t *testing.T) {
	ctx := context.Background()
	e := whtest.EmbeddedWith(t, func(c *warehouse.EmbeddedConfig) { c.QueryMemoryMB = 32 })
	defer e.Close()
	// 4 million rows of 128 characters (about 560 MB in memory) into a
	// statement allowed 300 MB in all. Before the fix the sort failed at
	// 289 MB, still reading its input; with it, the statement peaks at
	// about 240 MB, most of it merging its 32 MB runs back from disk.
	const rows, limit = 4_000_000, "300000000"
	if err := e.Exec(ctx, "CREATE TABLE ordenadas (s String) ENGINE = MergeTree ORDER BY tuple()"); err != nil {
		t.Fatal(err)
	}
	sorted := "INSERT INTO ordenadas SELECT s FROM (SELECT concat(hex(SHA256(toString(number))), hex(SHA256(toString(number + 1)))) AS s FROM numbers(4000000) ORDER BY s) SETTINGS max_memory_usage = " + limit
	if err := e.Exec(ctx, sorted); err != nil {
		t.Fatalf("ORDER BY de %d filas con query_memory_mb 32 y un límite de %s bytes: %v", rows, limit, err)
	}
	// The rows went in sorted: each part is in order, and the first part
	// starts with the smallest value.
	res, err := e.Query(ctx, "SELECT count(), min(s), (SELECT s FROM ordenadas LIMIT 1) FROM ordenadas")
	if err != nil {
		t.Fatal(err)
	}
	if n, least, first := res.Rows[0][0].(uint64), res.Rows[0][1], res.Rows[0][2]; n != rows || least != first {
		t.Fatalf("ordenadas: %d filas; la menor es %v y la primera %v", n, least, first)
	}
	grouped := "SELECT count() FROM (SELECT s, count() FROM (SELECT concat(hex(SHA256(toString(number))), hex(SHA256(toString(number + 1)))) AS s FROM numbers(4000000)) GROUP BY s) SETTINGS max_memory_usage = " + limit
	res, err = e.Query(ctx, grouped)
	if err != nil {
		t.Fatalf("GROUP BY de %d claves con query_memory_mb 32 y un límite de %s bytes: %v", rows, limit, err)
	}
	if n := res.Rows[0][0].(uint64); n != rows {
		t.Fatalf("GROUP BY: %d grupos", n)
	}
}
