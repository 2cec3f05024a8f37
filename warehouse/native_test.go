package warehouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestInsertEveryColumnType inserts edge values of every column type the
// migrations use and reads them back as the engine's text: the embedded
// engine sends them as a Native file, the server through clickhouse-go, and
// both must store what the same values written as SQL literals store.
func TestInsertEveryColumnType(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		ddl := `(k UInt64, s String, u8 UInt8, u16 UInt16, u32 UInt32, i64 Int64, f Float64,
			d Date, dt DateTime, m Decimal(18, 2), w Decimal(38, 2), r Decimal(9, 4),
			nm Nullable(Decimal(18, 2)), nw Nullable(Decimal(38, 2)), nu Nullable(UInt32), nd Nullable(Date))
			ENGINE = MergeTree ORDER BY k`
		for _, tbl := range []string{"tipos_insert", "tipos_literal", "tipos_bloque"} {
			if err := e.Exec(ctx, "CREATE TABLE "+tbl+" "+ddl); err != nil {
				t.Fatal(err)
			}
		}
		cols := []string{"k", "s", "u8", "u16", "u32", "i64", "f", "d", "dt", "m", "w", "r", "nm", "nw", "nu", "nd"}
		bogota := time.FixedZone("COT", -5*3600)
		dec := decimal.RequireFromString
		rows := [][]any{
			{uint64(1), "ñandú\t«tab»\nnueva línea \\ barra", uint8(255), 65535, uint64(4294967295), int64(-9223372036854775808), 1.5,
				time.Date(2020, 8, 3, 0, 0, 0, 0, time.UTC), time.Date(2020, 8, 3, 23, 30, 0, 0, bogota),
				dec("-1234567890123456.78"), dec("-123456789012345678901234567890123456.78"), dec("12345.6789"),
				nil, nil, nil, nil},
			{uint64(2), "", 0, 0, 0, int64(0), 0.0,
				time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0),
				decimal.Zero, dec("0.01"), dec("-0.0001"),
				dec("99.999"), dec("123456789012345678901234567890.5"), uint64(7), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
			{uint64(3), "x", 1, 2, 3, 4, -2.25,
				"2025-01-15", "2025-01-15 10:20:30",
				1200, "-0.005", 3,
				dec("100"), dec("-1"), 0, "2025-12-31"},
		}
		if err := e.Insert(ctx, "tipos_insert", cols, rows); err != nil {
			t.Fatal(err)
		}
		// The same values as literals, rounded as Bind rounds (half away
		// from zero): 99.999 → 100.00, -0.005 → -0.01.
		// (INSERT ... VALUES through clickhouse-go hangs on 18.16, see
		// chserver/COMPAT.md; INSERT ... SELECT does not.)
		lit := `INSERT INTO tipos_literal
			SELECT 1, 'ñandú\t«tab»\nnueva línea \\ barra', 255, 65535, 4294967295, -9223372036854775808, 1.5,
			 toDate('2020-08-03'), toDateTime('2020-08-04 04:30:00', 'UTC'), toDecimal64('-1234567890123456.78', 2),
			 toDecimal128('-123456789012345678901234567890123456.78', 2), toDecimal32('12345.6789', 4), NULL AS nm, NULL AS nw, NULL AS nu, NULL AS nd
			UNION ALL
			SELECT 2, '', 0, 0, 0, 0, 0, toDate('1970-01-01'), toDateTime(0, 'UTC'), toDecimal64('0', 2), toDecimal128('0.01', 2), toDecimal32('-0.0001', 4),
			 toDecimal64('100.00', 2), toDecimal128('123456789012345678901234567890.50', 2), 7, toDate('2100-01-01')
			UNION ALL
			SELECT 3, 'x', 1, 2, 3, 4, -2.25, toDate('2025-01-15'), toDateTime('2025-01-15 10:20:30', 'UTC'), toDecimal64('1200', 2),
			 toDecimal128('-0.01', 2), toDecimal32('3', 4), toDecimal64('100', 2), toDecimal128('-1', 2), 0, toDate('2025-12-31')`
		if err := e.Exec(ctx, lit); err != nil {
			t.Fatal(err)
		}
		dump := func(tbl string) string {
			var b strings.Builder
			if err := e.Stream(ctx, &b, "TabSeparated", "SELECT * FROM "+tbl+" ORDER BY k"); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		got, want := dump("tipos_insert"), dump("tipos_literal")
		if got != want {
			t.Errorf("insert stored\n%s\nliterals stored\n%s", got, want)
		}

		// The same rows as blocks filled by the typed appenders (the ETL's
		// path), over two blocks in one insert.
		tc, err := warehouse.ColumnsOf(ctx, e, "tipos_bloque", cols)
		if err != nil {
			t.Fatal(err)
		}
		blocks := []*warehouse.Block{tc.NewBlock(2, 100), tc.NewBlock(1, 100)}
		for i, row := range rows {
			b := blocks[min(i, 1)]
			for _, v := range row {
				switch x := v.(type) {
				case string:
					b.String(x)
				case int:
					b.Int(int64(x))
				case int64:
					b.Int(x)
				case uint64:
					b.Int(int64(x))
				case decimal.Decimal:
					b.Decimal(x)
				case time.Time:
					b.Time(x)
				case nil:
					b.Null()
				default:
					b.Value(x)
				}
			}
			if err := b.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		if err := warehouse.InsertBlocks(ctx, e, blocks); err != nil {
			t.Fatal(err)
		}
		if blk := dump("tipos_bloque"); blk != want {
			t.Errorf("blocks stored\n%s\nliterals stored\n%s", blk, want)
		}

		// Values that do not fit are errors naming the column on both
		// backends (the server's driver alone would wrap 65536 to 0), and
		// nothing of the batch is stored.
		for _, bad := range []struct {
			name string
			row  []any
			col  string
		}{
			{"u16 overflow", []any{uint64(9), "", 0, 65536, 0, 0, 0.0, "2025-01-01", "2025-01-01 00:00:00", 0, 0, 0, nil, nil, nil, nil}, "u16"},
			{"decimal digits", []any{uint64(9), "", 0, 0, 0, 0, 0.0, "2025-01-01", "2025-01-01 00:00:00", 0, 0, dec("123456.7"), nil, nil, nil, nil}, "r"},
			{"null", []any{uint64(9), nil, 0, 0, 0, 0, 0.0, "2025-01-01", "2025-01-01 00:00:00", 0, 0, 0, nil, nil, nil, nil}, "s"},
			{"date range", []any{uint64(9), "", 0, 0, 0, 0, 0.0, "1969-12-31", "2025-01-01 00:00:00", 0, 0, 0, nil, nil, nil, nil}, "d"},
			// The server writes days from 2106 on as 1970-01-01 in text.
			{"date past 2105", []any{uint64(9), "", 0, 0, 0, 0, 0.0, "2106-01-01", "2025-01-01 00:00:00", 0, 0, 0, nil, nil, nil, nil}, "d"},
		} {
			err := e.Insert(ctx, "tipos_insert", cols, [][]any{bad.row})
			if err == nil {
				t.Errorf("%s: no error", bad.name)
				continue
			}
			if !strings.Contains(err.Error(), "columna "+bad.col) {
				t.Errorf("%s: the error does not name column %s: %v", bad.name, bad.col, err)
			}
			b := tc.NewBlock(1, 100)
			if err := b.AppendRow(bad.row); err == nil || !strings.Contains(err.Error(), "columna "+bad.col) {
				t.Errorf("%s: a block took the row or its error does not name column %s: %v", bad.name, bad.col, err)
			}
		}
		if after := dump("tipos_insert"); after != got {
			t.Errorf("a refused batch changed the table:\n%s", after)
		}
	})
}
