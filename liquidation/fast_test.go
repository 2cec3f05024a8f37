package liquidation

import (
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
