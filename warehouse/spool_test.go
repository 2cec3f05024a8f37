package warehouse_test

import (
	"context"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestSpool: blocks added to a spool are inserted once, in one insert; a
// spool closed without Insert inserts nothing, even after blocks went
// down the embedded engine's pipe; an insert larger than the pipe streams.
func TestSpool(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if err := e.Exec(ctx, "CREATE TABLE spool_t (k UInt64, s String, n Nullable(UInt32)) ENGINE = MergeTree ORDER BY k"); err != nil {
			t.Fatal(err)
		}
		tc, err := warehouse.ColumnsOf(ctx, e, "spool_t", []string{"k", "s", "n"})
		if err != nil {
			t.Fatal(err)
		}
		fill := func(s *warehouse.Spool, from, blocks, rows int) {
			t.Helper()
			for b := 0; b < blocks; b++ {
				blk := tc.NewBlock(rows, 24)
				for i := 0; i < rows; i++ {
					k := from + b*rows + i
					blk.Int(int64(k))
					blk.String("fila de prueba")
					if k%3 == 0 {
						blk.Null()
					} else {
						blk.Int(int64(k % 1000))
					}
					if err := blk.EndRow(); err != nil {
						t.Fatal(err)
					}
				}
				sent, err := s.Add(blk)
				if err != nil {
					t.Fatal(err)
				}
				if sent {
					tc.Recycle([]*warehouse.Block{blk})
				}
			}
		}
		count := func() uint64 {
			t.Helper()
			res, err := e.Query(ctx, "SELECT count(), countIf(n IS NULL) FROM spool_t")
			if err != nil {
				t.Fatal(err)
			}
			return res.Rows[0][0].(uint64)
		}

		s, err := warehouse.NewSpool(ctx, e, tc)
		if err != nil {
			t.Fatal(err)
		}
		fill(s, 0, 3, 1000)
		if err := s.Insert(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 3000 {
			t.Fatalf("after one spool: %d rows", n)
		}

		abandoned, err := warehouse.NewSpool(ctx, e, tc)
		if err != nil {
			t.Fatal(err)
		}
		fill(abandoned, 10000, 5, 1000)
		abandoned.Close()
		if n := count(); n != 3000 {
			t.Fatalf("an abandoned spool inserted rows: %d", n)
		}

		big, err := warehouse.NewSpool(ctx, e, tc)
		if err != nil {
			t.Fatal(err)
		}
		fill(big, 100000, 100, 2000) // about 6 MB: many pipe buffers
		if err := big.Insert(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 203000 {
			t.Fatalf("after the large spool: %d rows", n)
		}
		res, err := e.Query(ctx, "SELECT countIf(n IS NULL), sum(k) FROM spool_t")
		if err != nil {
			t.Fatal(err)
		}
		// k ≡ 0 (mod 3) are null: 1000 of the first 3000, and of 100000..299999.
		var wantNull uint64 = 1000
		for k := 100000; k < 300000; k++ {
			if k%3 == 0 {
				wantNull++
			}
		}
		if res.Rows[0][0].(uint64) != wantNull {
			t.Errorf("nulls: %v, want %d", res.Rows[0][0], wantNull)
		}
	})
}
