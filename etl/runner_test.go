package etl_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/recompute"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// writePredialFile writes a Bucaramanga predial export in the format of a
// municipal tax system: Spanish headers, semicolons, decimal commas,
// dd/mm/yyyy dates, Windows-1252 is not needed here (UTF-8 with BOM). The
// billed totals come from the liquidation core, except rows listed in
// wrong, billed 50,000 pesos too much. It returns the good row count.
func writePredialFile(t *testing.T, path string, n int, wrong map[int]bool, bad []string) int {
	t.Helper()
	rules := liquidation.MustEmbeddedRules()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	b := bufio.NewWriterSize(f, 1<<20) // streamed: the 10M-row benchmark file is 1.4 GB
	b.WriteString("\ufeffNo. Liquidación;Cédula/NIT;Nombre del contribuyente;Dirección;Vigencia;Fecha expedición;Avalúo catastral;Destino;Estrato;Impuesto;Total facturado\n")
	for i := 0; i < n; i++ {
		// Avalúos from 40 to 4,039 million pesos, as in a real city's roll
		// (a linear ramp would pass 300,000 million pesos at 300k rows).
		avaluo := decimal.NewFromInt(int64(40_000_000 + 1_000_000*(i%4000)))
		estrato := 1 + i%4
		rec := &ingest.Liquidation{LiquidationID: fmt.Sprintf("BGA-%05d", i), MunicipalityCode: "68001", Tax: "predial", TaxYear: 2025,
			Avaluo: &avaluo, Destino: "habitacional", Estrato: &estrato, TotalAmount: decimal.Zero}
		res, err := rules.Liquidate(recompute.Request(rules, rec))
		if err != nil {
			t.Fatal(err)
		}
		total := res.Total
		tax := decimal.Zero
		for _, l := range res.Lines {
			if l.Code == "P04" {
				tax = l.Value
			}
		}
		if wrong[i] {
			total = total.Add(decimal.NewFromInt(50000))
		}
		fmt.Fprintf(b, "BGA-%05d;%d;Contribuyente Número %d;Calle %d # 10-20;2025;15/01/2025;%s;habitacional;%d;%s;%s\n",
			i, 91000000+i*7, i, i, strings.ReplaceAll(avaluo.StringFixed(2), ".", ","), estrato,
			strings.ReplaceAll(tax.String(), ".", ","), strings.ReplaceAll(total.String(), ".", ","))
	}
	for _, l := range bad {
		b.WriteString(l + "\n")
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

func predialSource(path string) ingest.SourceConfig {
	return ingest.SourceConfig{
		Name: "bga-predial", Kind: ingest.SourceFile, Record: ingest.KindLiquidation,
		File:      &ingest.FileConfig{Path: path},
		Delimiter: ";",
		Numbers:   ingest.NumbersConfig{Decimal: ",", Thousands: "none"},
		Dates:     ingest.DatesConfig{Formats: []string{"dd/mm/yyyy"}},
		Mapping: map[string]string{
			"No. Liquidación": "liquidation_id", "Cédula/NIT": "taxpayer_id", "Nombre del contribuyente": "taxpayer_name",
			"Dirección": "taxpayer_address", "Vigencia": "tax_year", "Fecha expedición": "issue_date", "Avalúo catastral": "avaluo",
			"Destino": "destino", "Estrato": "estrato", "Impuesto": "tax_amount", "Total facturado": "total_amount",
		},
		Defaults: map[string]string{"municipality_code": "68001", "tax": "predial"},
	}
}

func newRunner(t *testing.T, e warehouse.Engine, jobs ...etl.JobConfig) *etl.Runner {
	t.Helper()
	p, err := etl.NewPseudonymizer([]byte(strings.Repeat("clave-de-prueba-", 3)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := etl.Config{BatchSize: 7, Jobs: jobs} // small batches: many inserts per run
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &etl.Runner{Eng: e, Pseudo: p, Rules: liquidation.MustEmbeddedRules(), Config: cfg}
}

func count(t *testing.T, e warehouse.Engine, sql string, params ...warehouse.Param) uint64 {
	t.Helper()
	res, err := e.Query(context.Background(), sql, params...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(uint64)
}

func TestJobLoadsVerifiesAndQuarantines(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		dir := t.TempDir()
		file := filepath.Join(dir, "predial_2025.csv")
		bad := []string{
			"BGA-90001;91000001;Sin Avalúo;Calle 1;2025;15/01/2025;;habitacional;2;1000;1000",                 // missing avalúo: loads, unverifiable
			"BGA-90002;91000002;Fecha Mala;Calle 2;2025;31/02/2025;50000000,00;habitacional;2;250000;250000",  // impossible date
			"BGA-90003;91000003;Número Malo;Calle 3;2025;15/01/2025;cincuenta;habitacional;2;250000;250000",   // invalid number
			"BGA-00003;91000003;Duplicada;Calle 3;2025;15/01/2025;50000000,00;habitacional;2;250000;250000",   // duplicate key
			"BGA-90004;91000004;Destino Raro;Calle 4;2025;15/01/2025;50000000,00;parqueadero;2;250000;250000", // destino without a tariff: loads, unverifiable
		}
		good := writePredialFile(t, file, 40, map[int]bool{5: true, 17: true}, bad)
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})

		rep, err := r.Run(ctx, "bga")
		if err != nil {
			t.Fatal(err)
		}
		t.Log(rep.Summary())
		if rep.Status != etl.StatusCommitted || rep.Read != int64(good+len(bad)) || rep.Read != rep.Loaded+rep.Quarantined+rep.Skipped {
			t.Fatalf("books: %s", rep.Summary())
		}
		if rep.Loaded != int64(good+2) || rep.Quarantined != 3 {
			t.Fatalf("loaded %d (want %d), quarantined %d (want 3)", rep.Loaded, good+2, rep.Quarantined)
		}
		// Exactly one physical copy of each row after the commit.
		if n := count(t, e, "SELECT count() FROM liquidations"); n != uint64(good+2) {
			t.Fatalf("liquidations: %d", n)
		}
		// Verification: the two deliberately wrong bills are discrepancies
		// of 50,000; the rows without avalúo or with a destino that has no
		// tariff cannot be verified; the rest match.
		res, err := e.Query(ctx, "SELECT verification_status, count(), sum(verification_diff) FROM liquidations GROUP BY verification_status ORDER BY verification_status")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		for _, row := range res.Rows {
			got[row[0].(string)] = row[1].(uint64)
			if row[0] == "discrepancy" && !row[2].(decimal.Decimal).Equal(decimal.NewFromInt(100000)) {
				t.Errorf("discrepancies add up to %v, want 100000", row[2])
			}
		}
		if got["discrepancy"] != 2 || got["unverifiable"] != 2 || got["match"]+got["rounding"] != uint64(good-2) {
			t.Fatalf("verification: %v", got)
		}
		// Quarantine names file, line and field; no personal text in it.
		q, err := e.Query(ctx, "SELECT source_file, source_line, field, raw, code, reason FROM quarantine ORDER BY source_line")
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Rows) != 3 {
			t.Fatalf("quarantine: %v", q.Rows)
		}
		wantFields := []string{"issue_date", "avaluo", "liquidation_id"}
		for i, row := range q.Rows {
			if row[0] != file || row[1].(uint64) != uint64(good+3+i) || row[2] != wantFields[i] || row[5] == "" {
				t.Errorf("quarantine row %d: %v", i, row)
			}
		}
		// No raw id, name or address reached any table.
		for _, tbl := range []string{"liquidations", "quarantine", "etl_runs", "watermarks"} {
			var dump strings.Builder
			if err := e.Stream(ctx, &dump, "TSV", "SELECT * FROM "+tbl); err != nil {
				t.Fatal(err)
			}
			for _, needle := range []string{"91000007", "Contribuyente Número", "Calle 1 #", "Fecha Mala", "Duplicada"} {
				if strings.Contains(dump.String(), needle) {
					t.Errorf("%q found in %s", needle, tbl)
				}
			}
		}
		// A second run finds the file unchanged and reads nothing.
		rep2, err := r.Run(ctx, "bga")
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Read != 0 || rep2.Unchanged != rep.Read {
			t.Fatalf("second run: %s", rep2.Summary())
		}
		// Touch the file: read again, still exactly one copy of each row.
		later := time.Now().Add(time.Minute)
		os.Chtimes(file, later, later)
		rep3, err := r.Run(ctx, "bga")
		if err != nil || rep3.Loaded != rep.Loaded {
			t.Fatalf("third run: %v %v", rep3, err)
		}
		if n := count(t, e, "SELECT count() FROM liquidations"); n != uint64(good+2) {
			t.Fatalf("after reload: %d liquidations", n)
		}
		if n := count(t, e, "SELECT count() FROM quarantine FINAL"); n != 3 {
			t.Fatalf("after reload: %d quarantined", n)
		}
		// The run log shows three committed runs with the books.
		runs, err := etl.LastRuns(ctx, e, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 || runs[0].Status != etl.StatusCommitted || runs[2].Read != uint64(rep.Read) {
			t.Fatalf("run log: %+v", runs)
		}
	})
}

func TestReferenceFilesLoadByConfiguration(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		dir := t.TempDir()
		var srcs []ingest.SourceConfig
		for _, s := range ingest.ReferenceSources() {
			// The reference declarations read the embedded files; point them at
			// copies on disk, as an operator's configuration would.
			b, err := os.ReadFile(filepath.Join("..", "reference", filepath.Base(s.File.Path)))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.Base(s.File.Path))
			os.WriteFile(p, b, 0o644)
			s.File = &ingest.FileConfig{Path: p}
			srcs = append(srcs, s)
		}
		r := newRunner(t, e, etl.JobConfig{Name: "referencia", Sources: srcs})
		r.Config.BatchSize = 5000
		rep, err := r.Run(context.Background(), "referencia")
		if err != nil {
			t.Fatal(err)
		}
		t.Log(rep.Summary())
		if rep.Quarantined != 0 || rep.Loaded != 1122+1681 {
			t.Fatalf("%s", rep.Summary())
		}
		if n := count(t, e, "SELECT count() FROM budget_lines FINAL"); n != 1681 {
			t.Fatalf("budget_lines %d", n)
		}
		if n := count(t, e, "SELECT count() FROM entities FINAL WHERE length(code) = 5"); n != 1122 {
			t.Fatalf("entities %d", n)
		}
		res, err := e.Query(context.Background(), "SELECT sum(budget_final) FROM budget_lines FINAL WHERE entity_code = '18001' AND year = 2013")
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows[0][0].(decimal.Decimal).Sign() <= 0 {
			t.Fatalf("Florencia 2013 budget: %v", res.Rows[0][0])
		}
	})
}

