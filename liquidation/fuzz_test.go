package liquidation

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// checkInvariants asserts the properties every computed result must satisfy.
func checkInvariants(t *testing.T, r *Rules, req *Request, res *Result) {
	t.Helper()
	get := func(code string) decimal.Decimal {
		if l := res.Line(code); l != nil {
			return l.Value
		}
		return decimal.Zero
	}
	for _, l := range res.Lines {
		if l.Art577 && (!l.Value.IsInteger() || l.Value.Mod(thousand).Sign() != 0) {
			t.Fatalf("line %s = %s is covered by art. 577 but is not a multiple of 1,000", l.Code, l.Value)
		}
		if l.Value.Sign() < 0 {
			t.Fatalf("negative line %s = %s in %+v", l.Code, l.Value, res.Lines)
		}
		if l.Rule == "" || l.Article == "" || l.Label == "" {
			t.Fatalf("line %s without rule/article/label", l.Code)
		}
	}
	filed := req.FilingDate
	if filed.IsZero() {
		filed = req.PaymentDate
	}
	sanctionBound := func(tax, income, equity decimal.Decimal) decimal.Decimal {
		b := decimal.Zero
		round := func(v decimal.Decimal) decimal.Decimal { x, _ := r.nat.round577(v, filed); return x }
		b = maxDec(b, round(tax))                                                // art. 641: 100 % of the tax
		b = maxDec(b, round(pctOf(income, hundred.Div(decimal.NewFromInt(20))))) // 5 % of income
		b = maxDec(b, round(pctOf(equity, decimal.NewFromInt(10))))              // 10 % of equity
		if u, ok := r.nat.uvtFor(filed.Year()); ok {
			b = maxDec(b, round(u.Mul(decimal.NewFromInt(10)))) // art. 639 minimum
		}
		return b.Add(thousand) // tolerance for rounding of the bases
	}
	switch res.Tax {
	case TaxPredial:
		if get(PImpuesto).Cmp(get(PLiquidado)) > 0 {
			t.Fatalf("limited tax %s above liquidated %s", get(PImpuesto), get(PLiquidado))
		}
		want := get(PTotalImp).Sub(get(PDescuento)).Sub(get(PAlivio)).Add(get(PIntereses))
		if !want.Equal(res.Total) {
			t.Fatalf("predial total %s != %s", res.Total, want)
		}
	case TaxICA:
		if !get("35").Sub(get("36")).Add(get("37")).Equal(res.Total) {
			t.Fatalf("ICA renglón 38 %s != 35 - 36 + 37", res.Total)
		}
		if get("33").Sign() > 0 && get("34").Sign() > 0 {
			t.Fatal("saldo a cargo and saldo a favor both positive")
		}
		eq := decimal.Zero
		if req.ICA != nil && req.ICA.Sancion.PatrimonioLiquidoAnterior.Valid {
			eq = req.ICA.Sancion.PatrimonioLiquidoAnterior.Decimal
		}
		if s := get("31"); s.Cmp(sanctionBound(get("25"), get("10"), eq)) > 0 {
			t.Fatalf("sanction %s exceeds its caps", s)
		}
	case TaxReteICA:
		if !get(RCargo).Add(get(RSancion)).Add(get(RIntereses)).Equal(res.Total) {
			t.Fatalf("ReteICA total %s != R04 + R05 + R06", res.Total)
		}
		if s := get(RSancion); s.Cmp(sanctionBound(get(RCargo), get(RBase), decimal.Zero)) > 0 {
			t.Fatalf("sanction %s exceeds its caps", s)
		}
	}
}

