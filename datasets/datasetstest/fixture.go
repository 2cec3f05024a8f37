// Package datasetstest loads a warehouse the way a real instance is loaded
// (DIVIPOLA, the demo ETL's liquidations and payments, real FUT budget
// lines, GEL measurements, each from a committed run), publishes it, and
// keeps the raw demo records so that tests can look for personal data in
// everything the observatory publishes.
package datasetstest

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/reference"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Key is the HMAC key of the tests' pseudonyms.
var Key = bytes.Repeat([]byte{0x42}, 32)

// fixture is a warehouse loaded like a real instance: DIVIPOLA, the demo
// ETL's liquidations and payments, FUT budget lines and GEL measurements,
// each from a committed run, and the raw demo records (with the ids, names
// and addresses the publication must never show).
type Fixture struct {
	Eng          warehouse.Engine
	Liquidations []demo.Liquidation
	Payments     []demo.Payment
	// Releases are those of the first publication.
	Releases []datasets.Release
}

// Load loads the fixture on e and publishes it.
func Load(t testing.TB, e warehouse.Engine) *Fixture {
	t.Helper()
	return LoadScaled(t, e, 1)
}

// LoadScaled is Load with the demo's liquidations and payments multiplied
// by scale (5,100 liquidations and 4,302 payments at 1).
func LoadScaled(t testing.TB, e warehouse.Engine, scale float64) *Fixture {
	t.Helper()
	ctx := Ctx(t)
	f := &Fixture{Eng: e}
	if _, err := warehouse.SeedEntities(ctx, e); err != nil {
		t.Fatal(err)
	}
	p, err := etl.NewPseudonymizer(Key)
	if err != nil {
		t.Fatal(err)
	}
	o := demo.DefaultOptions()
	o.Scale = scale
	if _, err := etl.LoadDemo(ctx, e, p, o); err != nil {
		t.Fatal(err)
	}
	if err := demo.GenerateRows(o, func(l *demo.Liquidation) error {
		f.Liquidations = append(f.Liquidations, *l)
		return nil
	}, func(pm *demo.Payment) error {
		f.Payments = append(f.Payments, *pm)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	loadFUT(t, e)
	loadGEL(t, e)
	rels, err := datasets.Publish(ctx, e, datasets.PublishOptions{})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	f.Releases = rels
	return f
}

// loadFUT loads the real FUT budget lines of Florencia (18001) and the
// department of Caquetá (18000) from reference/.
func loadFUT(t testing.TB, e warehouse.Engine) {
	t.Helper()
	b, err := reference.Files.ReadFile("fut_presupuesto_ingresos_caqueta.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Read()
	var rows [][]any
	run := "fut-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	now := time.Now().UTC().Truncate(time.Second)
	line := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		line++
		if rec[2] != "18001" && rec[2] != "18000" {
			continue
		}
		y, _ := strconv.Atoi(rec[5])
		final, _ := decimal.NewFromString(rec[6])
		constant, _ := decimal.NewFromString(rec[7])
		rows = append(rows, []any{rec[0], rec[2], rec[3], rec[4], y, final.Round(2), constant.Round(2), "fut", "fut_presupuesto_ingresos_caqueta.csv", line, run, now})
	}
	if err := e.Insert(Ctx(t), "budget_lines", []string{"department_code", "entity_code", "entity_name", "rubro", "year", "budget_final", "budget_constant_2025", "source", "source_file", "source_line", "run_id", "loaded_at"}, rows); err != nil {
		t.Fatal(err)
	}
	CommitRun(t, e, run, "fut", len(rows))
}

// CommitRun records a committed ETL run.
func CommitRun(t testing.TB, e warehouse.Engine, id, job string, rows int) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	err := e.Insert(Ctx(t), "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
		[][]any{{id, job, now, now, "committed", rows, rows, 0, 0, 0, ""}})
	if err != nil {
		t.Fatal(err)
	}
}

// loadGEL loads Cáqueza's August 2009 GEL self-assessment (seed
// 004_c5cf8f5a2ac5eeaa.txt): Información 90%, Interacción 70%,
// Transacción 5%, Transformación 0%, Democracia 0%.
func loadGEL(t testing.TB, e warehouse.Engine) {
	t.Helper()
	run := "gel-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	now := time.Now().UTC().Truncate(time.Second)
	on := time.Date(2009, 8, 31, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i, ph := range []struct {
		phase string
		value string
	}{{"informacion", "0.9"}, {"interaccion", "0.7"}, {"transaccion", "0.05"}, {"transformacion", "0"}, {"democracia", "0"}} {
		rows = append(rows, []any{"gel2008", ph.phase, "avance", "25151", on, ph.value, "", 0, "seed", "004_c5cf8f5a2ac5eeaa.txt", i + 1, run, now})
	}
	if err := e.Insert(Ctx(t), "gel_measurements", []string{"framework", "phase", "criterion", "entity_code", "measured_on", "value", "evidence_url", "synthetic", "source", "source_file", "source_line", "run_id", "loaded_at"}, rows); err != nil {
		t.Fatal(err)
	}
	CommitRun(t, e, run, "gel", len(rows))
}

// PersonalStrings returns every personal value of the raw demo records
// (ids as the source writes them and normalized, names, and every string
// field whose name says it is personal: addresses, e-mails, phones), which
// must never appear in anything published.
func (f *Fixture) PersonalStrings() map[string]string {
	out := map[string]string{}
	add := func(kind, v string) {
		if len(v) >= 5 {
			out[v] = kind
		}
	}
	visit := func(v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name := t.Field(i).Name
			fv := v.Field(i)
			if fv.Kind() != reflect.String || !t.Field(i).IsExported() {
				continue
			}
			low := strings.ToLower(name)
			switch {
			case strings.Contains(low, "taxpayerid"), strings.HasSuffix(low, "nit"), strings.Contains(low, "cedula"):
				add("identificador", fv.String())
				add("identificador normalizado", etl.NormalizeID(fv.String()))
			case strings.Contains(low, "name") && !strings.Contains(low, "municipality"),
				strings.Contains(low, "address"), strings.Contains(low, "direccion"),
				strings.Contains(low, "email"), strings.Contains(low, "correo"),
				strings.Contains(low, "phone"), strings.Contains(low, "telefono"):
				add(low, fv.String())
			}
		}
	}
	for i := range f.Liquidations {
		visit(reflect.ValueOf(f.Liquidations[i]))
	}
	for i := range f.Payments {
		visit(reflect.ValueOf(f.Payments[i]))
	}
	return out
}

// RawIDs are the distinct raw taxpayer ids of the demo records.
func (f *Fixture) RawIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range f.Liquidations {
		if !seen[l.TaxpayerID] {
			seen[l.TaxpayerID] = true
			out = append(out, l.TaxpayerID)
		}
	}
	return out
}