// TestSocrataWatermarkAdvancesOnlyOnCommit pulls payments from a Socrata
// server whose second page fails until told otherwise: the failed run
// leaves the watermark where it was, the next run finishes the pull.
func TestSocrataWatermarkAdvancesOnlyOnCommit(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		var failPage2 atomic.Bool
		failPage2.Store(true)
		var wheres []string
		rows := func(from, n int) string {
			var parts []string
			for i := from; i < from+n; i++ {
				parts = append(parts, fmt.Sprintf(`{":id":"row-%d",":updated_at":"2024-03-%02dT10:00:00.000Z","payment_id":"S-%d","taxpayer_id":"800%06d","municipality_code":"68001","tax":"ica","tax_year":"2023","paid_at":"2024-03-%02dT10:00:00.000","amount":"%d","channel":"PSE"}`, i, 1+i/10, i, i, 1+i/10, 1000+i))
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			q := req.URL.Query()
			wheres = append(wheres, q.Get("$where"))
			w.Header().Set("Content-Type", "application/json")
			switch q.Get("$offset") {
			case "", "0":
				if strings.Contains(q.Get("$where"), "2024-03-02") {
					// incremental pull after a commit: only newer rows
					fmt.Fprint(w, "[]")
					return
				}
				fmt.Fprint(w, rows(0, 10))
			case "10":
				if failPage2.Load() {
					http.Error(w, `{"message":"internal error"}`, 500)
					return
				}
				fmt.Fprint(w, rows(10, 5))
			default:
				fmt.Fprint(w, "[]")
			}
		}))
		defer srv.Close()
		src := ingest.SourceConfig{Name: "pagos-socrata", Kind: ingest.SourceSocrata, Record: ingest.KindPayment,
			Socrata: &ingest.SocrataConfig{BaseURL: srv.URL, Dataset: "abcd-1234", PageSize: 10, Incremental: true},
			Request: ingest.RequestConfig{Retries: -1}}
		none := -1
		r := newRunner(t, e, etl.JobConfig{Name: "pagos", Retries: &none, Sources: []ingest.SourceConfig{src}})
		ctx := context.Background()
		if _, err := r.Run(ctx, "pagos"); err == nil {
			t.Fatal("run with a failing page committed")
		}
		res, _ := e.Query(ctx, "SELECT count() FROM watermarks")
		if res.Rows[0][0].(uint64) != 0 {
			t.Fatal("a failed run advanced the watermark")
		}
		runs, _ := etl.LastRuns(ctx, e, 5)
		if len(runs) != 1 || runs[0].Status != etl.StatusFailed || runs[0].Error == "" {
			t.Fatalf("run log after failure: %+v", runs)
		}
		failPage2.Store(false)
		rep, err := r.Run(ctx, "pagos")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Loaded != 15 {
			t.Fatalf("%s", rep.Summary())
		}
		// The rows of the failed run's first page were loaded again, not twice.
		if n := count(t, e, "SELECT count() FROM payments"); n != 15 {
			t.Fatalf("payments: %d", n)
		}
		if _, err := r.Run(ctx, "pagos"); err != nil {
			t.Fatal(err)
		}
		if last := wheres[len(wheres)-1]; !strings.Contains(last, ":updated_at >") || !strings.Contains(last, "2024-03-02") {
			t.Fatalf("third run did not pull incrementally: $where=%q", last)
		}
	})
}