func seedRequests(f *testing.F) {
	for _, p := range []string{"examples/*.jsonl"} {
		files, _ := filepath.Glob(p)
		for _, fn := range files {
			b, _ := os.ReadFile(fn)
			for _, line := range splitLines(b) {
				f.Add(line)
			}
		}
	}
	f.Add([]byte(`{"tax":"ica","municipality":"68001","year":2019,"payment_date":"2020-07-01","filing_date":"2020-07-01","ica":{"ingresos_totales":"0","actividades":[{"ciiu":"4711","ingresos":"0"}],"sancion":{"patrimonio_liquido_anterior":"50000000"}}}`))
	f.Add([]byte(`{"tax":"reteica","municipality":"18001","year":2025,"filing_date":"2025-12-01","payment_date":"2025-12-01","reteica":{"periodo":2,"pagos":[{"base":"1e7","ciiu":"5611","tipo":"servicios","fecha":"2025-02-03"}]}}`))
	f.Add([]byte(`{"tax":"predial","municipality":"68001","year":2024,"predial":{"avaluo":"0.000001","destino":"rural","impuesto_anterior":"0"},"payment_date":"2030-01-01"}`))
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// FuzzRequestJSON: no request JSON makes the core panic; computed results satisfy the
// invariants (art. 577 lines are multiples of 1,000, sanctions within their caps,
// totals add up).
func FuzzRequestJSON(f *testing.F) {
	seedRequests(f)
	r := MustEmbeddedRules()
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data)
		if err != nil {
			return
		}
		v := r.Verify(req)
		if v == nil || v.Status == "" {
			t.Fatal("Verify returned no status")
		}
		req.Explain = !req.Explain
		res, err := r.Liquidate(req)
		if err != nil {
			return
		}
		checkInvariants(t, r, req, res)
	})
}

// FuzzInterest: zero for zero (or negative) days, never negative, bounded by the
// highest rate of the table.
func FuzzInterest(f *testing.F) {
	f.Add(int64(1000000), 100, 30)
	f.Add(int64(5), 1500, 0)
	f.Add(int64(123456789), 2000, 400)
	r := MustEmbeddedRules()
	maxRate := decimal.Zero
	for _, p := range r.nat.usury {
		maxRate = maxDec(maxRate, p.net)
	}
	f.Fuzz(func(t *testing.T, capital int64, dueOff, days int) {
		if capital < 0 || dueOff < 0 || dueOff > 4000 || days > 5000 || days < -5000 {
			return
		}
		due := NewDate(2019, 1, 1).AddDays(dueOff)
		paid := due.AddDays(days)
		k := decimal.NewFromInt(capital)
		it := r.MoratoryInterest(k, due, paid, true)
		if days <= 0 && !it.Value.IsZero() {
			t.Fatalf("interest %s for %d days", it.Value, days)
		}
		if it.Value.Sign() < 0 {
			t.Fatal("negative interest")
		}
		bound := k.Mul(maxRate).Mul(decimal.NewFromInt(int64(max(days, 0)))).Div(decimal.NewFromInt(36600)).Add(decimal.New(1, -2))
		if it.Value.Cmp(bound) > 0 {
			t.Fatalf("interest %s above bound %s", it.Value, bound)
		}
	})
}

