package warehouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestFinalPerPartition pins what FinalPerPartition promises: a key with
// copies in two partitions of a ReplacingMergeTree is read twice through
// FINAL where it says so (the embedded engine, which merges no streams
// across partitions) and once elsewhere, and AcrossPartitions makes one
// query deduplicate across partitions on every engine (the ETL's commit
// counts copies with it).
func TestFinalPerPartition(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if err := e.Exec(ctx, `CREATE TABLE final_particiones (k String, anio UInt16, v UInt32)
			ENGINE = ReplacingMergeTree(v) PARTITION BY anio ORDER BY k`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Exec(context.Background(), "DROP TABLE IF EXISTS final_particiones") })
		// One key corrected from 2024 to 2025, another loaded twice in 2025.
		for _, rows := range [][][]any{{{"a", 2024, 1}, {"b", 2025, 1}}, {{"a", 2025, 2}, {"b", 2025, 2}}} {
			if err := e.Insert(ctx, "final_particiones", []string{"k", "anio", "v"}, rows); err != nil {
				t.Fatal(err)
			}
		}
		countOf := func(sql string) uint64 {
			res, err := e.Query(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			return res.Rows[0][0].(uint64)
		}
		want := uint64(2)
		if warehouse.FinalPerPartition(e) {
			want = 3 // "a" in 2024 and in 2025
		}
		if n := countOf("SELECT count() FROM final_particiones FINAL"); n != want {
			t.Errorf("FINAL: %d rows, expected %d (FinalPerPartition %v)", n, want, warehouse.FinalPerPartition(e))
		}
		if n := countOf("SELECT count() FROM final_particiones FINAL" + warehouse.AcrossPartitions(e)); n != 2 {
			t.Errorf("FINAL%s: %d rows, expected 2", warehouse.AcrossPartitions(e), n)
		}
	})
}

// TestSortedCopySettings: the record-level build's settings reach the
// embedded engine also through the wrapper serve holds it in (a watched
// engine), and a server gets none.
func TestSortedCopySettings(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		for _, eng := range []warehouse.Engine{e, warehouse.Watch(e)} {
			got := warehouse.SortedCopySettings(eng)
			if want := e.Kind() == "embedded"; strings.Contains(got, "max_threads = 1") != want {
				t.Errorf("%T: %q", eng, got)
			}
		}
	})
}
