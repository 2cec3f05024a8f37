package liquidation

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
)

// benchPredial builds n varied predial requests (Bucaramanga 2024: tariff bands,
// Ley 1995 limits, discounts and late interest all exercised).
func benchPredial(n int, declared bool) []*Request {
	rng := rand.New(rand.NewSource(1))
	dest := []string{"habitacional", "habitacional", "habitacional", "comercial", "industrial"}
	out := make([]*Request, n)
	for i := range out {
		av := 20_000_000 + rng.Int63n(400_000_000)
		req := &Request{Tax: TaxPredial, Municipality: "68001", Year: 2024,
			Predial: &PredialInput{Avaluo: nd(fmt.Sprint(av)), Destino: dest[rng.Intn(len(dest))], Estrato: 1 + rng.Intn(6),
				ImpuestoAnterior: nd(fmt.Sprint(av * 6 / 1000)), ActualizacionCatastral: rng.Intn(2) == 0},
			PaymentDate: NewDate(2024, 1, 15).AddDays(rng.Intn(300))}
		if declared {
			req.Declared = map[string]decimal.Decimal{PImpuesto: mustDec(fmt.Sprint(av * 6 / 1000))}
			req.DeclaredTotal = nd(fmt.Sprint(av * 7 / 1000))
		}
		out[i] = req
	}
	return out
}

func benchICA(n int) []*Request {
	rng := rand.New(rand.NewSource(2))
	acts := []string{"1011", "1081", "4711", "4771", "5611", "6201", "6910"}
	out := make([]*Request, n)
	for i := range out {
		x, y := rng.Int63n(2_000_000_000), rng.Int63n(500_000_000)
		out[i] = &Request{Tax: TaxICA, Municipality: "68001", Year: 2023,
			ICA: &ICAInput{IngresosTotales: nd(fmt.Sprint(x + y + 1_000_000)), IngresosFuera: nd("1000000"),
				Actividades: []ICAActivity{{CIIU: acts[rng.Intn(len(acts))], Ingresos: nd(fmt.Sprint(x))}, {CIIU: acts[rng.Intn(len(acts))], Ingresos: nd(fmt.Sprint(y))}},
				Retenciones: nd(fmt.Sprint(rng.Int63n(3_000_000)))},
			FilingDate: NewDate(2024, 3, 1).AddDays(rng.Intn(120))}
		out[i].PaymentDate = out[i].FilingDate
	}
	return out
}

func runParallel(b *testing.B, reqs []*Request, f func(*Request)) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.Intn(len(reqs))
		for pb.Next() {
			f(reqs[i&(len(reqs)-1)])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "liq/s")
}

// BenchmarkPredialLiquidate: recomputation throughput of predial liquidations on all
// cores (GOMAXPROCS goroutines), no explanation parameters.
func BenchmarkPredialLiquidate(b *testing.B) {
	r := MustEmbeddedRules()
	reqs := benchPredial(1024, false)
	runParallel(b, reqs, func(q *Request) {
		if _, err := r.Liquidate(q); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkPredialVerify: the ETL path (recompute + classify one line and the total).
func BenchmarkPredialVerify(b *testing.B) {
	r := MustEmbeddedRules()
	reqs := benchPredial(1024, true)
	runParallel(b, reqs, func(q *Request) { _ = r.Verify(q) })
}

// BenchmarkPredialLiquidateExplain: the same with --explain parameters.
func BenchmarkPredialLiquidateExplain(b *testing.B) {
	r := MustEmbeddedRules()
	reqs := benchPredial(1024, false)
	for _, q := range reqs {
		q.Explain = true
	}
	runParallel(b, reqs, func(q *Request) { _, _ = r.Liquidate(q) })
}

// BenchmarkICALiquidate: ICA declarations with two activities, sanctions and interest.
func BenchmarkICALiquidate(b *testing.B) {
	r := MustEmbeddedRules()
	reqs := benchICA(1024)
	runParallel(b, reqs, func(q *Request) {
		if _, err := r.Liquidate(q); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkCLIPredialJSON: JSON line in, JSON line out (decode + liquidate + encode).
func BenchmarkCLIPredialJSON(b *testing.B) {
	r := MustEmbeddedRules()
	reqs := benchPredial(1024, false)
	lines := make([][]byte, len(reqs))
	for i, q := range reqs {
		lines[i], _ = json.Marshal(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		enc := json.NewEncoder(io.Discard)
		i := 0
		for pb.Next() {
			q, err := DecodeRequest(lines[i&1023])
			if err != nil {
				b.Fatal(err)
			}
			res, _ := r.Liquidate(q)
			_ = enc.Encode(res)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "liq/s")
}