func TestTransientErrorsAreRetried(t *testing.T) {
	e := whtest.Embedded(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "sobrecargado", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "payment_id,taxpayer_id,municipality_code,tax,tax_year,paid_at,amount,channel\nH-1,1117500001,18001,predial,2024,2024-03-01 10:00:00,1000,web\n")
	}))
	defer srv.Close()
	src := ingest.SourceConfig{Name: "pagos-http", Kind: ingest.SourceHTTP, Record: ingest.KindPayment,
		HTTP: &ingest.HTTPConfig{URL: srv.URL + "/pagos.csv"}, Request: ingest.RequestConfig{Retries: -1}}
	three := 3
	r := newRunner(t, e, etl.JobConfig{Name: "http", Retries: &three, RetryBackoff: ingest.Duration(10 * time.Millisecond), Sources: []ingest.SourceConfig{src}})
	rep, err := r.Run(context.Background(), "http")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attempts != 3 || rep.Loaded != 1 {
		t.Fatalf("attempts %d, %s", rep.Attempts, rep.Summary())
	}
}

func TestBadConfigurationIsRejectedWhole(t *testing.T) {
	cfg := etl.Config{Jobs: []etl.JobConfig{
		{Name: "a", Schedule: "every day", Sources: []ingest.SourceConfig{{Name: "x", Kind: ingest.SourceFile, Record: ingest.KindPayment, File: &ingest.FileConfig{Path: "x.csv"}}}},
		{Name: "a"},
	}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"schedule \"every day\"", "está repetido", "no tiene sources"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestValueTooLargeForWarehouseIsQuarantined: an amount the source writes
// correctly but no Decimal(18, 2) column can hold is quarantined with its
// line, field and reason; the rows around it load and the run commits.
func TestValueTooLargeForWarehouseIsQuarantined(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "predial.csv")
		huge := []string{
			"BGA-90001;91000001;Total Enorme;Calle 1;2025;15/01/2025;50000000,00;habitacional;2;250000;123456789012345678901,00",
			"BGA-90002;91000002;Normal;Calle 2;2025;15/01/2025;50000000,00;habitacional;2;250000;250000",
		}
		good := writePredialFile(t, file, 10, nil, huge)
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})
		rep, err := r.Run(ctx, "bga")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Loaded != int64(good+1) || rep.Quarantined != 1 || rep.Read != rep.Loaded+rep.Quarantined+rep.Skipped {
			t.Fatalf("books: %s", rep.Summary())
		}
		if rep.Sources[0].Rejects[ingest.CodeRange] != 1 {
			t.Errorf("rejects by code: %v", rep.Sources[0].Rejects)
		}
		if n := count(t, e, "SELECT count() FROM liquidations WHERE liquidation_id = 'BGA-90002'"); n != 1 {
			t.Errorf("the row after the huge one: %d copies", n)
		}
		q, err := e.Query(ctx, "SELECT source_line, field, raw, code, reason FROM quarantine")
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Rows) != 1 {
			t.Fatalf("quarantine: %v", q.Rows)
		}
		row := q.Rows[0]
		if row[0].(uint64) != uint64(good+2) || row[1] != "total_amount" || row[2] != "123456789012345678901" || row[3] != ingest.CodeRange ||
			!strings.Contains(row[4].(string), "billed_total") {
			t.Errorf("quarantine row: %v", row)
		}
	})
}

