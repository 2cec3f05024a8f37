package warehouse_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestIntegration runs the same assertions on embedded chDB and on a real
// ClickHouse server.
func TestIntegration(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		t.Logf("motor: %s, base de datos %s", e.Kind(), e.Database())

		t.Run("migrations are recorded and idempotent", func(t *testing.T) {
			rep, err := warehouse.Migrate(ctx, e, "")
			if err != nil {
				t.Fatal(err)
			}
			migs, _ := warehouse.Migrations()
			if len(rep.Applied) != 0 || rep.Current != migs[len(migs)-1].Version {
				t.Fatalf("second run applied %v, current %d", rep.Applied, rep.Current)
			}
			res, err := e.Query(ctx, "SELECT count() FROM schema_migrations")
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rows[0][0].(uint64); got != uint64(len(migs)) {
				t.Fatalf("schema_migrations has %d rows, want %d", got, len(migs))
			}
			for _, table := range []string{"entities", "liquidations", "payments", "gel_measurements", "budget_lines", "etl_runs", "quarantine", "watermarks"} {
				res, err := e.Query(ctx, "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
					warehouse.P("db", e.Database()), warehouse.P("t", table))
				if err != nil {
					t.Fatal(err)
				}
				if res.Rows[0][0].(uint64) != 1 {
					t.Errorf("table %s missing", table)
				}
			}
		})

		t.Run("DIVIPOLA seed loads the real list once", func(t *testing.T) {
			n, err := warehouse.SeedEntities(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1122+33 {
				t.Fatalf("seeded %d entities, want 1122 municipalities + 33 departments", n)
			}
			if n, err = warehouse.SeedEntities(ctx, e); err != nil || n != 0 {
				t.Fatalf("second seed inserted %d (%v)", n, err)
			}
			res, err := e.Query(ctx, "SELECT name, department_name FROM entities WHERE code = {c:String}", warehouse.P("c", "25151"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != 1 || res.Rows[0][0] != "CÁQUEZA" || res.Rows[0][1] != "CUNDINAMARCA" {
				t.Fatalf("25151 = %v", res.Rows)
			}
		})

		t.Run("typed values round-trip the same on both engines", func(t *testing.T) {
			issue := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
			loaded := time.Date(2026, 11, 21, 14, 30, 5, 0, time.UTC)
			cols := []string{"liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym", "issue_date", "due_date",
				"base_amount", "billed_total", "expected_total", "verification_diff", "source_line", "loaded_at", "verification_detail"}
			rows := [][]any{
				{"L-1", "18001", "predial", 2024, "ab12", issue, "2024-03-31", decimal.RequireFromString("123456789.01"),
					decimal.RequireFromString("987654.32"), "987654.32", 0, 7, loaded, "tab\there\nnew line 'quote' \\ back"},
				{"L-2", "68001", "ica", uint16(2023), "cd34", issue, issue, decimal.NewFromInt(0), decimal.RequireFromString("-5.5"),
					decimal.RequireFromString("0.01"), decimal.RequireFromString("-5.51"), uint64(8), loaded, "ñandú — «acentos»"},
			}
			if err := e.Insert(ctx, "liquidations", cols, rows); err != nil {
				t.Fatal(err)
			}
			res, err := e.Query(ctx, `SELECT liquidation_id, tax_year, issue_date, due_date, base_amount, billed_total,
				verification_diff, source_line, loaded_at, verification_detail, toInt32(-3) AS neg, toFloat64(0.5) AS f
				FROM liquidations ORDER BY liquidation_id`)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != 2 {
				t.Fatalf("%d rows", len(res.Rows))
			}
			r := res.Rows[0]
			want := []any{"L-1", uint64(2024), issue, time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC),
				decimal.RequireFromString("123456789.01"), decimal.RequireFromString("987654.32"), decimal.Zero,
				uint64(7), loaded, "tab\there\nnew line 'quote' \\ back", int64(-3), 0.5}
			for i, w := range want {
				if !equal(r[i], w) {
					t.Errorf("column %s: got %#v (%T), want %#v (%T)", res.Columns[i].Name, r[i], r[i], w, w)
				}
			}
			if got := res.Rows[1][6].(decimal.Decimal); !got.Equal(decimal.RequireFromString("-5.51")) {
				t.Errorf("negative decimal: %v", got)
			}
			if got := res.Rows[1][9]; got != "ñandú — «acentos»" {
				t.Errorf("utf-8: %q", got)
			}
			if typ := res.Columns[4].Type; !strings.HasPrefix(typ, "Decimal(18") {
				t.Errorf("decimal column type %q", typ)
			}
		})

		t.Run("parameters are bound as literals, never as code", func(t *testing.T) {
			hostile := "x' OR 1=1; DROP TABLE liquidations; --"
			res, err := e.Query(ctx, "SELECT count() FROM liquidations WHERE liquidation_id = {id:String}", warehouse.P("id", hostile))
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0][0].(uint64) != 0 {
				t.Fatalf("hostile id matched %v rows", res.Rows[0][0])
			}
			res, err = e.Query(ctx, "SELECT count() FROM liquidations WHERE tax_year = {y:UInt16} AND municipality_code IN {m:In(String)}",
				warehouse.P("y", 2024), warehouse.P("m", []string{"18001", "25151"}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0][0].(uint64) != 1 {
				t.Fatalf("count = %v, want 1", res.Rows[0][0])
			}
		})

		t.Run("ReplacingMergeTree keeps one copy of a reloaded row", func(t *testing.T) {
			cols := []string{"payment_id", "municipality_code", "tax", "tax_year", "paid_at", "paid_date", "amount", "channel", "loaded_at"}
			paid := time.Date(2020, 8, 3, 10, 0, 0, 0, time.UTC)
			for i := 0; i < 2; i++ {
				row := []any{"P-1", "68001", "ica", 2020, paid, paid, decimal.NewFromInt(1000), "pse", paid.Add(time.Duration(i) * time.Hour)}
				if err := e.Insert(ctx, "payments", cols, [][]any{row}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.Query(ctx, "SELECT count(), max(loaded_at) FROM payments FINAL")
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0][0].(uint64) != 1 || !res.Rows[0][1].(time.Time).Equal(paid.Add(time.Hour)) {
				t.Fatalf("FINAL = %v", res.Rows[0])
			}
		})

		t.Run("stream writes the engine's own CSV", func(t *testing.T) {
			var buf bytes.Buffer
			err := e.Stream(ctx, &buf, "CSVWithNames",
				"SELECT liquidation_id, base_amount, verification_detail FROM liquidations WHERE tax = {t:String} ORDER BY liquidation_id",
				warehouse.P("t", "ica"))
			if err != nil {
				t.Fatal(err)
			}
			want := "\"liquidation_id\",\"base_amount\",\"verification_detail\"\n\"L-2\",0.00,\"ñandú — «acentos»\"\n"
			if buf.String() != want {
				t.Fatalf("CSV:\n%q\nwant\n%q", buf.String(), want)
			}
		})

		t.Run("large stream arrives whole", func(t *testing.T) {
			var n countingWriter
			if err := e.Stream(ctx, &n, "TSV", "SELECT number FROM system.numbers LIMIT 2000000"); err != nil {
				t.Fatal(err)
			}
			// 0..1999999 as decimal text plus newlines
			if n.n != 14888890 {
				t.Fatalf("streamed %d bytes", n.n)
			}
		})

		t.Run("errors carry ClickHouse's message", func(t *testing.T) {
			_, err := e.Query(ctx, "SELECT nosuchcolumn FROM liquidations")
			var qe *warehouse.QueryError
			if !errors.As(err, &qe) || !strings.Contains(qe.Message, "nosuchcolumn") {
				t.Fatalf("error %v does not carry ClickHouse's message", err)
			}
			err = e.Stream(ctx, &bytes.Buffer{}, "CSV", "SELECT nosuchcolumn FROM liquidations")
			if !errors.As(err, &qe) || !strings.Contains(qe.Message, "nosuchcolumn") {
				t.Fatalf("stream error %v does not carry ClickHouse's message", err)
			}
		})

		t.Run("a cancelled context stops the query", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := e.Query(cctx, "SELECT count() FROM system.numbers LIMIT 1"); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			tctx, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel2()
			start := time.Now()
			err := e.Stream(tctx, &countingWriter{}, "TSV", "SELECT sum(number) FROM system.numbers")
			if err == nil {
				t.Fatal("endless query finished")
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("cancel took %v", time.Since(start))
			}
		})
	})
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

func equal(a, b any) bool {
	switch x := a.(type) {
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == time.UTC
	}
	return a == b
}