// FuzzLoadRules: no rules file makes the loader (or a liquidation with the loaded
// rules) panic.
func FuzzLoadRules(f *testing.F) {
	for _, fn := range []string{"testdata/rules/override/99999.yaml", "testdata/rules/override/national-2027.yaml"} {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Add([]byte("schema_version: 1\nkind: municipality\ndivipola: \"99999\"\nname: x\n"))
	f.Add([]byte("kind: national\nschema_version: 1\nuvt: [{year: 2030, value: 1e400, ref: {norm: a}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("slow input: %q", data))
			}
		}()
		r, err := ParseRules(map[string][]byte{"fuzz.yaml": data})
		if err != nil {
			return
		}
		for _, m := range r.Municipalities() {
			for _, tax := range []string{TaxPredial, TaxICA, TaxReteICA} {
				req := &Request{Tax: tax, Municipality: m.Code, Year: 2024, PaymentDate: NewDate(2025, 6, 1), FilingDate: NewDate(2025, 6, 1),
					Predial: &PredialInput{Avaluo: nd("123456789"), Destino: "habitacional", Estrato: 3, ImpuestoAnterior: nd("500000")},
					ICA:     &ICAInput{IngresosTotales: nd("1000000"), Actividades: []ICAActivity{{CIIU: "4711", Ingresos: nd("1000000")}}},
					ReteICA: &ReteICAInput{Periodo: 1, Pagos: []ReteICAPago{{Base: nd("5000000"), CIIU: "4711", Tipo: "compras", Fecha: NewDate(2024, 1, 5)}}}}
				_ = r.Verify(req)
			}
			if _, err := r.Calendar(m.Code, 2024); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestPropertiesRandom runs the invariants over many random, mostly valid requests.
func TestPropertiesRandom(t *testing.T) {
	r := MustEmbeddedRules()
	rng := rand.New(rand.NewSource(20260101))
	munis := []string{"68001", "18001", "25151"}
	destinos := []string{"habitacional", "comercial", "industrial", "financiero", "lote_urbanizable_no_urbanizado", "rural"}
	acts := map[string][]string{"68001": {"1011", "4711", "6201", "6910"}, "18001": {"4711", "5611", "8621"}, "25151": {"0141", "4711", "5611"}}
	n := 0
	for i := 0; i < 3000; i++ {
		m := munis[rng.Intn(3)]
		year := 2019 + rng.Intn(7)
		d := func(lo, hi int) Date { return NewDate(year, 1, 1).AddDays(lo + rng.Intn(hi-lo)) }
		req := &Request{Municipality: m, Year: year, Explain: rng.Intn(2) == 0}
		switch rng.Intn(3) {
		case 0:
			req.Tax = TaxPredial
			req.Predial = &PredialInput{Avaluo: nd(fmt.Sprint(rng.Int63n(2_000_000_000))), Destino: destinos[rng.Intn(len(destinos))],
				Estrato: 1 + rng.Intn(6), ImpuestoAnterior: nd(fmt.Sprint(rng.Int63n(20_000_000))), ActualizacionCatastral: rng.Intn(2) == 0,
				FormacionCatastral: rng.Intn(4) == 0}
			req.PaymentDate = d(0, 500)
		case 1:
			req.Tax = TaxICA
			a := acts[m]
			x, y := rng.Int63n(1_000_000_000), rng.Int63n(1_000_000_000)
			req.ICA = &ICAInput{IngresosTotales: nd(fmt.Sprint(x + y + 12345)), IngresosFuera: nd("12345"),
				Actividades: []ICAActivity{{CIIU: a[rng.Intn(len(a))], Ingresos: nd(fmt.Sprint(x))}, {CIIU: a[rng.Intn(len(a))], Ingresos: nd(fmt.Sprint(y))}},
				Retenciones: nd(fmt.Sprint(rng.Int63n(5_000_000))), SaldoFavorAnterior: nd(fmt.Sprint(rng.Int63n(3_000_000)))}
			req.FilingDate = d(365, 900)
			req.PaymentDate = req.FilingDate.AddDays(rng.Intn(60))
		case 2:
			req.Tax = TaxReteICA
			per := 1
			if year >= 2019 {
				req.ReteICA = &ReteICAInput{Periodo: per, Pagos: []ReteICAPago{
					{Base: nd(fmt.Sprint(rng.Int63n(20_000_000))), CIIU: "4711", Tipo: "compras", Fecha: NewDate(year, 1, 1+rng.Intn(28))}}}
			}
			req.FilingDate = NewDate(year, 2, 1).AddDays(rng.Intn(200))
			req.PaymentDate = req.FilingDate
		}
		res, err := r.Liquidate(req)
		if err != nil {
			continue // e.g. no tariff for that destino/estrato
		}
		n++
		checkInvariants(t, r, req, res)
	}
	if n < 1500 {
		t.Fatalf("only %d random requests were computable", n)
	}
}