// TestLoadWithOneConnection: with a pool of one connection the load still
// ends (an open insert holds the connection until the loader completes
// it, so nothing else may wait for one meanwhile), over many inserts with
// quarantined rows spread among them, and every row is accounted for.
func TestLoadWithOneConnection(t *testing.T) {
	e := whtest.EmbeddedPool(t, 1)
	file := filepath.Join(t.TempDir(), "predial.csv")
	good := writePredialFile(t, file, 5000, nil, nil)
	// Every 100th row gets an impossible date: quarantined rows in every
	// chunk the stream hands over, more of them than a batch.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	bad := 0
	for i := 100; i < len(lines); i += 100 {
		lines[i] = strings.Replace(lines[i], "15/01/2025", "31/02/2025", 1)
		bad++
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second) // it deadlocked before: fail instead of hanging
	defer cancel()
	rep, err := r.Run(ctx, "bga")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Loaded != int64(good-bad) || rep.Quarantined != int64(bad) || rep.Read != rep.Loaded+rep.Quarantined+rep.Skipped {
		t.Fatalf("books: %s (want %d loaded, %d quarantined)", rep.Summary(), good-bad, bad)
	}
	if n := count(t, e, "SELECT count() FROM liquidations"); n != uint64(good-bad) {
		t.Fatalf("liquidations: %d", n)
	}
	if n := count(t, e, "SELECT count() FROM quarantine"); n != uint64(bad) {
		t.Fatalf("quarantine: %d", n)
	}
}

