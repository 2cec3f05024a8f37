// Package dashtest loads small, hand-checkable data sets for the tests of
// the dashboards (query tests on both engines, browser tests, the XSS
// test). It writes the warehouse tables directly, as the ETL would, with
// the run log saying which runs committed.
package dashtest

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Evil strings: markup that would run if a page copied it into a script or
// into HTML, and a go-echarts "__f__" function string.
const (
	EvilScript   = `</script><script>window.__xss=1</script>`
	EvilFunction = `__f__function(){window.__xss=2}__f__`
	EvilImg      = `<img src=x onerror="window.__xss=3">`
	Evil         = EvilScript + EvilFunction + EvilImg
	// EvilCode is the DIVIPOLA code given to the evil municipality.
	EvilCode = "99998"
)

// The figures of Bucaramanga's 2020 ICT report (seed 001) for the third
// quarter of 2020, which the fixture reproduces row by row.
const (
	Bucaramanga         = "68001"
	Q3ElectronicICA     = 1727
	Q3ElectronicPredial = 2960
	Q3ElectronicReteICA = 1576
	Q3Electronic        = Q3ElectronicICA + Q3ElectronicPredial + Q3ElectronicReteICA // 6,263
	Q3OnlineICA         = 250
	Q3OnlineReteICA     = 5388
	Q3Online            = Q3OnlineICA + Q3OnlineReteICA // 5,638
	Q3InPersonPayments  = 700                           // banco 400 + presencial 300, all predial
	Q3InPersonICAFiled  = 40
	// Predial 2020 of Bucaramanga: PredialBills bills of PredialBill pesos,
	// Q3ElectronicPredial + Q3InPersonPayments of them paid in full.
	PredialBills = 4000
)

var (
	PredialBill = decimal.NewFromInt(150000)
	ICABill     = decimal.NewFromInt(200000)
	ReteICABill = decimal.NewFromInt(50000)
)

// Options choose what Load writes.
type Options struct {
	// Evil adds a municipality, a budget line, GEL phases, an ETL job and
	// a tax code whose names carry Evil.
	Evil bool
	// Now is the load time.
	Now time.Time
}

// RunID is the committed run of the fixture; UncommittedRunID's rows must
// never show.
const (
	RunID            = "fx-committed"
	UncommittedRunID = "fx-running"
)

var (
	liqCols = []string{"liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym", "taxpayer_kind",
		"filing_channel", "issue_date", "due_date", "base_amount", "inputs", "billed_total", "expected_total",
		"verification_status", "verification_diff", "verification_detail", "source", "source_file", "source_line", "run_id", "loaded_at"}
	payCols = []string{"payment_id", "liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym",
		"paid_at", "paid_date", "amount", "channel", "source", "source_file", "source_line", "run_id", "loaded_at"}
)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

type loader struct {
	liqs, pays [][]any
	now        time.Time
}

func (l *loader) liq(id, muni, tax string, year int, who, channel string, issue, due time.Time, billed, expected decimal.Decimal, status, run string) {
	l.liqs = append(l.liqs, []any{id, muni, tax, year, who, "natural", channel, issue, due, billed, "{}", billed, expected,
		status, billed.Sub(expected), "", "fixture", "fixture.csv", len(l.liqs) + 1, run, l.now})
}

func (l *loader) pay(id, liq, muni, tax string, year int, who string, at time.Time, amount decimal.Decimal, channel, run string) {
	l.pays = append(l.pays, []any{id, liq, muni, tax, year, who, at, at, amount, channel, "fixture", "fixture.csv", len(l.pays) + 1, run, l.now})
}

