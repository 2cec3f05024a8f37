package etl

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestWatermarkOfAnUncommittedRunIsIgnored reproduces a crash between the
// two last writes of a commit: the watermark of the new file is stored, the
// run's committed row is not. The next run must read the file again (its
// rows belong to no committed run, so no reader sees them), not skip it as
// unchanged.
func TestWatermarkOfAnUncommittedRunIsIgnored(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "predial.csv")
		head := "No. Liquidación;Cédula/NIT;Vigencia;Fecha expedición;Avalúo catastral;Destino;Estrato;Total facturado\n"
		row := func(i int) string {
			return "BGA-" + string(rune('0'+i)) + ";9100000" + string(rune('0'+i)) + ";2025;15/01/2025;50000000,00;habitacional;2;1000\n"
		}
		if err := os.WriteFile(file, []byte(head+row(1)+row(2)), 0o644); err != nil {
			t.Fatal(err)
		}
		src := ingest.SourceConfig{
			Name: "bga-predial", Kind: ingest.SourceFile, Record: ingest.KindLiquidation,
			File: &ingest.FileConfig{Path: file}, Delimiter: ";",
			Numbers: ingest.NumbersConfig{Decimal: ",", Thousands: "none"},
			Dates:   ingest.DatesConfig{Formats: []string{"dd/mm/yyyy"}},
			Mapping: map[string]string{"No. Liquidación": "liquidation_id", "Cédula/NIT": "taxpayer_id", "Vigencia": "tax_year",
				"Fecha expedición": "issue_date", "Avalúo catastral": "avaluo", "Destino": "destino", "Estrato": "estrato",
				"Total facturado": "total_amount"},
			Defaults: map[string]string{"municipality_code": "68001", "tax": "predial"},
		}
		p, err := NewPseudonymizer([]byte(strings.Repeat("clave-de-prueba-", 3)))
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Jobs: []JobConfig{{Name: "predial", Sources: []ingest.SourceConfig{src}}}}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		r := &Runner{Eng: e, Pseudo: p, Rules: liquidation.MustEmbeddedRules(), Config: cfg}
		if _, err := r.Run(ctx, "predial"); err != nil {
			t.Fatal(err)
		}

		// The file grows; a run reads it, loads its rows and writes the
		// watermark, and dies before its committed row.
		if err := os.WriteFile(file, []byte(head+row(1)+row(2)+row(3)), 0o644); err != nil {
			t.Fatal(err)
		}
		mark, _ := json.Marshal(watermark{Fingerprint: fingerprint(&cfg.Jobs[0].Sources[0]), Rows: 3})
		if err := e.Insert(ctx, "watermarks", []string{"job", "source", "watermark", "run_id", "updated_at"},
			[][]any{{"predial", "bga-predial", string(mark), "run-muerta", time.Now().UTC().Add(time.Minute)}}); err != nil {
			t.Fatal(err)
		}

		rep, err := r.Run(ctx, "predial")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Unchanged != 0 || rep.Read != 3 || rep.Loaded != 3 {
			t.Fatalf("after the crash the source was not read again: %s", rep.Summary())
		}
	})
}