// TestRerunLeavesOneCopyOfQuarantine: a run that reads a source again
// writes its rejects again; after its commit the quarantine holds one
// physical copy of each, like the source's table.
func TestRerunLeavesOneCopyOfQuarantine(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "predial.csv")
		bad := []string{
			"BGA-90001;91000001;Fecha Mala;Calle 1;2025;31/02/2025;50000000,00;habitacional;2;250000;250000",
			"BGA-90002;91000002;Número Malo;Calle 2;2025;15/01/2025;cincuenta;habitacional;2;250000;250000",
		}
		good := writePredialFile(t, file, 30, nil, bad)
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})
		for run := 1; run <= 2; run++ {
			if run == 2 { // the source changed: read again
				later := time.Now().Add(time.Minute)
				if err := os.Chtimes(file, later, later); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := r.Run(ctx, "bga")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Loaded != int64(good) || rep.Quarantined != 2 {
				t.Fatalf("run %d: %s", run, rep.Summary())
			}
		}
		for _, tbl := range []string{"liquidations", "quarantine"} {
			want := uint64(good)
			if tbl == "quarantine" {
				want = 2
			}
			if n := count(t, e, "SELECT count() FROM "+tbl); n != want {
				t.Errorf("%s: %d physical copies for %d rows after the second commit", tbl, n, want)
			}
		}
	})
}

