package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// writeLiquidations writes n rows of a municipal liquidation export as
// municipalities publish them: ';' separated, decimal commas, thousands
// dots, dd/mm/yyyy dates, NITs with dots and check digit, accents.
func writeLiquidations(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "No. Liquidación;Código DANE;Impuesto;Vigencia;Cédula/NIT;Nombre;Dirección;Fecha expedición;Fecha límite;Canal;Avalúo;Estrato;Tarifa x mil;Total a pagar")
	towns := []string{"18001", "25151", "68001", "05001", "11001", "76001"}
	names := []string{"José Muñoz", "Ángela Peña", "Comercializadora El Caguán S.A.S.", "María Fernanda Ortíz", "Iñaki Núñez"}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%d.%03d.%03d", 10+i%89, (i/7)%1000, i%1000)
		if i%10 == 0 {
			nit := fmt.Sprintf("9%08d", i%100000000)
			id = fmt.Sprintf("%s.%s.%s-%d", nit[:3], nit[3:6], nit[6:], nitCheckDigit(nit))
		}
		avaluo := int64(20_000_000 + (i%5000)*37_000)
		tax := "Impuesto Predial Unificado"
		if i%4 == 3 {
			tax = "Industria y Comercio"
		}
		channel := "Oficina Virtual"
		if i%3 == 0 {
			channel = "Ventanilla"
		}
		fmt.Fprintf(w, "LQ-%08d;%s;%s;%d;%s;%s;Calle %d # %d-%d;%02d/%02d/2024;%02d/%02d/2024;%s;%s;%d;%d,5;%s\n",
			i, towns[i%len(towns)], tax, 2024, id, names[i%len(names)], i%200, i%90, i%50,
			1+i%28, 1+i%3, 1+i%28, 4+i%3, channel, thousands(avaluo)+",00", 1+i%6, 5+i%11, thousands(avaluo*8/1000)+","+fmt.Sprintf("%02d", i%100))
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func thousands(v int64) string {
	s := fmt.Sprint(v)
	out := []byte{}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func benchConfig(path string) SourceConfig {
	return SourceConfig{Name: "bench", Kind: SourceFile, Record: KindLiquidation, File: &FileConfig{Path: path},
		Encoding: "utf-8", Delimiter: ";", Numbers: NumbersConfig{Decimal: ",", Thousands: "."},
		Dates: DatesConfig{Formats: []string{"dd/mm/yyyy"}},
		Mapping: map[string]string{"No. Liquidación": "liquidation_id", "Código DANE": "municipality_code", "Impuesto": "tax",
			"Vigencia": "tax_year", "Cédula/NIT": "taxpayer_id", "Nombre": "taxpayer_name", "Dirección": "taxpayer_address",
			"Fecha expedición": "issue_date", "Fecha límite": "due_date", "Canal": "filing_channel", "Avalúo": "avaluo",
			"Estrato": "estrato", "Tarifa x mil": "rate_per_mille", "Total a pagar": "total_amount"}}
}

// BenchmarkDecodeLiquidations decodes generated files of 100k and 1M rows
// (generated once into a temporary folder) and reports rows/s, MB/s,
// allocations, the peak live heap (as of each GC) and the peak memory the
// Go runtime holds, sampled every 16 batches. With
// dedupe=off the duplicate-key set (about 24 bytes per distinct key, up
// to max_tracked_keys) is left out, which shows the constant floor.
func BenchmarkDecodeLiquidations(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []int{100_000, 1_000_000} {
		path := filepath.Join(dir, fmt.Sprintf("liq_%d.csv", n))
		size, err := writeLiquidations(path, n)
		if err != nil {
			b.Fatal(err)
		}
		for _, dedupe := range []string{"reject", "off"} {
			b.Run(fmt.Sprintf("rows=%d/dedupe=%s", n, dedupe), func(b *testing.B) {
				cfg := benchConfig(path)
				cfg.Duplicates = dedupe
				b.SetBytes(size)
				b.ReportAllocs()
				var peakLive, peakTotal uint64
				// live heap as of the last GC, and all memory the runtime holds
				sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
				runtime.GC()
				start, cpu0 := time.Now(), cpuSeconds()
				for i := 0; i < b.N; i++ {
					st, err := Open(context.Background(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					batches := 0
					err = EachOf(context.Background(), st, func(recs []Liquidation, rejs []Reject) error {
						if len(rejs) > 0 {
							return fmt.Errorf("unexpected reject: %s", rejs[0])
						}
						if batches++; batches%16 == 0 {
							metrics.Read(sample)
							peakLive = max(peakLive, sample[0].Value.Uint64())
							peakTotal = max(peakTotal, sample[1].Value.Uint64())
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					if s := st.Stats(); s.Records != int64(n) {
						b.Fatalf("%d records", s.Records)
					}
					_ = st.Close()
				}
				el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
				b.ReportMetric(float64(n)*float64(b.N)/el, "rows/s")
				if cpu > 0 {
					// CPU time is steadier than wall time on a shared machine
					b.ReportMetric(float64(n)*float64(b.N)/cpu, "rows/cpu-s")
				}
				b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-MB")
				b.ReportMetric(float64(peakTotal)/(1<<20), "peak-total-MB")
			})
		}
	}
}
