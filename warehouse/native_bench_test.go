package warehouse

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// BenchmarkNativeBlock encodes liquidation-shaped rows (the ETL's widest
// table) as a Native block.
//
//	go test -run '^$' -bench NativeBlock -benchmem ./warehouse/
func BenchmarkNativeBlock(b *testing.B) {
	cols := []string{"liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym", "taxpayer_kind",
		"filing_channel", "issue_date", "due_date", "base_amount", "inputs", "billed_total", "expected_total",
		"verification_status", "verification_diff", "verification_detail", "source", "source_file", "source_line", "run_id", "loaded_at"}
	types := []string{"String", "String", "String", "UInt16", "String", "String", "String", "Date", "Date", "Decimal(18, 2)", "String",
		"Decimal(18, 2)", "Decimal(18, 2)", "String", "Decimal(18, 2)", "String", "String", "String", "UInt64", "String", "DateTime"}
	ct, err := nativeTypes(types)
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, 50000)
	for i := range rows {
		base := decimal.NewFromInt(int64(40_000_000 + 1000*i))
		rows[i] = []any{"BGA-00001", "68001", "predial", uint16(2025), "4f1c2a9b8e7d6c5b4a3928171615141312111009", "natural", "web", day, day,
			base, `{"destino":"habitacional","estrato":"2","avaluo":"40000000"}`, decimal.RequireFromString("320000.00"), decimal.RequireFromString("320000"),
			"match", decimal.Zero, "", "bga-predial", "/data/predial_2025.csv", int64(i + 2), "run-1", day}
	}
	w := bufio.NewWriterSize(io.Discard, 1<<20)
	l := &TableColumns{Table: "liquidations", Columns: cols, types: ct}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		blk := l.NewBlock(len(rows), 400)
		for _, r := range rows {
			if err := blk.AppendRow(r); err != nil {
				b.Fatal(err)
			}
		}
		blk.writeNative(w)
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}