// TestCommitKeepsEachKeyInOnePartition: liquidations are partitioned by tax
// year, and a source may correct a liquidation's tax year, which puts its
// new copy in another partition. Readers must see one copy per key, with
// the new year, on both engines; on the embedded engine, whose FINAL
// deduplicates partition by partition, the commit also leaves one physical
// copy and one part per partition (the memory of every FINAL read at ten
// million rows depends on it, see warehouse.FinalPerPartition).
func TestCommitKeepsEachKeyInOnePartition(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "predial.csv")
		good := writePredialFile(t, file, 30, nil, nil)
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})
		if _, err := r.Run(ctx, "bga"); err != nil {
			t.Fatal(err)
		}
		// The municipality corrects the tax year of ten liquidations.
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		moved := 0
		for i, l := range lines {
			if strings.HasPrefix(l, "BGA-0000") || strings.HasPrefix(l, "BGA-0001") && moved < 10 {
				lines[i] = strings.Replace(l, ";2025;15/01/2025;", ";2024;15/01/2025;", 1)
				moved++
			}
		}
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(file, later, later); err != nil {
			t.Fatal(err)
		}
		if rep, err := r.Run(ctx, "bga"); err != nil || rep.Loaded != int64(good) {
			t.Fatalf("second run: %v %v", rep, err)
		}
		committed := " WHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')"
		if n := count(t, e, "SELECT count() FROM liquidations FINAL"+committed); n != uint64(good) {
			t.Errorf("readers see %d liquidations, the source has %d", n, good)
		}
		if n := count(t, e, "SELECT count() FROM liquidations FINAL"+committed+" AND tax_year = 2024"); n != uint64(moved) {
			t.Errorf("readers see %d liquidations of 2024, the source moved %d", n, moved)
		}
		if !warehouse.FinalPerPartition(e) {
			return
		}
		if n := count(t, e, "SELECT count() FROM liquidations"); n != uint64(good) {
			t.Errorf("%d physical copies of %d liquidations after the commit", n, good)
		}
		if n := count(t, e, "SELECT count() FROM system.parts WHERE database = {db:String} AND table = 'liquidations' AND active",
			warehouse.P("db", e.Database())); n != 2 {
			t.Errorf("%d parts for the 2 tax years after the commit", n)
		}
	})
}

// TestFailedRunHidesNoCommittedRow: a run that fails after loading part of a
// corrected file must leave every reader seeing the committed rows, also
// after the engine merges the table (a ReplacingMergeTree merge keeps the
// newest copy of a key, committed or not). Its staging table goes with it,
// a staging table a crash left behind goes with the next run, and that run
// publishes the correction.
func TestFailedRunHidesNoCommittedRow(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "predial.csv")
		good := writePredialFile(t, file, 60, nil, nil)
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(file)}})
		if _, err := r.Run(ctx, "bga"); err != nil {
			t.Fatal(err)
		}
		// What readers see: the record-level dataset's query, at a cutoff
		// after every run of the test.
		view := func() string {
			t.Helper()
			res, err := analytics.RunWithBalances(ctx, e, "ds_liquidaciones", analytics.BalanceOptions{RunsUpTo: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(len(res.Rows), res.Rows)
		}
		before := view()
		if !strings.HasPrefix(before, fmt.Sprint(good, " ")) {
			t.Fatalf("readers see %.20s… rows, the source has %d", before, good)
		}

		// The municipality corrects every liquidation; the run loading the
		// correction fails at its second source, after the first one has
		// loaded every row.
		writePredialFile(t, file, 60, everyRow(60), nil)
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(file, later, later); err != nil {
			t.Fatal(err)
		}
		missing := predialSource(filepath.Join(t.TempDir(), "no-existe.csv"))
		missing.Name = "bga-faltante"
		none := -1
		failing := newRunner(t, e, etl.JobConfig{Name: "bga", Retries: &none, Sources: []ingest.SourceConfig{predialSource(file), missing}})
		if rep, err := failing.Run(ctx, "bga"); err == nil || len(rep.Sources) != 1 || rep.Sources[0].Loaded != int64(good) {
			t.Fatalf("the run with a missing file: %v %v", rep, err)
		}
		if err := e.Exec(ctx, "OPTIMIZE TABLE liquidations FINAL"); err != nil {
			t.Fatal(err)
		}
		if after := view(); after != before {
			t.Errorf("after a failed run and a merge readers see %.20s… rows, before it %.20s…", after, before)
		}
		if n := count(t, e, "SELECT count() FROM liquidations WHERE run_id NOT IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')"); n != 0 {
			t.Errorf("%d rows of the failed run in liquidations", n)
		}
		if names, err := warehouse.TablesWithPrefix(ctx, e, "etl_stage_"); err != nil || len(names) != 0 {
			t.Errorf("staging tables after the failed run: %v %v", names, err)
		}

		// Staging tables of other runs of the job: one a crash left behind
		// (its run never logged an end, and started longer ago than the
		// job's timeout), one whose run failed, and one of a run still going
		// in another process. The next run drops the first two and loads
		// the correction.
		runs := []struct {
			id, status string
			started    time.Time
			kept       bool
		}{
			{"20250101T000000.000Z-muerta", etl.StatusRunning, time.Now().Add(-2 * time.Hour), false},
			{"20250101T000001.000Z-fallida", etl.StatusFailed, time.Now().Add(-time.Minute), false},
			{"20250101T000002.000Z-en-curso", etl.StatusRunning, time.Now().Add(-time.Minute), true},
		}
		var kept []string
		for _, run := range runs {
			if err := e.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status"},
				[][]any{{run.id, "bga", run.started, run.started, run.status}}); err != nil {
				t.Fatal(err)
			}
			name := etl.StageTable("bga", run.id, "liquidations")
			if err := warehouse.CreateStage(ctx, e, "liquidations", name); err != nil {
				t.Fatal(err)
			}
			if run.kept {
				kept = append(kept, name)
			}
		}
		rep, err := r.Run(ctx, "bga")
		if err != nil || rep.Loaded != int64(good) {
			t.Fatalf("run after the failure: %v %v", rep, err)
		}
		if names, err := warehouse.TablesWithPrefix(ctx, e, "etl_stage_"); err != nil || !slices.Equal(names, kept) {
			t.Errorf("staging tables after the next run: %v, expected %v (%v)", names, kept, err)
		}
		if after := view(); after == before || !strings.HasPrefix(after, fmt.Sprint(good, " ")) {
			t.Errorf("after the correction committed readers see %.20s… rows (before it %.20s…)", after, before)
		}
	})
}