// Load writes the fixture. DIVIPOLA entities are seeded when missing.
func Load(ctx context.Context, eng warehouse.Engine, o Options) error {
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	}
	if _, err := warehouse.SeedEntities(ctx, eng); err != nil {
		return err
	}
	l := &loader{now: o.Now.Truncate(time.Second)}
	electronic := []string{"web", "pse", "pse", "tarjeta"}

	// Bucaramanga, predial 2020: bills due 31 March, paid in Q3.
	predialPaid := 0
	for i := 0; i < PredialBills; i++ {
		id := fmt.Sprintf("68001-P2020-%05d", i)
		who := fmt.Sprintf("bga-predial-%05d", i)
		status := "match"
		expected := PredialBill
		switch {
		case i%100 == 0: // 40 bills charged 1,000 above the rules
			status, expected = "discrepancy", PredialBill.Sub(decimal.NewFromInt(1000))
		case i%100 == 1: // 40 bills charged 3,000 below
			status, expected = "discrepancy", PredialBill.Add(decimal.NewFromInt(3000))
		case i%100 == 2:
			status = "rounding"
		case i%4 == 3:
			status = "pending"
		}
		l.liq(id, Bucaramanga, "predial", 2020, who, "presencial", d(2020, 1, 15), d(2020, 3, 31), PredialBill, expected, status, RunID)
		if predialPaid < Q3ElectronicPredial+Q3InPersonPayments {
			ch := electronic[i%len(electronic)]
			if predialPaid >= Q3ElectronicPredial {
				ch = "banco"
				if predialPaid >= Q3ElectronicPredial+400 {
					ch = "presencial"
				}
			}
			at := d(2020, 7, 1).Add(time.Duration(predialPaid%92) * 24 * time.Hour).Add(10 * time.Hour)
			l.pay("P"+id, id, Bucaramanga, "predial", 2020, who, at, PredialBill, ch, RunID)
			predialPaid++
		}
	}
	// Bucaramanga, ICA and ReteICA 2020 declarations filed in Q3, and their
	// electronic payments.
	for i := 0; i < Q3OnlineICA+Q3InPersonICAFiled+Q3ElectronicICA; i++ {
		id := fmt.Sprintf("68001-I2020-%05d", i)
		who := fmt.Sprintf("bga-ica-%05d", i)
		ch, issue := "web", d(2020, 8, 1+i%28)
		if i >= Q3OnlineICA && i < Q3OnlineICA+Q3InPersonICAFiled {
			ch = "presencial"
		} else if i >= Q3OnlineICA+Q3InPersonICAFiled {
			issue = d(2020, 3, 1+i%28) // filed earlier (Q1), paid in Q3
		}
		l.liq(id, Bucaramanga, "ica", 2020, who, ch, issue, d(2020, 9, 30), ICABill, ICABill, "match", RunID)
		if i < Q3ElectronicICA {
			l.pay("P"+id, id, Bucaramanga, "ica", 2020, who, d(2020, 9, 1+i%30).Add(9*time.Hour), ICABill, electronic[i%4], RunID)
		}
	}
	for i := 0; i < Q3OnlineReteICA; i++ {
		id := fmt.Sprintf("68001-R2020-%05d", i)
		who := fmt.Sprintf("bga-reteica-%05d", i%900) // agents file several periods
		l.liq(id, Bucaramanga, "reteica", 2020, who, "web", d(2020, 7, 1+i%31), d(2020, 7, 1+i%31).AddDate(0, 0, 10), ReteICABill, ReteICABill, "pending", RunID)
		if i < Q3ElectronicReteICA {
			l.pay("P"+id, id, Bucaramanga, "reteica", 2020, who, d(2020, 7, 1+i%31).Add(15*time.Hour), ReteICABill, electronic[i%4], RunID)
		}
	}
	// Cáqueza: three taxpayers only, so its amounts are withheld (k = 5)
	// while its counts are published.
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("25151-P2021-%02d", i)
		who := fmt.Sprintf("caq-%d", i%3)
		l.liq(id, "25151", "predial", 2021, who, "presencial", d(2021, 1, 15), d(2021, 3, 31), PredialBill, PredialBill, "match", RunID)
		l.pay("P"+id, id, "25151", "predial", 2021, who, d(2021, 3, 1).Add(10*time.Hour), PredialBill, "presencial", RunID)
	}
	// Florencia: predial 2020, 10 taxpayers, to compare with its FUT
	// budget.
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("18001-P2020-%02d", i)
		who := fmt.Sprintf("flo-%d", i)
		l.liq(id, "18001", "predial", 2020, who, "presencial", d(2020, 1, 15), d(2020, 3, 31), decimal.NewFromInt(1000000), decimal.NewFromInt(1000000), "match", RunID)
		l.pay("P"+id, id, "18001", "predial", 2020, who, d(2020, 3, 10).Add(11*time.Hour), decimal.NewFromInt(1000000), "pse", RunID)
	}
	// Rows of a run that has not committed: never shown.
	for i := 0; i < 7; i++ {
		id := fmt.Sprintf("68001-X2020-%02d", i)
		l.liq(id, Bucaramanga, "predial", 2020, fmt.Sprintf("x-%d", i), "web", d(2020, 1, 15), d(2020, 3, 31), decimal.NewFromInt(999999999), decimal.NewFromInt(999999999), "match", UncommittedRunID)
		l.pay("P"+id, id, Bucaramanga, "predial", 2020, fmt.Sprintf("x-%d", i), d(2020, 8, 1), decimal.NewFromInt(999999999), "web", UncommittedRunID)
	}
	runs := [][]any{
		{RunID, "fixture", o.Now.Add(-2 * time.Hour), o.Now.Add(-time.Hour), "committed", 100, 95, 5, 0, 0, ""},
		{UncommittedRunID, "fixture", o.Now.Add(-30 * time.Minute), o.Now.Add(-30 * time.Minute), "running", 0, 0, 0, 0, 0, ""},
		{"fx-failed", "fut", o.Now.Add(-3 * time.Hour), o.Now.Add(-3 * time.Hour), "failed", 10, 0, 0, 0, 0, "archivo ilegible"},
	}
	gel := [][]any{}
	addGEL := func(entity, phase string, on time.Time, values ...int) {
		for i, v := range values {
			gel = append(gel, []any{"gel2008", phase, fmt.Sprintf("criterio %d", i+1), entity, on, decimal.NewFromInt(int64(v)), "", 0, "fixture", "gel.csv", len(gel) + 1, RunID, l.now})
		}
	}
	// Cáqueza, August 2009 (seed 004): Información 90 %, Interacción 70 %,
	// Transacción 5 %, Transformación 0 %, Democracia 0 %; and Información
	// at 100 % in March 2010, after its deadline.
	addGEL("25151", "Información", d(2009, 8, 1), 100, 100, 70, 90)
	addGEL("25151", "Interacción", d(2009, 8, 1), 70, 70)
	addGEL("25151", "Transacción", d(2009, 8, 1), 10, 0)
	addGEL("25151", "Transformación", d(2009, 8, 1), 0)
	addGEL("25151", "Democracia en línea", d(2009, 8, 1), 0)
	addGEL("25151", "Información", d(2010, 3, 1), 100, 100, 100, 100)
	// Bucaramanga met Información on time.
	addGEL(Bucaramanga, "Información", d(2008, 10, 1), 100, 100)
	addGEL(Bucaramanga, "Interacción", d(2008, 10, 1), 50, 30)
	budget := [][]any{
		{"18", "18001", "Florencia", "IMPUESTO PREDIAL UNIFICADO", 2020, decimal.NewFromInt(20000000), decimal.Zero, "fixture", "fut.csv", 1, RunID, l.now},
		{"18", "18001", "Florencia", "IMPUESTO DE INDUSTRIA Y COMERCIO", 2020, decimal.NewFromInt(5000000), decimal.Zero, "fixture", "fut.csv", 2, RunID, l.now},
		{"18", "18001", "Florencia", "SGP", 2020, decimal.NewFromInt(900000000), decimal.Zero, "fixture", "fut.csv", 3, RunID, l.now},
	}
	if o.Evil {
		if err := eng.Insert(ctx, "entities", []string{"code", "department_code", "department_name", "name", "kind", "updated_at"},
			[][]any{{EvilCode, "99", "DEPTO " + Evil, "MUNI " + Evil, "Municipio", l.now}}); err != nil {
			return err
		}
		for i := 0; i < 8; i++ {
			id := fmt.Sprintf("%s-E-%02d", EvilCode, i)
			who := fmt.Sprintf("evil-%d", i)
			tax := "predial"
			if i%2 == 1 {
				tax = "impuesto " + Evil
			}
			l.liq(id, EvilCode, tax, 2020, who, "web", d(2020, 8, 1), d(2020, 9, 1), decimal.NewFromInt(100000), decimal.NewFromInt(90000), "discrepancy", RunID)
			l.pay("P"+id, id, EvilCode, tax, 2020, who, d(2020, 8, 20), decimal.NewFromInt(50000), "canal "+Evil, RunID)
		}
		addGEL(EvilCode, "Fase "+Evil, d(2010, 1, 1), 40)
		addGEL(EvilCode, "Información", d(2010, 1, 1), 80)
		budget = append(budget, []any{"99", EvilCode, "ENTIDAD " + Evil, "IMPUESTO PREDIAL UNIFICADO " + Evil, 2020, decimal.NewFromInt(300000), decimal.Zero, "fixture", "fut.csv", 9, RunID, l.now})
		runs = append(runs, []any{"fx-evil", "trabajo " + Evil, o.Now.Add(-4 * time.Hour), o.Now.Add(-4 * time.Hour), "failed", 1, 0, 1, 0, 0, "error " + Evil})
	}
	if err := insertBatches(ctx, eng, "liquidations", liqCols, l.liqs); err != nil {
		return err
	}
	if err := insertBatches(ctx, eng, "payments", payCols, l.pays); err != nil {
		return err
	}
	if err := eng.Insert(ctx, "gel_measurements", []string{"framework", "phase", "criterion", "entity_code", "measured_on", "value", "evidence_url", "synthetic", "source", "source_file", "source_line", "run_id", "loaded_at"}, gel); err != nil {
		return err
	}
	if err := eng.Insert(ctx, "budget_lines", []string{"department_code", "entity_code", "entity_name", "rubro", "year", "budget_final", "budget_constant_2025", "source", "source_file", "source_line", "run_id", "loaded_at"}, budget); err != nil {
		return err
	}
	return eng.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"}, runs)
}

func insertBatches(ctx context.Context, eng warehouse.Engine, table string, cols []string, rows [][]any) error {
	const batch = 20000
	for i := 0; i < len(rows); i += batch {
		j := min(i+batch, len(rows))
		if err := eng.Insert(ctx, table, cols, rows[i:j]); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}
