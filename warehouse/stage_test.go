package warehouse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestStageKeepsRowsOutOfTheTarget: rows written to a staging table take no
// part in the target's merges (a newer copy of a key there would replace the
// target's copy in any merge) until AttachStage moves them, every partition
// of them, including a table without a partition key.
func TestStageKeepsRowsOutOfTheTarget(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		for _, ddl := range []string{
			`CREATE TABLE etapa_destino (k String, anio UInt16, v UInt32) ENGINE = ReplacingMergeTree(v) PARTITION BY anio ORDER BY k`,
			`CREATE TABLE etapa_sin_particion (k String, v UInt32) ENGINE = ReplacingMergeTree(v) ORDER BY k`,
		} {
			if err := e.Exec(ctx, ddl); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			for _, n := range []string{"etapa_destino", "etapa_sin_particion", "etapa_x1", "etapa_x2"} {
				warehouse.DropTable(context.Background(), e, n)
			}
		})
		cols := []string{"k", "anio", "v"}
		if err := e.Insert(ctx, "etapa_destino", cols, [][]any{{"a", 2024, 1}, {"b", 2025, 1}}); err != nil {
			t.Fatal(err)
		}
		if err := warehouse.CreateStage(ctx, e, "etapa_destino", "etapa_x1"); err != nil {
			t.Fatal(err)
		}
		if err := e.Insert(ctx, "etapa_x1", cols, [][]any{{"a", 2024, 2}, {"c", 2023, 2}}); err != nil {
			t.Fatal(err)
		}
		rows := func(sql string) [][]any {
			res, err := e.Query(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			return res.Rows
		}
		// A merge of the target while the stage holds a newer "a".
		if err := e.Exec(ctx, "OPTIMIZE TABLE etapa_destino FINAL"); err != nil {
			t.Fatal(err)
		}
		if got := rows("SELECT k, toUInt64(v) FROM etapa_destino ORDER BY k"); len(got) != 2 || got[0][1] != uint64(1) {
			t.Fatalf("the target before the attach: %v", got)
		}
		n, err := warehouse.AttachStage(ctx, e, "etapa_x1", "etapa_destino")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d partitions attached, expected 2 (2023 and 2024)", n)
		}
		got := rows("SELECT k, toUInt64(v) FROM etapa_destino FINAL ORDER BY k")
		if len(got) != 3 || got[0][0] != "a" || got[0][1] != uint64(2) || got[2][0] != "c" {
			t.Errorf("the target after the attach: %v", got)
		}

		if err := warehouse.CreateStage(ctx, e, "etapa_sin_particion", "etapa_x2"); err != nil {
			t.Fatal(err)
		}
		if err := e.Insert(ctx, "etapa_x2", []string{"k", "v"}, [][]any{{"z", 1}}); err != nil {
			t.Fatal(err)
		}
		if n, err := warehouse.AttachStage(ctx, e, "etapa_x2", "etapa_sin_particion"); err != nil || n != 1 {
			t.Fatalf("table without a partition key: %d partitions, %v", n, err)
		}
		if got := rows("SELECT count() FROM etapa_sin_particion"); got[0][0] != uint64(1) {
			t.Errorf("table without a partition key: %v rows", got[0][0])
		}

		names, err := warehouse.TablesWithPrefix(ctx, e, "etapa_x")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"etapa_x1", "etapa_x2"}) {
			t.Errorf("TablesWithPrefix: %v", names)
		}
		for _, n := range names {
			if err := warehouse.DropTable(ctx, e, n); err != nil {
				t.Fatal(err)
			}
		}
		if names, _ := warehouse.TablesWithPrefix(ctx, e, "etapa_x"); len(names) != 0 {
			t.Errorf("after DropTable: %v", names)
		}
		// Rows the stage held stay in the target (the parts were linked).
		if got := rows("SELECT count() FROM etapa_destino FINAL"); got[0][0] != uint64(3) {
			t.Errorf("the target after the stage was dropped: %v rows", got[0][0])
		}
	})
}