func everyRow(n int) map[int]bool {
	m := make(map[int]bool, n)
	for i := range n {
		m[i] = true
	}
	return m
}

// TestReadersSkipUncommittedCopies: rows of a run that has not committed
// can sit in the tables next to the committed copies of their keys (a crash
// between the commit's move of the staged rows and its committed row; a
// cluster, where runs write straight into the tables), with a newer
// version. Every query that reads committed rows must keep reading the
// committed copy: the run filter goes before FINAL (PREWHERE), not after it
// (WHERE), where FINAL would already have chosen the uncommitted copy.
func TestReadersSkipUncommittedCopies(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		dir := t.TempDir()
		liq := filepath.Join(dir, "predial.csv")
		writePredialFile(t, liq, 40, map[int]bool{3: true}, nil)
		pay := filepath.Join(dir, "pagos.csv")
		var b strings.Builder
		b.WriteString("payment_id,taxpayer_id,municipality_code,tax,tax_year,paid_at,amount,channel,liquidation_id\n")
		for i := range 40 {
			fmt.Fprintf(&b, "P-%03d,%d,68001,predial,2025,2025-0%d-1%d 10:00:00,%d,web,BGA-%05d\n", i, 91000000+i*7, 1+i%9, i%10, 100000+i, i)
		}
		if err := os.WriteFile(pay, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paySrc := ingest.SourceConfig{Name: "bga-pagos", Kind: ingest.SourceFile, Record: ingest.KindPayment, File: &ingest.FileConfig{Path: pay}}
		r := newRunner(t, e, etl.JobConfig{Name: "bga", Sources: []ingest.SourceConfig{predialSource(liq), paySrc}})
		rep, err := r.Run(ctx, "bga")
		if err != nil || rep.Loaded != 80 {
			t.Fatalf("%v %v", rep, err)
		}
		corte := time.Now().Add(time.Hour)
		var names []string
		results := func() map[string]string {
			t.Helper()
			out := map[string]string{}
			for _, name := range analytics.Names() {
				q, _ := analytics.Get(name)
				if !strings.Contains(q.SQL, "run_id IN") && !analytics.NeedsBalances(q.SQL) {
					continue
				}
				var params []warehouse.Param
				if strings.Contains(q.SQL, "{corte:") {
					params = append(params, warehouse.P("corte", corte))
				}
				if strings.Contains(q.SQL, "{k:") {
					params = append(params, warehouse.P("k", uint64(1)))
				}
				if strings.Contains(q.SQL, "{tajadas:") { // every taxpayer in one slice
					params = append(params, warehouse.P("tajadas", uint64(1)), warehouse.P("tajada", uint64(0)))
				}
				if strings.Contains(q.SQL, "{partes:") { // every liquidation in one slice
					params = append(params, warehouse.P("partes", uint64(1)))
				}
				if strings.Contains(q.SQL, "{pagos_hasta:") {
					params = append(params, warehouse.P("pagos_hasta", corte))
				}
				run := analytics.Run
				if analytics.NeedsBalances(q.SQL) { // the balances as of corte, read by the query
					run = func(ctx context.Context, e warehouse.Engine, name string, params ...warehouse.Param) (*warehouse.Result, error) {
						return analytics.RunWithBalances(ctx, e, name, analytics.BalanceOptions{RunsUpTo: corte}, params...)
					}
				}
				res, err := run(ctx, e, name, params...)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				out[name] = fmt.Sprint(res.Rows)
			}
			return out
		}
		before := results()
		for name, rows := range before {
			names = append(names, name)
			if rows == "[]" && (strings.Contains(name, "liquidaciones") || strings.Contains(name, "pagos")) {
				t.Errorf("%s reads nothing: the test would not see it change", name)
			}
		}
		// Copies of every row by a run that never committed, loaded later.
		for _, table := range []string{"liquidations", "payments"} {
			res, err := e.Query(ctx, "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
				warehouse.P("db", e.Database()), warehouse.P("t", table))
			if err != nil {
				t.Fatal(err)
			}
			var cols, exprs []string
			for _, row := range res.Rows {
				c := row[0].(string)
				cols = append(cols, c)
				switch c {
				case "run_id":
					exprs = append(exprs, "'sin-confirmar'")
				case "loaded_at":
					exprs = append(exprs, "loaded_at + 60")
				case "verification_status":
					exprs = append(exprs, "'discrepancy'")
				default:
					exprs = append(exprs, c)
				}
			}
			if err := e.Exec(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") SELECT "+strings.Join(exprs, ", ")+" FROM "+table); err != nil {
				t.Fatal(err)
			}
		}
		after := results()
		sort.Strings(names)
		for _, name := range names {
			if after[name] != before[name] {
				t.Errorf("%s changed with uncommitted copies in the tables:\n%.300s\n%.300s", name, before[name], after[name])
			}
		}
		if len(names) < 15 {
			t.Errorf("only %d queries read committed rows: %v", len(names), names)
		}
	})
}

