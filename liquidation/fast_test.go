package liquidation

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
)

// TestFastPathMatchesDecimalEngine: the int64 fast path and the decimal engine agree
// on every line, on presence of lines and on verification statuses and differences.
func TestFastPathMatchesDecimalEngine(t *testing.T) {
	r := MustEmbeddedRules()
	rng := rand.New(rand.NewSource(7))
	munis := []string{"68001", "18001", "25151"}
	destinos := []string{"habitacional", "comercial", "industrial", "lote_urbanizable_no_urbanizado", "rural"}
	fast := 0
	for i := 0; i < 5000; i++ {
		year := 2019 + rng.Intn(8)
		av := fmt.Sprintf("%d.%02d", rng.Int63n(3_000_000_000), rng.Intn(100))
		req := &Request{Tax: TaxPredial, Municipality: munis[rng.Intn(3)], Year: year,
			Predial: &PredialInput{Avaluo: nd(av), Destino: destinos[rng.Intn(len(destinos))], Estrato: rng.Intn(7),
				ActualizacionCatastral: rng.Intn(2) == 0, FormacionCatastral: rng.Intn(5) == 0, CambioArea: rng.Intn(10) == 0}}
		if rng.Intn(5) > 0 {
			req.Predial.ImpuestoAnterior = nd(fmt.Sprint(rng.Int63n(30_000_000)))
		}
		if rng.Intn(4) > 0 {
			req.PaymentDate = NewDate(year, 1, 1).AddDays(rng.Intn(600))
		}
		m := r.munis[req.Municipality]
		var fp fastPredial
		ok := r.predialFast(req, m, &fp)
		res, err := r.Liquidate(req)
		if !ok {
			continue
		}
		if err != nil {
			t.Fatalf("fast path succeeded where the decimal engine failed: %v (%+v)", err, req.Predial)
		}
		fast++
		for _, code := range []string{PAvaluo, PLiquidado, PTope, PImpuesto, PAmbiental, PBomberil, PTotalImp, PDescuento, PAlivio, PIntereses, PTotalPagar} {
			l := res.Line(code)
			v, present := fp.line(code)
			if (l != nil) != present {
				t.Fatalf("line %s presence differs (decimal %v, fast %v) for %+v", code, l != nil, present, req.Predial)
			}
			if l != nil && !l.Value.Equal(fromMicro(v)) {
				t.Fatalf("line %s: decimal %s != fast %s for %+v paid %s", code, l.Value, fromMicro(v), req.Predial, req.PaymentDate)
			}
		}
		// verification: declared values near the expected ones
		exp := res.Line(PImpuesto).Value
		req.Declared = map[string]decimal.Decimal{PImpuesto: exp.Add(mustDec(fmt.Sprint(rng.Intn(3000) - 1500))), PLiquidado: res.Line(PLiquidado).Value.Round(-3)}
		req.DeclaredTotal = nd(res.Total.Round(-3).String())
		vf := r.Verify(req)
		req.Explain = true
		vs := r.Verify(req)
		if vf.Status != vs.Status || vf.Total.Status != vs.Total.Status || !vf.Total.Difference.Equal(vs.Total.Difference) {
			t.Fatalf("verify differs: fast %+v slow %+v", vf.Total, vs.Total)
		}
		for k := range vf.Lines {
			if vf.Lines[k].Status != vs.Lines[k].Status || !vf.Lines[k].Difference.Equal(vs.Lines[k].Difference) || !vf.Lines[k].Expected.Equal(vs.Lines[k].Expected) {
				t.Fatalf("verify line differs: fast %+v slow %+v", vf.Lines[k], vs.Lines[k])
			}
		}
	}
	if fast < 2000 {
		t.Fatalf("fast path taken only %d times", fast)
	}
	t.Logf("fast path taken for %d requests", fast)
}

// TestVerifierMatchesVerify: a Verifier's verdicts, over a run of
// requests with and without lines and totals, some of them for the
// general path, are Rules.Verify's; nothing of one verdict shows in the
// next, and the reused verdict allocates less.
func TestVerifierMatchesVerify(t *testing.T) {
	r := MustEmbeddedRules()
	vr := r.Verifier()
	rng := rand.New(rand.NewSource(11))
	general := 0
	for i := 0; i < 3000; i++ {
		year := 2019 + rng.Intn(8)
		req := &Request{ID: fmt.Sprint("L-", i), Tax: TaxPredial, Municipality: []string{"68001", "18001", "25151"}[rng.Intn(3)], Year: year,
			Predial: &PredialInput{Avaluo: nd(fmt.Sprint(rng.Int63n(2_000_000_000))), Destino: "habitacional", Estrato: 1 + rng.Intn(6)}}
		switch rng.Intn(6) {
		case 0:
			req.Explain = true // the general path
		case 1:
			req.Municipality = "99999" // no rules: unverifiable, general path
		}
		res, err := r.Liquidate(&Request{Tax: req.Tax, Municipality: "68001", Year: year, Predial: req.Predial})
		if err != nil {
			t.Fatal(err)
		}
		if rng.Intn(2) == 0 {
			req.Declared = map[string]decimal.Decimal{PImpuesto: res.Line(PImpuesto).Value.Add(decimal.NewFromInt(int64(rng.Intn(3000) - 1500)))}
			if rng.Intn(2) == 0 {
				req.Declared[PLiquidado] = res.Line(PLiquidado).Value
			}
		}
		if rng.Intn(3) > 0 {
			req.DeclaredTotal = nd(res.Total.Add(decimal.NewFromInt(int64(rng.Intn(5000)))).String())
		}
		want, _ := json.Marshal(r.Verify(req))
		got, _ := json.Marshal(vr.Verify(req))
		if string(got) != string(want) {
			t.Fatalf("request %d: Verifier %s\nVerify %s", i, got, want)
		}
		if req.Explain || req.Municipality == "99999" {
			general++
		}
	}
	if general == 0 {
		t.Fatal("no request took the general path")
	}
	req := &Request{Tax: TaxPredial, Municipality: "68001", Year: 2025,
		Predial:  &PredialInput{Avaluo: nd("150000000"), Destino: "habitacional", Estrato: 3},
		Declared: map[string]decimal.Decimal{PImpuesto: mustDec("900000")}, DeclaredTotal: nd("1000000")}
	fresh := testing.AllocsPerRun(200, func() { r.Verify(req) })
	reused := testing.AllocsPerRun(200, func() { vr.Verify(req) })
	if reused > fresh-3 {
		t.Errorf("allocations per verdict: %v reused, %v fresh; the verdict, its lines and its total should not be allocated", reused, fresh)
	}
	t.Logf("allocations per verdict: %v reused, %v fresh", reused, fresh)
}
