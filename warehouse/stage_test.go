package warehouse_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestInsertStageWritesCompactParts: an ETL run's staging table writes its
// parts Compact on the embedded engine, whatever their size (a Wide part
// holds two buffers per column while it is written), and the target's
// merge after the attach makes them Wide again. On a server the staging
// table is the target's copy.
func TestInsertStageWritesCompactParts(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if err := e.Exec(ctx, `CREATE TABLE etapa_formato (k UInt64, anio UInt16, s String) ENGINE = ReplacingMergeTree PARTITION BY anio ORDER BY k`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, n := range []string{"etapa_formato", "etapa_formato_x", "etapa_formato_y"} {
				warehouse.DropTable(context.Background(), e, n)
			}
		})
		if err := warehouse.CreateInsertStage(ctx, e, "etapa_formato", "etapa_formato_x"); err != nil {
			t.Fatal(err)
		}
		if err := warehouse.CreateStage(ctx, e, "etapa_formato", "etapa_formato_y"); err != nil {
			t.Fatal(err)
		}
		if e.Kind() == "embedded" {
			// Two parts, not one merged part, for the check below.
			if err := e.Exec(ctx, "SYSTEM STOP MERGES etapa_formato_x"); err != nil {
				t.Fatal(err)
			}
		}
		// 200,000 rows of about 110 bytes: 22 MB, past the 10 MB from
		// which the target's parts are Wide.
		for i, st := range []string{"etapa_formato_x", "etapa_formato_x", "etapa_formato_y"} {
			if err := e.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT number + %d, 2024, concat(toString(number), '%s') FROM system.numbers LIMIT 200000", st, i*200_000, strings.Repeat("x", 100))); err != nil {
				t.Fatal(err)
			}
		}
		types := func(table string) []string {
			res, err := e.Query(ctx, "SELECT part_type FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active ORDER BY name",
				warehouse.P("t", table))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range res.Rows {
				out = append(out, r[0].(string))
			}
			return out
		}
		if e.Kind() != "embedded" {
			n, err := warehouse.AttachStage(ctx, e, "etapa_formato_x", "etapa_formato")
			if err != nil || n != 1 {
				t.Fatalf("attach: %d partitions, %v", n, err)
			}
			return
		}
		if got := types("etapa_formato_x"); !slices.Equal(got, []string{"Compact", "Compact"}) {
			t.Errorf("the insert stage's parts: %v, want Compact", got)
		}
		if got := types("etapa_formato_y"); !slices.Equal(got, []string{"Wide"}) {
			t.Errorf("a plain stage's part: %v, want Wide (the target's format)", got)
		}
		if _, err := warehouse.AttachStage(ctx, e, "etapa_formato_x", "etapa_formato"); err != nil {
			t.Fatal(err)
		}
		if err := e.Exec(ctx, "OPTIMIZE TABLE etapa_formato FINAL"); err != nil {
			t.Fatal(err)
		}
		if got := types("etapa_formato"); !slices.Equal(got, []string{"Wide"}) {
			t.Errorf("the target after its merge: %v, want one Wide part", got)
		}
		res, err := e.Query(ctx, "SELECT count(), uniqExact(k) FROM etapa_formato")
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Rows[0]; r[0] != uint64(400_000) || r[1] != uint64(400_000) {
			t.Errorf("the target holds %v rows, %v keys; want 400000", r[0], r[1])
		}
	})
}