// TestPostCommitFailuresAreReported: a task after the commit that fails
// leaves the run committed, does not stop the tasks after it, and comes back
// to the caller as a *PostCommitError naming the job and the task, counted
// in the metrics (`etl run` turns it into a non-zero exit).
func TestPostCommitFailuresAreReported(t *testing.T) {
	e := whtest.Embedded(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "predial.csv")
	writePredialFile(t, p, 20, nil, nil)
	r := newRunner(t, e, etl.JobConfig{Name: "predial", Sources: []ingest.SourceConfig{predialSource(p)}})
	reg := prometheus.NewRegistry()
	r.Metrics = etl.NewMetrics(reg)
	var ran []string
	r.OnCommit = []etl.CommitHook{
		{Name: "publicación", Run: func(context.Context, *etl.RunReport) error {
			ran = append(ran, "publicación")
			return errors.New("disco lleno")
		}},
		{Name: "tableros", Run: func(context.Context, *etl.RunReport) error {
			ran = append(ran, "tableros")
			return nil
		}},
	}
	rep, err := r.Run(context.Background(), "predial")
	var pe *etl.PostCommitError
	if !errors.As(err, &pe) || pe.Job != "predial" || pe.Task != "publicación" || !strings.Contains(err.Error(), "disco lleno") {
		t.Fatalf("want the publication's PostCommitError, got %v", err)
	}
	if rep == nil || rep.Status != etl.StatusCommitted || rep.Loaded == 0 {
		t.Fatalf("the run should stay committed: %+v", rep)
	}
	if strings.Join(ran, ",") != "publicación,tableros" {
		t.Fatalf("tasks run: %v", ran)
	}
	if n := count(t, e, "SELECT count() FROM etl_runs FINAL WHERE job = 'predial' AND status = 'committed'"); n != 1 {
		t.Fatalf("committed runs: %d", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var failures float64
	for _, mf := range mfs {
		if mf.GetName() == "observatorio_etl_post_commit_failures_total" {
			for _, m := range mf.GetMetric() {
				failures += m.GetCounter().GetValue()
			}
		}
	}
	if failures != 1 {
		t.Fatalf("observatorio_etl_post_commit_failures_total = %v", failures)
	}

	// RunJobs reports it too, apart from the jobs that failed.
	ran = nil
	failed, post := r.RunJobs(context.Background(), []string{"predial"}, nil)
	if failed != 0 || !errors.As(post, &pe) {
		t.Fatalf("RunJobs: %d failed, %v", failed, post)
	}
}