// Ctx is the tests' context: with a deadline, so that the server backend
// does not derive and cancel a context per statement (see
// datasets.steadyContext for the clickhouse-go race that avoids), cancelled
// when the test ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	t.Cleanup(cancel)
	return ctx
}

// GenerateLiquidations has the engine generate n synthetic liquidations
// (five municipalities, ten tax years, n/5 taxpayers, so that k-anonymity
// keeps most rows) from one committed run, for benchmarks.
func GenerateLiquidations(ctx context.Context, e warehouse.Engine, n int) error {
	err := e.Exec(ctx, `INSERT INTO liquidations (liquidation_id, municipality_code, tax, tax_year, taxpayer_pseudonym, taxpayer_kind,
    filing_channel, issue_date, due_date, base_amount, inputs, billed_total, expected_total, verification_status, verification_diff,
    verification_detail, source, source_file, source_line, run_id, loaded_at)
SELECT
    concat(m, '-', toString(y), '-', toString(number)) AS id,
    arrayElement(['68001', '18001', '25151', '05001', '11001'], (number % 5) + 1) AS m,
    arrayElement(['predial', 'predial', 'predial', 'ica', 'reteica'], (intHash32(number) % 5) + 1) AS tax,
    toUInt16(2015 + number % 10) AS y,
    lower(hex(SHA256(toString(intHash64(number % {p:UInt64}))))) AS who,
    if(intHash32(number + 1) % 7 = 0, 'juridica', 'natural'),
    if(intHash32(number + 2) % 2 = 0, 'web', 'presencial'),
    toDate(concat(toString(y), '-01-15')),
    toDate(concat(toString(y), '-03-31')),
    toDecimal64(1000000 + intHash64(number) % 900000000, 2) AS base,
    '{}',
    toDecimal64(intHash64(number + 7) % 20000000, 2),
    toDecimal64(intHash64(number + 7) % 20000000, 2),
    arrayElement(['match', 'match', 'rounding', 'discrepancy', 'unverifiable'], (intHash32(number + 3) % 5) + 1),
    toDecimal64(0, 2), '', 'banco', 'banco.csv', number, 'banco-1', now()
FROM numbers({n:UInt64})`, warehouse.P("n", uint64(n)), warehouse.P("p", uint64(n/5)))
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	return e.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
		[][]any{{"banco-1", "banco", now, now, "committed", n, n, 0, 0, 0, ""}})
}

// KeepCacheDir restores datasets.CacheDir when t ends, for a test that
// points the file cache at folders of its own.
func KeepCacheDir(t testing.TB) {
	saved := datasets.CacheDir
	t.Cleanup(func() { datasets.CacheDir = saved })
}