// TestInsertStageMergesTwentyPartsAtOnce: on the embedded engine a merge of
// an insert stage takes at least 20 parts (the ETL's commit rewrites every
// partition it wrote anyway), where a plain stage merges fewer. OPTIMIZE
// without FINAL asks the same merge selector the background merges use; the
// 20th part's merge starts in the background at once.
func TestInsertStageMergesTwentyPartsAtOnce(t *testing.T) {
	e := whtest.Embedded(t)
	ctx := context.Background()
	if err := e.Exec(ctx, `CREATE TABLE etapa_mezclas (k UInt64, anio UInt16) ENGINE = ReplacingMergeTree PARTITION BY anio ORDER BY k`); err != nil {
		t.Fatal(err)
	}
	if err := warehouse.CreateInsertStage(ctx, e, "etapa_mezclas", "etapa_mezclas_x"); err != nil {
		t.Fatal(err)
	}
	if err := warehouse.CreateStage(ctx, e, "etapa_mezclas", "etapa_mezclas_y"); err != nil {
		t.Fatal(err)
	}
	parts := func(table string) uint64 {
		res, err := e.Query(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active",
			warehouse.P("t", table))
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows[0][0].(uint64)
	}
	insert := func(table string, i int) {
		if err := e.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT number + %d, 2024 FROM system.numbers LIMIT 1000", table, i*1000)); err != nil {
			t.Fatal(err)
		}
	}
	optimize := func(table string) {
		if err := e.Exec(ctx, "OPTIMIZE TABLE "+table); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 19 {
		insert("etapa_mezclas_x", i)
		insert("etapa_mezclas_y", i)
	}
	optimize("etapa_mezclas_x")
	optimize("etapa_mezclas_y")
	if n := parts("etapa_mezclas_x"); n != 19 {
		t.Errorf("the insert stage holds %d parts after 19 inserts and an OPTIMIZE, want 19 (no merge of fewer than 20)", n)
	}
	if n := parts("etapa_mezclas_y"); n >= 19 {
		t.Errorf("the plain stage holds %d parts after 19 inserts and an OPTIMIZE, want them merged", n)
	}
	insert("etapa_mezclas_x", 19)
	for deadline := time.Now().Add(30 * time.Second); parts("etapa_mezclas_x") != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the insert stage still holds %d parts 30 s after its 20th insert, want 1", parts("etapa_mezclas_x"))
		}
	}
}

// TestInsertStageMergesColumnByColumn: on the embedded engine a merge of an
// insert stage into a Wide part goes column by column (the engine counts
// each column it gathers so) even below the 131,072 rows from which the
// engine's default does, while a plain stage's merge of the same parts
// goes all columns at once. The parts: 100,000 rows of 14 strings, 46 MB,
// past the 32 MB from which the insert stage writes Wide parts.
func TestInsertStageMergesColumnByColumn(t *testing.T) {
	e := whtest.Embedded(t)
	ctx := context.Background()
	cols, sel := "k UInt64, anio UInt16", "number, 2024"
	for i := range 14 {
		cols += fmt.Sprintf(", c%d String", i)
		sel += fmt.Sprintf(", concat(toString(number * %d), '%s')", i+1, strings.Repeat("x", 24))
	}
	if err := e.Exec(ctx, "CREATE TABLE etapa_columnas ("+cols+") ENGINE = ReplacingMergeTree PARTITION BY anio ORDER BY k"); err != nil {
		t.Fatal(err)
	}
	if err := warehouse.CreateInsertStage(ctx, e, "etapa_columnas", "etapa_columnas_x"); err != nil {
		t.Fatal(err)
	}
	if err := warehouse.CreateStage(ctx, e, "etapa_columnas", "etapa_columnas_y"); err != nil {
		t.Fatal(err)
	}
	gathered := func() uint64 {
		res, err := e.Query(ctx, "SELECT toUInt64(sum(value)) FROM system.events WHERE name = 'GatheredColumns'")
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows[0][0].(uint64)
	}
	merge := func(table string) (gatheredColumns uint64, partType string) {
		if err := e.Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := e.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT %s FROM numbers(%d, 50000)", table, sel, i*50_000)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Exec(ctx, "SYSTEM START MERGES "+table); err != nil {
			t.Fatal(err)
		}
		before := gathered()
		if err := e.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
		after := gathered()
		res, err := e.Query(ctx, "SELECT part_type, toUInt64(rows) FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active",
			warehouse.P("t", table))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 || res.Rows[0][1] != uint64(100_000) {
			t.Fatalf("%s after OPTIMIZE FINAL: %v, want one part of 100000 rows", table, res.Rows)
		}
		return after - before, res.Rows[0][0].(string)
	}
	if n, typ := merge("etapa_columnas_y"); n != 0 || typ != "Wide" {
		t.Errorf("the plain stage's merge gathered %d columns into a %s part, want 0 (all columns at once) into a Wide part", n, typ)
	}
	if n, typ := merge("etapa_columnas_x"); n == 0 || typ != "Wide" {
		t.Errorf("the insert stage's merge gathered %d columns into a %s part, want them gathered one by one into a Wide part", n, typ)
	}
}
